import Foundation
import TailorSpec

/// Renders a plan for people (`tailor plan`) or tools (`--json`). Both are
/// deterministic for a given spec and machine profile, which the golden tests rely on.
public enum PlanRenderer {
    /// `status` (from the executor's cache) adds what a run would do with each node.
    public static func text(_ plan: Plan, status: [String: String]? = nil) -> String {
        var out = "plan \(plan.name) (\(plan.file)): \(plan.nodes.count) node\(plan.nodes.count == 1 ? "" : "s")"
        if !plan.variants.isEmpty { out += ", \(plan.variants.count) sweep variants" }
        if let status {
            let cached = status.values.filter { $0 == "cached" }.count
            out += "; \(cached) cached, \(plan.nodes.count - cached) to run or check"
        }
        if let description = plan.description { out += "\n" + description.trimmingCharacters(in: .whitespacesAndNewlines) }
        out += "\nmachine: \(Format.bytes(plan.machine.memoryBytes)) memory, \(Format.flops(plan.machine.flops))/s training rate, "
            + "\(Format.bytes(plan.machine.bandwidth))/s weight streaming\n\n"
        let width = min(44, plan.nodes.map(\.id.count).max() ?? 10)
        let kindWidth = NodeKind.allCases.map(\.rawValue.count).max() ?? 14
        for (i, node) in plan.nodes.enumerated() {
            let number = String(i + 1).leftPadded(to: String(plan.nodes.count).count)
            out += "\(number)  \(node.id.rightPadded(to: width))  \(node.kind.rawValue.rightPadded(to: kindWidth))  \(node.shortKey)\n"
            let indent = String(repeating: " ", count: number.count + 2) + "    "
            if !node.inputs.isEmpty { out += indent + "← " + node.inputs.map(\.labelled).joined(separator: ", ") + "\n" }
            if let variants = node.variants, variants.count > 1 { out += indent + "variants: " + variants.joined(separator: "; ") + "\n" }
            if let s = status?[node.id] { out += indent + s + "\n" }
            let estimate = describe(node.estimate, plan.machine)
            if !estimate.isEmpty { out += indent + estimate + "\n" }
        }
        out += "\n" + totals(plan) + "\n"
        return out
    }

    static func describe(_ e: Estimate, _ machine: MachineProfile) -> String {
        var parts: [String] = []
        if let rows = e.rows { parts.append("\(Format.count(rows)) rows") }
        if let l = e.lengths { parts.append(String(format: "~%.0f tokens/example (longest %d)", l.mean, l.longest)) }
        if let p = e.parameters {
            parts.append("\(Format.count(p)) params")
            if let t = e.trainable, t > 0 {
                let share = p > 0 ? String(format: " (%.2f%%)", 100 * Double(t) / Double(p)) : ""
                parts.append("\(Format.count(t)) trainable\(share)")
            }
        }
        if let t = e.tokens { parts.append("\(Format.count(t)) tokens") }
        if let f = e.flops {
            parts.append(Format.flops(f))
            let time = Format.duration(e.seconds(on: machine) ?? 0)
            parts.append(time.hasPrefix("<") ? time : "~" + time)
        }
        if let peak = e.peakBytes {
            var detail = "weights \(Format.bytes(e.weightsBytes ?? 0))"
            if let g = e.gradientBytes { detail += ", grads \(Format.bytes(g))" }
            if let o = e.optimizerBytes { detail += ", optimizer \(Format.bytes(o))" }
            if let a = e.activationBytes { detail += ", activations \(Format.bytes(a))" }
            parts.append("peak \(Format.bytes(peak)) (\(detail))")
        }
        return parts.joined(separator: " · ")
    }

    static func totals(_ plan: Plan) -> String {
        let flops = plan.totalFLOPs
        var out = "total: \(Format.flops(flops)), about \(Format.duration(plan.totalSeconds)) of compute"
        if let peak = plan.peak, let bytes = peak.estimate.peakBytes {
            out += "; peak memory \(Format.bytes(bytes)) in \(peak.id)"
        }
        return out
    }

    // MARK: JSON

    public static func json(_ plan: Plan) -> String {
        var out = "{\n"
        out += "  \"name\": \(quote(plan.name)),\n  \"file\": \(quote(plan.file)),\n"
        if let description = plan.description { out += "  \"description\": \(quote(description)),\n" }
        out += "  \"machine\": {\"memory_bytes\": \(Int(plan.machine.memoryBytes)), \"flops\": \(Int(plan.machine.flops)), \"bandwidth\": \(Int(plan.machine.bandwidth))},\n"
        out += "  \"variants\": [" + plan.variants.map(quote).joined(separator: ", ") + "],\n"
        out += "  \"nodes\": [\n"
        for (i, n) in plan.nodes.enumerated() {
            out += "    {\n"
            out += "      \"id\": \(quote(n.id)),\n      \"kind\": \(quote(n.kind.rawValue)),\n      \"version\": \(n.kind.version),\n"
            out += "      \"key\": \(quote(n.key)),\n"
            out += "      \"inputs\": [" + n.inputs.map { "{\"from\": \(quote($0.display)), \"role\": \(quote($0.role.rawValue))}" }.joined(separator: ", ") + "],\n"
            if !n.files.isEmpty { out += "      \"files\": [" + n.files.map(quote).joined(separator: ", ") + "],\n" }
            if let v = n.variants { out += "      \"variants\": [" + v.map(quote).joined(separator: ", ") + "],\n" }
            if let loc = n.location { out += "      \"source\": \(quote(loc.description)),\n" }
            out += "      \"params\": \(n.params.canonicalJSON),\n"
            out += "      \"estimate\": \(estimateJSON(n.estimate, plan.machine))\n"
            out += "    }" + (i + 1 < plan.nodes.count ? "," : "") + "\n"
        }
        out += "  ],\n"
        let peak = plan.peak
        out += "  \"total\": {\"flops\": \(number(plan.totalFLOPs)), \"seconds\": \(number(plan.totalSeconds))"
        if let peak, let bytes = peak.estimate.peakBytes { out += ", \"peak_bytes\": \(number(bytes)), \"peak_node\": \(quote(peak.id))" }
        out += "}\n}\n"
        return out
    }

    static func estimateJSON(_ e: Estimate, _ machine: MachineProfile) -> String {
        var fields: [String] = []
        func add(_ k: String, _ v: Double?) { if let v { fields.append("\"\(k)\": \(number(v))") } }
        add("rows", e.rows.map(Double.init))
        add("tokens_per_example", e.lengths.map { ($0.mean * 10).rounded() / 10 })
        add("longest_example", e.lengths.map { Double($0.longest) })
        add("parameters", e.parameters.map(Double.init))
        add("trainable", e.trainable.map(Double.init))
        add("tokens", e.tokens.map(Double.init))
        add("flops", e.flops)
        add("streamed_bytes", e.streamedBytes)
        add("streamed_flops", e.streamedFLOPs)
        add("seconds", e.seconds(on: machine))
        add("weights_bytes", e.weightsBytes)
        add("gradient_bytes", e.gradientBytes)
        add("optimizer_bytes", e.optimizerBytes)
        add("activation_bytes", e.activationBytes)
        add("peak_bytes", e.peakBytes)
        return "{" + fields.joined(separator: ", ") + "}"
    }

    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(format: "%.6g", d)
    }

    static func quote(_ s: String) -> String {
        var out = ""
        Value(.string(s), at: nil).writeCanonicalString(into: &out)
        return out
    }
}

extension String {
    func rightPadded(to n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
