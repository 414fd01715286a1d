/// Merges the plans of a sweep's variants into one graph. A node whose id has the
/// same key in every variant is shared; the others are suffixed with their variant
/// (`model.tuned[rank=4]`). Identical keys collapse, so a variant that differs only
/// downstream reuses every upstream node.
enum SweepMerge {
    static func merge(_ variants: [(label: String?, nodes: [PlanNode])]) -> [PlanNode] {
        var keysByID: [String: Set<String>] = [:]
        for (_, nodes) in variants {
            for n in nodes { keysByID[n.id, default: []].insert(n.key) }
        }
        var merged: [PlanNode] = []
        var position: [String: Int] = [:]
        var users: [Int: [String]] = [:]
        for (label, nodes) in variants {
            let tag = label ?? ""
            var rename: [String: String] = [:]
            for var n in nodes {
                let shared = keysByID[n.id]!.count == 1
                let id = shared ? n.id : "\(n.id)[\(tag)]"
                rename[n.id] = id
                if let i = position[id] {
                    users[i, default: []].append(tag)
                    continue
                }
                n.id = id
                n.inputs = n.inputs.map { PlanInput(node: rename[$0.node] ?? $0.node, port: $0.port) }
                position[id] = merged.count
                users[merged.count] = [tag]
                merged.append(n)
            }
        }
        let total = variants.count
        for (i, u) in users where u.count < total { merged[i].variants = u }
        return merged
    }
}
