import ArgumentParser
import Foundation
import TailorEngine
import TailorDiagnostics
import TailorExecutor
import TailorPlan

struct Repro: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute every node in a fresh cache and compare each artifact with a lock.",
        discussion: """
            SPEC uses SPEC.lock beside it (written by `tailor run --lock`); a run folder
            (runs/NAME/RUN-ID) uses its lock.json, its spec and its --set values. Prints one row per
            node and exits 1 if any artifact differs.

            Example: tailor repro specs/quickstart.yaml
            """)

    @Argument(help: "A spec with a SPEC.lock beside it, or a run record folder.")
    var target: String

    @OptionGroup var options: SpecOptions

    func run() throws {
        let kind = FileProbe.kind(target)
        guard kind == .file || kind == .folder else { throw ValidationError("'\(target)' \(FileProbe.describe(kind, wanted: .file))") }
        let (spec, lockPath, sets) = try locate(isDirectory: kind == .folder)
        guard let data = try? FileProbe.read(lockPath),
              let lock = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let entries = lock["nodes"] as? [[String: Any]]
        else { throw ValidationError("'\(lockPath)' is missing or not a Tailor lock (write one with `tailor run --lock`)") }
        let compiler = makeCompiler()
        var diagnostics = DiagnosticBag()
        let plan = compiler.plan(file: spec, sets: sets, diagnostics: &diagnostics)
        report(diagnostics, sources: compiler.sources, options: options)
        guard let plan else { throw ExitCode(1) }
        let wanted = Set(entries.compactMap { $0["id"] as? String })
        let nodes = plan.nodes.filter { wanted.contains($0.id) }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-repro-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let outcomes: [Executor.Outcome]
        do {
            let executor = Executor(plan: plan, store: try ArtifactStore(root: scratch))
            outcomes = try executor.run(nodes) { event in
                if case .finished(let o, let i, let n) = event { FileHandle.standardError.write(Data("[\(i + 1)/\(n)] \(o.node.id)\n".utf8)) }
            }
        } catch let error as ExecutionError {
            throw fail(error)
        }
        let got = Dictionary(uniqueKeysWithValues: outcomes.map { ($0.node.id, $0.artifact.digest) })
        var mismatches = 0
        let width = max(4, entries.compactMap { ($0["id"] as? String)?.count }.max() ?? 4)
        print("node".padding(toLength: width, withPad: " ", startingAt: 0) + "  expected      got           match")
        for entry in entries {
            guard let id = entry["id"] as? String, let expected = entry["digest"] as? String else { continue }
            let actual = got[id]
            let match = actual == expected
            if !match { mismatches += 1 }
            func short(_ d: String?) -> String { d.map { String($0.dropFirst("sha256:".count).prefix(12)) } ?? "(not in plan)" }
            print(id.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(short(expected))  \(short(actual).padding(toLength: 12, withPad: " ", startingAt: 0))  \(match ? "yes" : "NO")")
        }
        print(mismatches == 0 ? "reproduced: all \(entries.count) artifacts match the lock" : "\(mismatches) of \(entries.count) artifacts differ from the lock")
        if mismatches > 0 { throw ExitCode(1) }
    }

    /// The spec, the lock and the --set values a target names.
    func locate(isDirectory: Bool) throws -> (spec: String, lock: String, sets: [String]) {
        guard isDirectory else { return (target, (target as NSString).deletingPathExtension + ".lock", options.sets) }
        let runFile = (target as NSString).appendingPathComponent("run.json")
        guard let data = try? FileProbe.read(runFile),
              let run = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let spec = run["spec"] as? String
        else { throw ValidationError("'\(target)' is not a run record (no run.json)") }
        guard FileManager.default.fileExists(atPath: spec) else { throw ValidationError("the run's spec '\(spec)' is gone") }
        return (spec, (target as NSString).appendingPathComponent("lock.json"), (run["sets"] as? [String] ?? []) + options.sets)
    }
}
