/// The plan as a picture: Graphviz `dot` or a Mermaid flowchart.
public enum GraphRenderer {
    public enum Format: String, CaseIterable, Sendable { case dot, mermaid }

    public static func render(_ plan: Plan, format: Format) -> String {
        switch format {
        case .dot: dot(plan)
        case .mermaid: mermaid(plan)
        }
    }

    static func dot(_ plan: Plan) -> String {
        var out = "digraph \"\(plan.name)\" {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n"
        for n in plan.nodes {
            out += "  \"\(n.id)\" [label=\"\(n.id)\\n\(n.kind.rawValue)\\n\(n.shortKey)\"];\n"
        }
        for n in plan.nodes {
            for i in n.inputs {
                out += "  \"\(i.node)\" -> \"\(n.id)\"" + (i.port.map { " [label=\"\($0)\"]" } ?? "") + ";\n"
            }
        }
        return out + "}\n"
    }

    static func mermaid(_ plan: Plan) -> String {
        var ids: [String: String] = [:]
        for (i, n) in plan.nodes.enumerated() { ids[n.id] = "n\(i + 1)" }
        var out = "flowchart LR\n"
        for n in plan.nodes {
            out += "  \(ids[n.id]!)[\"\(n.id.replacingOccurrences(of: "\"", with: "'"))<br/>\(n.kind.rawValue)\"]\n"
        }
        for n in plan.nodes {
            for i in n.inputs {
                guard let from = ids[i.node] else { continue }
                out += "  \(from) -->" + (i.port.map { "|\($0)|" } ?? "") + " \(ids[n.id]!)\n"
            }
        }
        return out
    }
}
