import Foundation
import TailorPlan
import TailorRuntime

/// data.generate and data.split.
enum DataRunners {
    static func generate(_ ctx: NodeContext) throws {
        let name = try ctx.params.required("generator", \.string)
        guard Generators.implemented.contains(name) else { throw ExecutionError.generatorNotYet(name) }
        var options: [String: Int] = [:]
        for (key, value) in ctx.params["options"]?.entries ?? [] { if let v = value.int { options[key] = v } }
        let data = try Generators.make(name, count: try ctx.params.required("count", \.int), options: options, seed: ctx.seed)
        try data.write(ctx.out("data.jsonl"))
    }

    /// Shuffles with the seed, then cuts at the cumulative fractions, in port-name order (so
    /// reordering the keys in the spec, which changes no content key, changes no output).
    static func split(_ ctx: NodeContext) throws {
        let data = try ctx.dataset(try ctx.input(.source))
        let n = data.count
        let order = Philox.permutation(n, seed: ctx.seed)
        let parts = (ctx.params["split"]?.entries ?? []).sorted { $0.0 < $1.0 }
        let total = parts.reduce(0.0) { $0 + ($1.1.number ?? 0) }
        var start = 0, cumulative = 0.0
        for (i, (port, fraction)) in parts.enumerated() {
            cumulative += fraction.number ?? 0
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
}
