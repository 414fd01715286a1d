import ArgumentParser
import Foundation
import TailorEngine
import TailorDiagnostics
import TailorExecutor
import TailorPlan
import TailorRuntime

/// `tailor job`: runs what one node needs, then writes that node as a job description for
/// another process (a batch worker) to run with `tailor exec-node`.
struct JobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Run what one node needs, then describe the node as a job for `tailor exec-node`.",
        discussion: """
            The node's inputs run first (from the cache, or computed) into the project's cache;
            the node itself does not run. The job names its kind, parameters, inputs (by artifact
            key), the files it reads (with their digests) and the key its artifact will be stored
            under, which is the key `tailor run` looks up: a node built by a worker is cached for
            the next run of the spec.

            Example: tailor job specs/quickstart.yaml model.tuned -o tuned.job.json
            """)

    @Argument(help: "The spec file.")
    var spec: String

    @Argument(help: "The node to describe (an id from `tailor plan`).")
    var node: String

    @Option(name: [.short, .long], help: "Where to write the job description.")
    var output: String

    @OptionGroup var options: SpecOptions

    @Option(help: "The artifact cache folder (default: TAILOR_CACHE, else the project's .tailor, as `tailor run` finds it).")
    var cache: String?

    @Flag(help: "Print only errors.")
    var quiet = false

    func validate() throws {
        if output.isEmpty { throw ValidationError("--output needs a file name") }
    }

    func run() throws {
        let directory = (spec as NSString).deletingLastPathComponent.isEmpty ? "." : (spec as NSString).deletingLastPathComponent
        let root = try cacheRoot(cache, from: directory)
        var compiler = makeCompiler()
        compiler.digests = FileDigests(memo: root + "/index/file-digests.json")
        defer { compiler.digests.save() }
        var diagnostics = DiagnosticBag()
        let plan = compiler.plan(file: spec, sets: options.sets, diagnostics: &diagnostics)
        report(diagnostics, sources: compiler.sources, options: options)
        guard let plan else { throw ExitCode(1) }
        guard let target = plan.node(node) else { throw ValidationError("there is no node '\(node)' in the plan (see `tailor plan`)") }
        for (n, why) in Executor.notExecutable(try Executor.selection([node], in: plan)) {
            var refused = DiagnosticBag()
            refused.append(Diagnostic(.error, Message("'\(n.id)' cannot run yet: \(why)"), at: n.location))
            report(refused, sources: compiler.sources, options: options)
            throw ExitCode(1)
        }
        do {
            let store = try ArtifactStore(root: root)
            Interruption.cleanUp(store)
            let display = Run.Display(json: false)
            let job = try Executor(plan: plan, store: store, digests: compiler.digests).job(for: target.id) { event in
                if case .warning = event { return display.show(event) }
                if !quiet { display.show(event) }
            }
            do {
                try AtomicFile.write(Data(job.json.utf8), to: output)
            } catch {
                throw fail("the job could not be written: \(error)")
            }
            if !quiet { print("\(target.id): job written to \(output) (key \(job.key.prefix(12)))") }
        } catch let error as ExecutionError {
            throw fail(error)
        }
    }
}

/// `tailor exec-node`: runs one job description against a cache. What a remote worker runs.
struct ExecNode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec-node",
        abstract: "Run one job description (from `tailor job`) against a cache.",
        discussion: """
            Every input artifact must be in the cache and intact, every file the job reads must
            still have its digest, and this Tailor must compute the job's key; then the node runs
            and its artifact is stored under that key. Exit 0 when it is stored (or was already).

            Example: tailor exec-node tuned.job.json --cache /shared/.tailor
            """)

    @Argument(help: "The job description file.")
    var job: String

    @Option(help: "The artifact cache folder (default: TAILOR_CACHE, else the project's .tailor found from the job's spec folder).")
    var cache: String?

    @Flag(help: "Print only errors.")
    var quiet = false

    func run() throws {
        let text: String
        do {
            text = String(decoding: try FileProbe.read(job), as: UTF8.self)
        } catch let failure as FileProbe.Failure {
            throw fail("'\(job)' \(failure.problem)")
        }
        do {
            let description = try Job(json: text)
            let store = try ArtifactStore(root: try cacheRoot(cache, from: description.specDirectory))
            Interruption.cleanUp(store)
            let display = Run.Display(json: false)
            let outcome = try Executor.execute(description, store: store) { event in
                if case .warning = event { return display.show(event) }
                if !quiet { display.show(event) }
            }
            if !quiet { print("\(description.node): \(outcome.status.rawValue), artifact \(outcome.artifact.key.prefix(12))") }
        } catch let error as ExecutionError {
            throw fail(error)
        }
    }
}
