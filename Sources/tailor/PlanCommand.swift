import ArgumentParser
import Foundation
import TailorDiagnostics
import TailorExecutor
import TailorPlan

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Dry run: show the execution graph with content keys and cost estimates.",
        discussion: """
            Nodes are listed in execution order with kind, short content key, inputs and
            static estimates (parameters, trainable parameters, tokens, FLOPs, time at the
            machine's training rate, peak memory). TAILOR_FLOPS sets the rate in FLOP/s.

            Example: tailor plan specs/lora.yaml --set models.tuned.train.steps=400 --json
            """)

    @Argument(help: "The spec file.")
    var spec: String

    @OptionGroup var options: SpecOptions

    @Flag(help: "Print the plan as JSON (full content keys, resolved parameters).")
    var json = false

    @Option(help: "The artifact cache to report cached nodes from (default: .tailor beside the spec, or TAILOR_CACHE).")
    var cache: String?

    func run() throws {
        // What a run would do: from the cache when there is one (never created by planning).
        let directory = (spec as NSString).deletingLastPathComponent.isEmpty ? "." : (spec as NSString).deletingLastPathComponent
        let root = cache ?? ProcessInfo.processInfo.environment["TAILOR_CACHE"] ?? directory + "/.tailor"
        let hasCache = FileManager.default.fileExists(atPath: root)
        var compiler = makeCompiler()
        if hasCache { compiler.digests = FileDigests(memo: root + "/index/file-digests.json") }
        defer { compiler.digests.save() }
        var diagnostics = DiagnosticBag()
        let plan = compiler.plan(file: spec, sets: options.sets, diagnostics: &diagnostics)
        report(diagnostics, sources: compiler.sources, options: options)
        guard let plan else { throw ExitCode(1) }
        if json { return print(PlanRenderer.json(plan), terminator: "") }
        var status: [String: String]?
        if hasCache, let store = try? ArtifactStore(root: root) {
            status = Executor(plan: plan, store: store, digests: compiler.digests).status().mapValues(\.display)
        } else {
            status = Dictionary(uniqueKeysWithValues: plan.nodes.map { ($0.id, "run: new node") })
        }
        print(PlanRenderer.text(plan, status: status), terminator: "")
    }
}

struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the execution graph as Graphviz dot or a Mermaid flowchart.",
        discussion: "Example: tailor graph specs/quickstart.yaml --format dot | dot -Tsvg > plan.svg")

    @Argument(help: "The spec file.")
    var spec: String

    @Option(help: "dot or mermaid.")
    var format: GraphRenderer.Format = .dot

    @OptionGroup var options: SpecOptions

    func run() throws {
        let compiler = makeCompiler()
        var diagnostics = DiagnosticBag()
        let plan = compiler.plan(file: spec, sets: options.sets, diagnostics: &diagnostics)
        report(diagnostics, sources: compiler.sources, options: options)
        guard let plan else { throw ExitCode(1) }
        print(GraphRenderer.render(plan, format: format), terminator: "")
    }
}
