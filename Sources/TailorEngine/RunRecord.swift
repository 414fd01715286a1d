import Foundation
import TailorPlan

/// What a run leaves beside the spec: `runs/NAME/RUN-ID/` with the spec as given, the plan
/// (every node's resolved parameters), the lock, per-node timings, the metrics and a report.
public struct RunRecord {
    public let folder: String
    public let lock: [String: Any]
    /// The lock as written (`lock.json`, and `SPEC.lock` with `--lock`).
    public var lockText: String { JSONText.render(lock) }

    /// The lock: for every node its plan key, execution key, input digests, file digests and
    /// output digests, with Tailor's version and the machine. Committed beside the spec
    /// (`--lock`), it names every artifact a reproduction must produce bit for bit.
    public static func lock(plan: Plan, outcomes: [Executor.Outcome]) -> [String: Any] {
        let nodes: [[String: Any]] = outcomes.map { o in
            var entry: [String: Any] = [
                "id": o.node.id, "kind": o.node.kind.rawValue, "key": o.node.key, "artifact": o.artifact.key,
                "digest": o.artifact.digest, "outputs": o.artifact.files,
                "inputs": o.inputs.map { ["node": $0.input.node, "port": $0.input.port ?? NSNull(), "digest": $0.digest] as [String: Any] } as [Any],
            ]
            if !o.files.isEmpty { entry["files"] = o.files }  // the digests the run used, not the files as they are now
            if let seed = o.node.params["seed"]?.int { entry["seed"] = seed }
            return entry
        }
        return ["tailor": TailorVersion.current, "spec": plan.name, "lock_version": 1, "nodes": nodes as [Any],
                "machine": ["cores": ProcessInfo.processInfo.activeProcessorCount, "memory_bytes": Int(ProcessInfo.processInfo.physicalMemory),
                            "os": ProcessInfo.processInfo.operatingSystemVersionString]]
    }

    /// Writes the record; returns its folder.
    /// Writes the record; returns its folder. When nothing ran and the lock equals the last
    /// record's (a no-op rerun), no new record is written and the last one is returned: it
    /// already describes exactly these artifacts.
    public static func write(plan: Plan, sets: [String], outcomes: [Executor.Outcome], seconds: Double, root: String,
                             store: ArtifactStore) throws -> (record: RunRecord, isNew: Bool) {
        let marker = "\(store.root)/index/\(plan.name)/last-record"
        // The artifacts of every node (their keys cover everything the lock records) and the --set values.
        let fingerprint = Digest.of(text: outcomes.map { $0.node.id + " " + $0.artifact.key }.joined(separator: "\n") + "\n" + sets.joined(separator: "\n"))
        let lock = lock(plan: plan, outcomes: outcomes)
        if outcomes.allSatisfy({ $0.status == .cached }),
           let last = try? String(contentsOfFile: marker, encoding: .utf8), last.hasPrefix(fingerprint + " ") {
            let folder = String(last.dropFirst(fingerprint.count + 1))
            if FileManager.default.fileExists(atPath: folder + "/lock.json") { return (RunRecord(folder: folder, lock: lock), false) }
        }
        let lockText = JSONText.render(lock)
        let record = try write(plan: plan, sets: sets, outcomes: outcomes, seconds: seconds, root: root, lock: lock, lockText: lockText)
        try? FileManager.default.createDirectory(atPath: (marker as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? (fingerprint + " " + record.folder).write(toFile: marker, atomically: true, encoding: .utf8)
        return (record, true)
    }

    static func write(plan: Plan, sets: [String], outcomes: [Executor.Outcome], seconds: Double, root: String,
                      lock: [String: Any], lockText: String) throws -> RunRecord {
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withYear, .withMonth, .withDay, .withTime])
            .replacingOccurrences(of: ":", with: "")
        // mkdir either creates the folder or fails because it exists: two runs finishing in the
        // same second get two folders, never one shared.
        try FileManager.default.createDirectory(atPath: "\(root)/\(plan.name)", withIntermediateDirectories: true)
        var folder = "\(root)/\(plan.name)/\(stamp)"
        var n = 1
        while mkdir(folder, 0o755) != 0 {
            guard errno == EEXIST else { throw ExecutionError.runRecord(folder, String(cString: strerror(errno))) }
            n += 1
            folder = "\(root)/\(plan.name)/\(stamp)-\(n)"
        }
        func json(_ object: Any, _ name: String) throws { try JSONText.render(object).write(toFile: folder + "/" + name, atomically: false, encoding: .utf8) }
        try lockText.write(toFile: folder + "/lock.json", atomically: false, encoding: .utf8)
        try PlanRenderer.json(plan).write(toFile: folder + "/plan.json", atomically: true, encoding: .utf8)
        if let spec = FileManager.default.contents(atPath: plan.file) { try spec.write(to: URL(fileURLWithPath: folder + "/spec.yaml")) }
        let nodes: [Any] = outcomes.map {
            ["id": $0.node.id, "status": $0.status.rawValue, "seconds": $0.seconds, "reason": $0.reason ?? NSNull(),
             "peak_memory_bytes": $0.peakMemory ?? NSNull()] as [String: Any]
        }
        try json(["spec": plan.file, "sets": sets as [Any], "seconds": seconds, "nodes": nodes], "run.json")
        var metrics: [String: Any] = [:]
        var report = "# \(plan.name)\n\n" + (plan.description.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) + "\n\n" } ?? "")
            + "| node | kind | status | seconds | peak tensor memory |\n|---|---|---|---|---|\n"
        for o in outcomes {
            report += "| \(o.node.id) | \(o.node.kind.rawValue) | \(o.status.rawValue) | \(String(format: "%.2f", o.seconds)) | \(o.peakMemory.map(Self.mebibytes) ?? "") |\n"
            if o.artifact.files["metrics.json"] != nil, let data = FileManager.default.contents(atPath: o.artifact.path("metrics.json")) {
                metrics[o.node.id] = try? JSONSerialization.jsonObject(with: data)
            }
        }
        for o in outcomes where o.artifact.files["report.md"] != nil {
            report += "\n## \(o.node.id)\n\n" + ((try? String(contentsOfFile: o.artifact.path("report.md"), encoding: .utf8)) ?? "")
        }
        try json(metrics, "metrics.json")
        // Exports land in the record too, as copies: a user editing an exported file must not
        // touch the cached artifact (a hard link would share its bytes).
        for o in outcomes where o.node.kind == .exportModel {
            let target = folder + "/exports/" + (o.node.id.hasPrefix("export.") ? String(o.node.id.dropFirst(7)) : o.node.id)
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            for name in o.artifact.files.keys where name != "export.json" {
                try FileManager.default.copyItem(atPath: o.artifact.path(name), toPath: target + "/" + name)
            }
        }
        report += trainingTable(outcomes).map { "\n## Training\n\n" + $0 } ?? ""
        report += evalSummary(outcomes).map { "\n## All evals\n\n" + $0 } ?? ""
        try report.write(toFile: folder + "/report.md", atomically: true, encoding: .utf8)
        try ReportHTML.render(plan: plan, outcomes: outcomes, seconds: seconds).write(toFile: folder + "/report.html", atomically: true, encoding: .utf8)
        return RunRecord(folder: folder, lock: lock)
    }

    static func mebibytes(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

    /// The training nodes of a run side by side: steps, trainable parameters, last loss, best
    /// eval loss and (when trained in this run) peak tensor memory and speed. Nil without any.
    public static func trainingTable(_ outcomes: [Executor.Outcome]) -> String? {
        var rows: [String] = []
        for o in outcomes where o.artifact.files["training.json"] != nil {
            guard let data = FileManager.default.contents(atPath: o.artifact.path("training.json")),
                  let log = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { continue }
            let losses = log["loss"] as? [Double] ?? []
            let tail = losses.suffix(10)
            let last = tail.isEmpty ? "" : String(format: "%.4f", tail.reduce(0, +) / Double(tail.count))
            let best = (log["best_eval_loss"] as? Double).map { String(format: "%.4f", $0) } ?? ""
            let trainable = log["trainable_parameters"] as? Int ?? 0
            let tokens = log["target_tokens"] as? Int
            let speed = o.status == .cached ? "" : tokens.map { String(format: "%.0f", Double($0) / Swift.max(1e-9, o.seconds)) } ?? ""
            rows.append("| \(o.node.id) | \(o.node.kind.rawValue) | \(log["steps"] as? Int ?? losses.count) | \(trainable) | \(last) | \(best) | "
                        + "\(o.peakMemory.map(mebibytes) ?? (o.status == .cached ? "cached" : "")) | \(speed) |")
        }
        guard !rows.isEmpty else { return nil }
        return "| model | kind | steps | trainable | loss (last 10) | best eval loss | peak tensor memory | target tokens/s |\n"
            + "|---|---|---|---|---|---|---|---|\n" + rows.joined(separator: "\n") + "\n"
    }

    /// Every eval of a run side by side: one row per model or adapter, one column per eval and
    /// metric ("the base and its adapters on several datasets" in one table; a sweep's variants
    /// of one eval share its columns). Nil with fewer than two evals (each eval's own table says it all).
    public static func evalSummary(_ outcomes: [Executor.Outcome]) -> String? {
        var columns: [String] = [], models: [String] = [], cells: [String: [String: String]] = [:]
        let reports = outcomes.filter { $0.node.kind == .evalReport }
        guard reports.count >= 2 else { return nil }
        for o in reports {
            guard let data = FileManager.default.contents(atPath: o.artifact.path("report.json")),
                  let report = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  let metrics = (report["columns"] ?? report["metrics"]) as? [String], let rows = report["rows"] as? [[String: Any]] else { continue }
            // Sweep variants of one eval share its columns (their models carry the variant).
            var eval = o.node.id.hasPrefix("eval.") ? String(o.node.id.dropFirst(5)) : o.node.id
            if let bracket = eval.firstIndex(of: "["), eval.hasSuffix("]") { eval = String(eval[..<bracket]) }
            for metric in metrics {
                let column = "\(eval): \(metric)"
                if !columns.contains(column) { columns.append(column) }
                for row in rows {
                    let model = "\(row["model"] ?? "?")"
                    if !models.contains(model) { models.append(model) }
                    cells[model, default: [:]][column] = (row[metric] as? Double).map { String(format: "%.4f", $0) } ?? "–"
                }
            }
        }
        var table = "| model | " + columns.joined(separator: " | ") + " |\n|---|" + columns.map { _ in "---|" }.joined() + "\n"
        for model in models { table += "| \(model) | " + columns.map { cells[model]?[$0] ?? "" }.joined(separator: " | ") + " |\n" }
        return table
    }
}
