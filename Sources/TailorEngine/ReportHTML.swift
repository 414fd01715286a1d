import Foundation
import TailorPlan

/// The run report as one self-contained HTML page (no scripts, no external files): per-node
/// status and time with each node's inputs, a loss curve per training node drawn as inline
/// SVG, and the eval tables.
enum ReportHTML {
    static func render(plan: Plan, outcomes: [Executor.Outcome], seconds: Double) -> String {
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(plan.name)) — Tailor run</title>
            <style>
            body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
            table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
            th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.8em; text-align: left; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; }
            .ran { color: #1a6b1a; } .cached { color: #666; } .recomputed { color: #a15c00; }
            .inputs { color: #777; font-size: 90%; }
            svg { background: #fafafa; border: 1px solid #ddd; }
            </style></head><body>
            <h1>\(escape(plan.name))</h1>
            \(plan.description.map { "<p>" + escape($0) + "</p>" } ?? "")
            <p>\(outcomes.count) nodes: \(outcomes.filter { $0.status != .cached }.count) ran, \
            \(outcomes.filter { $0.status == .cached }.count) from the cache; \(String(format: "%.2f", seconds)) s.</p>
            <h2>Graph</h2>
            \(graph(outcomes))
            <h2>Nodes</h2>
            <table><tr><th>#</th><th>node</th><th>kind</th><th>status</th><th>seconds</th></tr>

            """
        for (i, o) in outcomes.enumerated() {
            let inputs = o.node.inputs.isEmpty ? "" : "<div class=\"inputs\">← " + escape(o.node.inputs.map(\.display).joined(separator: ", ")) + "</div>"
            html += "<tr><td class=\"num\">\(i + 1)</td><td>\(escape(o.node.id))\(inputs)</td><td>\(o.node.kind.rawValue)</td>"
                + "<td class=\"\(o.status.rawValue)\">\(o.status.rawValue)\(o.reason.map { $0 == "new" ? "" : " (" + escape($0) + ")" } ?? "")</td>"
                + "<td class=\"num\">\(String(format: "%.2f", o.seconds))</td></tr>\n"
        }
        html += "</table>\n"
        for o in outcomes where o.artifact.files["training.json"] != nil {
            guard let data = FileManager.default.contents(atPath: o.artifact.path("training.json")),
                  let log = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  let losses = (log["loss"] as? [Double]), losses.count > 1 else { continue }
            html += "<h2>Training loss: \(escape(o.node.id))</h2>\n" + curve(losses) + "\n"
        }
        for o in outcomes where o.artifact.files["report.json"] != nil {
            guard let data = FileManager.default.contents(atPath: o.artifact.path("report.json")),
                  let report = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  let named = report["metrics"] as? [String], let rows = report["rows"] as? [[String: Any]] else { continue }
            let metrics = report["columns"] as? [String] ?? named  // a metric may bring several columns
            html += "<h2>Eval: \(escape(o.node.id))</h2>\n<table><tr><th>model</th><th>examples</th>"
                + metrics.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
            for row in rows {
                html += "<tr><td>\(escape("\(row["model"] ?? "?")"))</td><td class=\"num\">\(row["examples"] ?? "")</td>"
                    + metrics.map { m in "<td class=\"num\">" + ((row[m] as? Double).map { String(format: "%.4f", $0) } ?? "–") + "</td>" }.joined()
                    + "</tr>\n"
            }
            html += "</table>\n"
            for row in rows {
                if let matrix = row["matrix"] as? [String: Any] { html += heatMap("\(row["model"] ?? "?")", matrix) }
            }
        }
        return html + "</body></html>\n"
    }

    /// A continual model's forgetting matrix as a heat map: a cell per (stage, task), darker
    /// the higher its score (0 to 1), the score written in it.
    static func heatMap(_ model: String, _ matrix: [String: Any]) -> String {
        guard let scores = matrix["scores"] as? [[Double]], let columns = matrix["columns"] as? [String],
              let stages = matrix["rows"] as? [String], stages.count == scores.count else { return "" }
        var html = "<h3>Forgetting matrix: \(escape(model))</h3>\n<table class=\"heat\"><tr><th>stage</th>"
            + columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        for (stage, row) in zip(stages, scores) {
            html += "<tr><td>\(escape(stage))</td>" + row.map { v in
                let lightness = 96 - 56 * Swift.min(1, Swift.max(0, v))
                return String(format: "<td class=\"num\" style=\"background: hsl(210, 70%%, %.0f%%)%@\">%.4f</td>",
                              lightness, lightness < 60 ? "; color: #fff" : "", v)
            }.joined() + "</tr>\n"
        }
        return html + "</table>\n"
    }

    /// The graph as inline SVG: one column per depth (longest path from a source), a box per
    /// node coloured by status, a curve per input. Large graphs (over 150 nodes) are listed only.
    static func graph(_ outcomes: [Executor.Outcome]) -> String {
        guard outcomes.count <= 150 else { return "<p>(\(outcomes.count) nodes: too many to draw; see the table.)</p>" }
        var depth: [String: Int] = [:]
        for o in outcomes { depth[o.node.id] = (o.node.inputs.compactMap { depth[$0.node] }.max() ?? -1) + 1 }
        var row: [Int: Int] = [:]
        var place: [String: (x: Double, y: Double)] = [:]
        let (boxW, boxH, colW, rowH) = (180.0, 22.0, 230.0, 32.0)
        for o in outcomes {
            let d = depth[o.node.id]!
            place[o.node.id] = (10 + Double(d) * colW, 10 + Double(row[d, default: 0]) * rowH)
            row[d, default: 0] += 1
        }
        let width = 20 + Double((depth.values.max() ?? 0) + 1) * colW, height = 20 + Double(row.values.max() ?? 1) * rowH
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">\n"
        for o in outcomes {
            let to = place[o.node.id]!
            for input in o.node.inputs {
                guard let from = place[input.node] else { continue }
                let (x1, y1, x2, y2) = (from.x + boxW, from.y + boxH / 2, to.x, to.y + boxH / 2)
                svg += String(format: "<path d=\"M%.0f,%.0f C%.0f,%.0f %.0f,%.0f %.0f,%.0f\" fill=\"none\" stroke=\"#aaa\"/>\n",
                              x1, y1, (x1 + x2) / 2, y1, (x1 + x2) / 2, y2, x2, y2)
            }
        }
        let fill = ["ran": "#d8f0d8", "cached": "#eeeeee", "recomputed": "#f8e4c8"]
        for o in outcomes {
            let p = place[o.node.id]!
            let label = o.node.id.count > 28 ? String(o.node.id.prefix(27)) + "…" : o.node.id
            svg += "<rect x=\"\(Int(p.x))\" y=\"\(Int(p.y))\" width=\"\(Int(boxW))\" height=\"\(Int(boxH))\" rx=\"4\" "
                + "fill=\"\(fill[o.status.rawValue] ?? "#fff")\" stroke=\"#888\"/>"
                + "<text x=\"\(Int(p.x) + 5)\" y=\"\(Int(p.y) + 15)\">\(escape(label))</text>\n"
        }
        return svg + "</svg>"
    }

    /// A loss curve: the per-step loss (light) and its moving average (dark), axes labelled.
    static func curve(_ losses: [Double]) -> String {
        let (w, h, left, bottom) = (640.0, 240.0, 50.0, 24.0)
        let finite = losses.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return "" }
        let span = max(hi - lo, 1e-9)
        func x(_ i: Int) -> Double { left + (w - left - 10) * Double(i) / Double(max(1, losses.count - 1)) }
        func y(_ v: Double) -> Double { 10 + (h - bottom - 10) * (1 - (v - lo) / span) }
        func points(_ values: [Double]) -> String {
            values.enumerated().filter { $0.element.isFinite }.map { String(format: "%.1f,%.1f", x($0.offset), y($0.element)) }.joined(separator: " ")
        }
        let window = max(1, losses.count / 25)
        let smooth = losses.indices.map { i in
            let part = losses[max(0, i - window + 1)...i].filter(\.isFinite)
            return part.isEmpty ? Double.nan : part.reduce(0, +) / Double(part.count)
        }
        return """
            <svg width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" xmlns="http://www.w3.org/2000/svg">
            <polyline fill="none" stroke="#9ab" stroke-width="1" points="\(points(losses))"/>
            <polyline fill="none" stroke="#124" stroke-width="2" points="\(points(smooth))"/>
            <text x="4" y="\(Int(y(hi)) + 4)" font-size="11">\(String(format: "%.3g", hi))</text>
            <text x="4" y="\(Int(y(lo)) + 4)" font-size="11">\(String(format: "%.3g", lo))</text>
            <text x="\(Int(left))" y="\(Int(h) - 6)" font-size="11">step 1</text>
            <text x="\(Int(w) - 70)" y="\(Int(h) - 6)" font-size="11">step \(losses.count)</text>
            </svg>
            """
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
