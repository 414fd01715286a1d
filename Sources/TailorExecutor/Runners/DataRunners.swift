import Foundation
import TailorData
import TailorEngine
import TailorPlan
import TailorRuntime

/// data.generate and data.split.
enum DataRunners {
    static func generate(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(DataGenerateParameters.self)
        let records: [[String: Any]]
        if p.generator == "questions" {
            let documents = try ctx.input(.documents)
            records = Generators.questions(count: p.count, documents: try ctx.dataset(documents).records, seed: ctx.seed)
            guard !records.isEmpty || p.count == 0 else { throw ExecutionError.noFacts(documents.input.display) }
        } else {
            guard Generators.implemented.contains(p.generator) else { throw ExecutionError.generatorNotYet(p.generator) }
            records = Generators.make(p.generator, count: p.count, options: p.options, seed: ctx.seed)
        }
        try Dataset(records: records).write(ctx.out("data.jsonl"))
    }

    /// Splits by problem: records with the same problem (the same prompt, or the same text
    /// where there is no prompt) always land in the same part, so a held-out part never asks
    /// what training has seen. The problems are shuffled with the seed and taken in turn into
    /// each part until it holds its cumulative fraction of the records, in port-name order (so
    /// reordering the keys in the spec, which changes no content key, changes no output). With
    /// every problem distinct, this is a seeded shuffle cut at the fractions.
    static func split(_ ctx: NodeContext) throws {
        let data = try ctx.dataset(try ctx.input(.source))
        let n = data.count
        let parts = try ctx.parameters(DataSplitParameters.self).parts
        var groups: [[Int]] = [], groupOf: [String: Int] = [:]
        for (i, record) in data.records.enumerated() {
            let key = problem(record)
            if let g = groupOf[key] { groups[g].append(i) } else {
                groupOf[key] = groups.count
                groups.append([i])
            }
        }
        let order = Philox.permutation(groups.count, seed: ctx.seed)
        let total = parts.reduce(0.0) { $0 + $1.fraction }
        var next = 0, taken = 0, cumulative = 0.0
        for (i, (port, fraction)) in parts.enumerated() {
            cumulative += fraction
            let target = i == parts.count - 1 ? n : Int((cumulative / total * Double(n)).rounded())
            var rows: [[String: Any]] = []
            // Each part takes at least one problem while any are left, then fills to its share.
            while next < order.count, taken < target || rows.isEmpty {
                rows += groups[order[next]].map { data.records[$0] }
                taken += groups[order[next]].count
                next += 1
            }
            if rows.isEmpty { throw ExecutionError.emptySplit(port, records: n, problems: groups.count) }
            try Dataset(records: rows).write(ctx.out(port + ".jsonl"))
        }
    }

    /// What makes two records the same problem: the prompt; a chat's turns before its last
    /// answer; a query's question; or the whole text where there is nothing else.
    static func problem(_ record: [String: Any]) -> String {
        if let turns = record["messages"] as? [[String: Any]] {
            let asked = turns.last?["role"] as? String == "assistant" ? Array(turns.dropLast()) : turns
            return RecordText.turns(asked)
        }
        if let question = record["question"] as? String { return question }
        guard let (context, answer) = RecordText.parts(record) else {
            var out = ""
            JSONText.compact(record, into: &out)
            return out
        }
        return context.isEmpty ? answer : context
    }
}

extension DataRunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.dataGenerate: generate, .dataSplit: split]

    static func refusal(_ node: PlanNode) -> String? {
        guard node.kind == .dataGenerate, let g = (try? DataGenerateParameters(plan: node.params))?.generator,
              !Generators.implemented.contains(g), !Generators.reading.contains(g) else { return nil }
        return "the '\(g)' generator is not yet executable"
    }
}
