import ArgumentParser
import Foundation
import TailorEngine
import TailorDiagnostics
import TailorExecutor
import TailorPlan

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Execute a spec: every node in dependency order, reusing cached artifacts.",
        discussion: """
            Artifacts go to the project's cache (.tailor/ at the git root, or the nearest one up from the spec; --cache / TAILOR_CACHE) under
            their content key; an unchanged node is read back, not recomputed. Each run writes a
            record to runs/NAME/RUN-ID/ beside the spec (spec, plan, lock, metrics, report).

            Example: tailor run specs/quickstart.yaml --set models.base.pretrain.steps=50
            """)

    @Argument(help: "The spec file.")
    var spec: String

    @OptionGroup var options: SpecOptions

    @Option(name: .customLong("only"), help: "Run only this node and what it needs (repeatable).")
    var only: [String] = []

    @Option(help: "The artifact cache folder (default: TAILOR_CACHE, else the project's .tailor: the nearest one up from the spec, or at the git root, else beside the spec).")
    var cache: String?

    @Flag(help: "Also write the lock beside the spec (SPEC.lock), to commit with it.")
    var lock = false

    @Option(parsing: .unconditional, help: "Light nodes (data, tokenizers, prompts) to run at once; training and evals always run alone (default: the cores). With --backend slurm: jobs in the queue at once (default: 64).")
    var jobs: Int?

    enum Backend: String, ExpressibleByArgument, CaseIterable { case local, slurm }

    @Option(help: "Where nodes run: local (this process), or slurm (each node a batch job running `tailor exec-node` over the cache, which must be on a filesystem the cluster's hosts share; see docs/executor.md).")
    var backend: Backend = .local

    @Option(help: "The Slurm partition the jobs go to (--backend slurm; default: the cluster's).")
    var partition: String?

    @Option(help: "The Slurm account the jobs are charged to (--backend slurm).")
    var account: String?

    @Option(name: .customLong("sbatch"), help: ArgumentHelp(
        "An sbatch option for the nodes a pattern names, as PATTERN:OPTION (repeatable; --backend slurm), e.g. 'model.*:--mem=8G'.",
        discussion: "PATTERN is a node id or a shell glob; OPTION replaces the option of the same name that the plan's estimates gave, or is added."))
    var sbatch: [String] = []

    /// `--sbatch` values as (pattern, option).
    var overrides: [(pattern: String, option: String)] {
        sbatch.compactMap { value in
            value.firstIndex(of: ":").map { (String(value[..<$0]), String(value[value.index(after: $0)...])) }
        }
    }

    @Flag(help: "Print only errors and the final summary.")
    var quiet = false

    enum Events: String, ExpressibleByArgument { case text, json }

    @Option(help: "How progress is printed: text, or json (one object per line, for programs).")
    var events: Events = .text

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if backend != .slurm, partition != nil || account != nil || !sbatch.isEmpty {
            throw ValidationError("--partition, --account and --sbatch choose how Slurm jobs run: add --backend slurm")
        }
        for value in sbatch {
            guard let colon = value.firstIndex(of: ":"), colon != value.startIndex, value[value.index(after: colon)...].hasPrefix("--") else {
                throw ValidationError("--sbatch '\(value)' is not PATTERN:OPTION (for example 'model.*:--mem=8G')")
            }
        }
    }

    /// The Slurm backend, when asked for: the jobs run this binary, from this folder.
    func slurmBackend() throws -> SlurmBackend? {
        guard backend == .slurm else { return nil }
        guard SlurmBackend.available else {
            throw ValidationError("--backend slurm needs Slurm's sbatch on PATH (Debian: slurm-client), on a host that can submit jobs")
        }
        let tailor = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let slurm = SlurmBackend(.init(partition: partition, account: account, tailor: tailor, directory: FileManager.default.currentDirectoryPath,
                                       overrides: overrides))
        Interruption.slurm = slurm
        return slurm
    }

    func run() throws {
        let directory = (spec as NSString).deletingLastPathComponent.isEmpty ? "." : (spec as NSString).deletingLastPathComponent
        let start = Date()
        let display = Display(json: events == .json)
        let remote = try slurmBackend()
        let inFlight = jobs ?? (remote == nil ? ProcessInfo.processInfo.activeProcessorCount : 64)
        let (plan, store, outcomes) = try Run.build(spec, only: only, options: options, cache: cache, jobs: inFlight, remote: remote) { event in
            if case .warning = event { return display.show(event) }  // warnings even when quiet
            if !quiet { display.show(event) }
        }
        let seconds = Date().timeIntervalSince(start)
        let record: RunRecord, isNew: Bool
        do {
            (record, isNew) = try RunRecord.write(plan: plan, sets: options.sets, outcomes: outcomes, seconds: seconds,
                                                  root: directory + "/runs", store: store)
            if lock {
                let path = (spec as NSString).deletingPathExtension + ".lock"
                try record.lockText.write(toFile: path, atomically: true, encoding: .utf8)
            }
        } catch {
            throw fail("the run finished but its record could not be written: \(error)")
        }
        let ran = outcomes.filter { $0.status != .cached }.count
        if events == .json {
            let summary: [String: Any] = ["event": "summary", "spec": plan.name, "nodes": outcomes.count, "ran": ran,
                                          "cached": outcomes.count - ran, "seconds": seconds, "record": record.folder]
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys, .withoutEscapingSlashes])
            return print(String(decoding: data, as: UTF8.self))
        }
        print(String(format: "%@: %d nodes, %d ran, %d cached, %.2f s; %@ %@", plan.name, outcomes.count, ran,
                     outcomes.count - ran, seconds, isNew ? "record" : "unchanged since", record.folder))
        // The training and eval tables, so a run ends with its results (before/after when it compares models).
        if !quiet {
            if let table = RunRecord.trainingTable(outcomes) { print("\ntraining:\n" + table, terminator: "") }
            for o in outcomes where o.artifact.files["report.md"] != nil {
                if let table = try? String(contentsOfFile: o.artifact.path("report.md"), encoding: .utf8) { print("\n\(o.node.id):\n" + table, terminator: "") }
            }
            if let table = RunRecord.evalSummary(outcomes) { print("\nall evals:\n" + table, terminator: "") }
        }
    }

    /// Plans a spec and runs `only` (every node when empty) and what they need, from the cache
    /// where it holds them: what `run` does before its record, and what commands that need a
    /// spec's model (`score`) do first. Spec errors and refused nodes are reported and exit 1.
    static func build(_ spec: String, only: [String], options: SpecOptions, cache: String?, jobs: Int, remote: (any RemoteBuilder)? = nil,
                      events: @escaping (Executor.Event) -> Void) throws -> (Plan, ArtifactStore, [Executor.Outcome]) {
        let directory = (spec as NSString).deletingLastPathComponent.isEmpty ? "." : (spec as NSString).deletingLastPathComponent
        let root = try cacheRoot(cache, from: directory)
        var compiler = makeCompiler()
        compiler.digests = FileDigests(memo: root + "/index/file-digests.json")
        var diagnostics = DiagnosticBag()
        let plan = compiler.plan(file: spec, sets: options.sets, diagnostics: &diagnostics)
        report(diagnostics, sources: compiler.sources, options: options)
        guard let plan else { throw ExitCode(1) }
        let nodes: [PlanNode]
        do {
            nodes = try Executor.selection(only, in: plan)
        } catch let error as ExecutionError {
            throw ValidationError(error.description)
        }
        if let slurm = remote as? SlurmBackend, let pattern = slurm.unmatched(nodes.map(\.id)).first {
            throw ValidationError("--sbatch pattern '\(pattern)' names no node of this run (see `tailor plan` for their ids)")
        }
        // Refuse up front, naming every node a later version will run: never a silent skip.
        var refusals = DiagnosticBag()
        for (node, why) in Executor.notExecutable(nodes) {
            if node.kind == .serveAPI {
                refusals.append(Diagnostic(.error, Message("'\(node.id)' is a server, which `tailor run` does not start: \(why)"), at: node.location,
                                           notes: [Note("run the models it serves with --only, or let `tailor serve SPEC` build them first")]))
                continue
            }
            refusals.append(Diagnostic(.error, Message("'\(node.id)' cannot run yet: \(why)"), at: node.location,
                                       notes: [Note("`tailor plan` plans it; run the nodes before it with --only")]))
        }
        report(refusals, sources: compiler.sources, options: options)
        if refusals.hasErrors { throw ExitCode(1) }
        let store: ArtifactStore
        do {
            store = try ArtifactStore(root: root)
        } catch let error as ExecutionError {
            throw fail(error)
        }
        Interruption.cleanUp(store)
        let executor = Executor(plan: plan, store: store, digests: compiler.digests)
        executor.remote = remote
        defer { compiler.digests.save() }
        do {
            return (plan, store, try executor.run(nodes, jobs: jobs, events: events))
        } catch let error as ExecutionError {
            throw fail(error)
        }
    }

    /// One line per finished node; progress on a terminal as a live line with a bar and an
    /// ETA, in a log at most every few seconds per node; or every event as a JSON line.
    final class Display: @unchecked Sendable {
        let tty = isatty(1) == 1
        let json: Bool
        var lastProgress: [String: Date] = [:]

        init(json: Bool) { self.json = json }

        func show(_ event: Executor.Event) {
            if json { return write(Self.json(event)) }
            switch event {
            case .started: break
            case .warning(let node, let text):
                if tty { write("\r\u{1B}[K") }
                FileHandle.standardError.write(Data("warning: \(node.id): \(text)\n".utf8))
            case .progress(let node, let p):
                if tty {
                    write("\r\u{1B}[K      " + Self.bar(p) + "\(node.id): \(p.text)" + Self.eta(p))
                } else if Date().timeIntervalSince(lastProgress[node.id] ?? .distantPast) >= 5 {
                    lastProgress[node.id] = Date()
                    write("      \(node.id): \(p.text)\(Self.eta(p))\n")
                }
            case .finished(let o, let index, let total):
                let counter = "[\(index + 1)/\(total)]"
                let seconds = String(format: "%.2fs", o.seconds)
                let reason = o.reason.map { $0 == "new" ? "" : "  (\($0))" } ?? ""
                write((tty ? "\r\u{1B}[K" : "") + pad(counter, 8) + pad(o.node.id, 30) + pad(o.node.kind.rawValue, 17)
                      + pad(o.status.rawValue, 11) + seconds + reason + "\n")
            }
        }

        static func bar(_ p: Executor.Progress) -> String {
            guard let done = p.done, let total = p.total, total > 0 else { return "" }
            let filled = min(20, 20 * done / total)
            return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled) + "] "
        }

        static func eta(_ p: Executor.Progress) -> String {
            guard let done = p.done, let total = p.total, let elapsed = p.elapsed, done > 0, done < total else { return "" }
            let left = elapsed / Double(done) * Double(total - done)
            return left >= 60 ? String(format: ", ETA %dm%02ds", Int(left) / 60, Int(left) % 60) : String(format: ", ETA %.0fs", left)
        }

        /// One JSON object per event (`--events json`).
        static func json(_ event: Executor.Event) -> String {
            var object: [String: Any]
            switch event {
            case .started(let node, let index, let total):
                object = ["event": "started", "node": node.id, "kind": node.kind.rawValue, "index": index, "total": total]
            case .warning(let node, let text):
                object = ["event": "warning", "node": node.id, "text": text]
            case .progress(let node, let p):
                object = ["event": "progress", "node": node.id, "text": p.text]
                if let done = p.done, let total = p.total { object["done"] = done; object["total"] = total }
            case .finished(let o, let index, let total):
                object = ["event": "finished", "node": o.node.id, "kind": o.node.kind.rawValue, "status": o.status.rawValue,
                          "seconds": o.seconds, "artifact": o.artifact.key, "index": index, "total": total]
                if let reason = o.reason { object["reason"] = reason }
            }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        }

        func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
        func write(_ s: String) { FileHandle.standardOutput.write(Data(s.utf8)) }
    }
}
