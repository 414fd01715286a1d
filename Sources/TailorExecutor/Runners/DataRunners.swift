import Foundation
import TailorEngine
import TailorPlan
import TailorRuntime

/// data.generate and data.split.
enum DataRunners {
    static func generate(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(DataGenerateParameters.self)
        guard Generators.implemented.contains(p.generator) else { throw ExecutionError.generatorNotYet(p.generator) }
        let data = try Generators.make(p.generator, count: p.count, options: p.options, seed: ctx.seed)
        try data.write(ctx.out("data.jsonl"))
    }

    /// Shuffles with the seed, then cuts at the cumulative fractions, in port-name order (so
    /// reordering the keys in the spec, which changes no content key, changes no output).
    static func split(_ ctx: NodeContext) throws {
        let data = try ctx.dataset(try ctx.input(.source))
        let n = data.count
        let parts = try ctx.parameters(DataSplitParameters.self).parts
        let order = Philox.permutation(n, seed: ctx.seed)
        let total = parts.reduce(0.0) { $0 + $1.fraction }
        var start = 0, cumulative = 0.0
        for (i, (port, fraction)) in parts.enumerated() {
            cumulative += fraction
            let end = i == parts.count - 1 ? n : Int((cumulative / total * Double(n)).rounded())
            let rows = order[start..<Swift.max(start, end)].map { data.records[$0] }
            if rows.isEmpty { throw ExecutionError.emptySplit(port, records: n) }
            try Dataset(records: Array(rows)).write(ctx.out(port + ".jsonl"))
            start = Swift.max(start, end)
        }
    }
}

extension DataRunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.dataGenerate: generate, .dataSplit: split]

    static func refusal(_ node: PlanNode) -> String? {
        guard node.kind == .dataGenerate, let g = (try? DataGenerateParameters(plan: node.params))?.generator,
              !Generators.implemented.contains(g) else { return nil }
        return "the '\(g)' generator is not yet executable"
    }
}
