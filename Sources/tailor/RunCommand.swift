import ArgumentParser
import Foundation
import TailorDiagnostics
import TailorExecutor
import TailorPlan

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Execute a spec: every node in dependency order, reusing cached artifacts.",
        discussion: """
            Artifacts go to the cache (.tailor/ beside the spec, or --cache / TAILOR_CACHE) under
            their content key; an unchanged node is read back, not recomputed. Each run writes a
            record to runs/NAME/RUN-ID/ beside the spec (spec, plan, lock, metrics, report).

            Example: tailor run specs/quickstart.yaml --set models.base.pretrain.steps=50
            """)

    @Argument(help: "The spec file.")
    var spec: String

    @OptionGroup var options: SpecOptions

    @Option(name: .customLong("only"), help: "Run only this node and what it needs (repeatable).")
    var only: [String] = []

    @Option(help: "The artifact cache folder (default: .tailor beside the spec, or TAILOR_CACHE).")
    var cache: String?

    @Flag(help: "Also write the lock beside the spec (SPEC.lock), to commit with it.")
    var lock = false

    @Flag(help: "Print only errors and the final summary.")
    var quiet = false

    func run() throws {
        let compiler = makeCompiler()
        var diagnostics = DiagnosticBag()
        let plan = compiler.plan(file: spec, sets: options.sets, diagnostics: &diagnostics)
        report(diagnostics, sources: compiler.sources, options: options)
        guard let plan else { throw ExitCode(1) }
        let directory = (spec as NSString).deletingLastPathComponent.isEmpty ? "." : (spec as NSString).deletingLastPathComponent
        let nodes: [PlanNode]
        do {
            nodes = try Executor.selection(only, in: plan)
        } catch let error as ExecutionError {
            throw ValidationError(error.description)
        }
        // Refuse up front, naming every node a later version will run: never a silent skip.
        var refusals = DiagnosticBag()
        for (node, why) in Executor.notExecutable(nodes) {
            refusals.append(Diagnostic(.error, Message("'\(node.id)' cannot run yet: \(why)"), at: node.location,
                                       notes: [Note("`tailor plan` plans it; run the nodes before it with --only")]))
        }
        report(refusals, sources: compiler.sources, options: options)
        if refusals.hasErrors { throw ExitCode(1) }
        let store: ArtifactStore
        do {
            store = try ArtifactStore(root: cache ?? ProcessInfo.processInfo.environment["TAILOR_CACHE"] ?? directory + "/.tailor")
        } catch let error as ExecutionError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
        let executor = Executor(plan: plan, store: store)
        let start = Date()
        let outcomes: [Executor.Outcome]
        do {
            let display = Display()
            outcomes = try executor.run(nodes) { event in if !quiet { display.show(event) } }
        } catch let error as ExecutionError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
        let seconds = Date().timeIntervalSince(start)
        let (record, isNew) = try RunRecord.write(plan: plan, sets: options.sets, outcomes: outcomes, seconds: seconds,
                                                  root: directory + "/runs", store: store)
        if lock {
            let path = (spec as NSString).deletingPathExtension + ".lock"
            try record.lockText.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let ran = outcomes.filter { $0.status != .cached }.count
        print(String(format: "%@: %d nodes, %d ran, %d cached, %.2f s; %@ %@", plan.name, outcomes.count, ran,
                     outcomes.count - ran, seconds, isNew ? "record" : "unchanged since", record.folder))
    }

    /// One line per finished node; progress on a terminal as a line rewritten in place, in a
    /// log at most every few seconds per node.
    final class Display: @unchecked Sendable {
        let tty = isatty(1) == 1
        var lastProgress: [String: Date] = [:]

        func show(_ event: Executor.Event) {
            switch event {
            case .started: break
            case .progress(let node, let text):
                if tty {
                    write("\r\u{1B}[K      \(node.id): \(text)")
                } else if Date().timeIntervalSince(lastProgress[node.id] ?? .distantPast) >= 5 {
                    lastProgress[node.id] = Date()
                    write("      \(node.id): \(text)\n")
                }
            case .finished(let o, let index, let total):
                let counter = "[\(index + 1)/\(total)]"
                let seconds = String(format: "%.2fs", o.seconds)
                let reason = o.reason.map { $0 == "new" ? "" : "  (\($0))" } ?? ""
                write((tty ? "\r\u{1B}[K" : "") + pad(counter, 8) + pad(o.node.id, 30) + pad(o.node.kind.rawValue, 17)
                      + pad(o.status.rawValue, 11) + seconds + reason + "\n")
            }
        }

        func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
        func write(_ s: String) { FileHandle.standardOutput.write(Data(s.utf8)) }
    }
}
