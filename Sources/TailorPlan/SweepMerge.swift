/// Merges the plans of a sweep's variants into one graph. A node with the same key
/// in every variant keeps its id; a node that differs gets one copy per distinct key,
/// suffixed with the sweep values that copy depends on (`data.sums[count=100]`,
/// `model.tuned[count=100,rank=4]`). Equal keys always collapse into one node, so no
/// work is planned twice.
enum SweepMerge {
    typealias Variant = (assignments: [(name: String, value: String)], nodes: [PlanNode])

    static func merge(_ variants: [Variant]) -> [PlanNode] {
        // Which variants produce each (id, key).
        var users: [String: [String: [Int]]] = [:]
        for (v, variant) in variants.enumerated() {
            for n in variant.nodes { users[n.id, default: [:]][n.key, default: []].append(v) }
        }
        var merged: [PlanNode] = []
        var position: [String: Int] = [:]
        var labelsOfNode: [Int: [String]] = [:]
        for variant in variants {
            let label = variant.assignments.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
            var rename: [String: String] = [:]
            for var n in variant.nodes {
                let byKey = users[n.id]!
                let id = byKey.count == 1 ? n.id : "\(n.id)[\(suffix(byKey[n.key]!, variants))]"
                rename[n.id] = id
                if let i = position[id] {
                    labelsOfNode[i, default: []].append(label)
                    continue
                }
                n.id = id
                n.inputs = n.inputs.map { PlanInput(node: rename[$0.node] ?? $0.node, port: $0.port, role: $0.role) }
                position[id] = merged.count
                labelsOfNode[merged.count] = [label]
                merged.append(n)
            }
        }
        for (i, labels) in labelsOfNode where labels.count < variants.count { merged[i].variants = labels }
        return merged
    }

    /// The sweep values shared by every variant in `group`: what this copy depends on.
    static func suffix(_ group: [Int], _ variants: [Variant]) -> String {
        let first = variants[group[0]].assignments
        return first.indices.filter { axis in
            group.allSatisfy { variants[$0].assignments[axis].value == first[axis].value }
        }.map { "\(first[$0].name)=\(first[$0].value)" }.joined(separator: ",")
    }
}
