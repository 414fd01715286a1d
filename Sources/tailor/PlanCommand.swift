import ArgumentParser
import Foundation
import TailorEngine
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
            machine's training rate, peak memory), for loaded models from their headers and
            for batches from a sample of the data. TAILOR_FLOPS sets the rate in FLOP/s,
            TAILOR_BANDWIDTH the bytes/s at which generation streams weights.

            --explain-data also runs the data and tokenizer nodes that training reads (cheap, and
            cached for the run) and prints a few tokenized examples as training sees them: the
            tokens the loss is computed on inside «…».

            Example: tailor plan specs/lora.yaml --set models.tuned.train.steps=400 --json
            """)

    @Argument(help: "The spec file.")
    var spec: String

    @OptionGroup var options: SpecOptions

    @Flag(help: "Print the plan as JSON (full content keys, resolved parameters).")
    var json = false

    @Option(help: "The artifact cache to report cached nodes from (default: TAILOR_CACHE, else the project's .tailor, as `tailor run` finds it).")
    var cache: String?

    @Flag(help: "Tokenize the training data and show which tokens the loss is computed on.")
    var explainData = false

    @Option(parsing: .unconditional, help: "Examples shown per tokenized dataset with --explain-data.")
    var examples = 3

    func validate() throws {
        if examples < 1 { throw ValidationError("--examples must be at least 1") }
        if json && explainData { throw ValidationError("--explain-data prints text; leave out --json") }
    }

    func run() throws {
        // What a run would do: from the cache when there is one (never created by planning).
        let directory = (spec as NSString).deletingLastPathComponent.isEmpty ? "." : (spec as NSString).deletingLastPathComponent
        let root = try cacheRoot(cache, from: directory)
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
        if explainData { try explain(plan, root: root, digests: compiler.digests) }
    }

    /// Runs what the tokenized datasets need (never training) and prints them as training sees them.
    func explain(_ plan: Plan, root: String, digests: FileDigests) throws {
        let targets = plan.nodes.filter { $0.kind == .dataTokenize }.map(\.id)
        guard !targets.isEmpty else { return print("\nno tokenized data to explain: the spec has no data.tokenize node") }
        do {
            let nodes = try Executor.selection(targets, in: plan)
            if let (node, why) = Executor.notExecutable(nodes).first {
                throw fail("cannot tokenize the data: '\(node.id)' cannot run yet: \(why)")
            }
            let outcomes = try Executor(plan: plan, store: try ArtifactStore(root: root), digests: digests).run(nodes, jobs: ProcessInfo.processInfo.activeProcessorCount)
            print("\ndata as training sees it (loss on «…»):")
            for preview in try DataPreview.all(outcomes, plan: plan, examples: examples) { print(preview.text, terminator: "") }
        } catch let error as ExecutionError {
            throw fail(error)
        }
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
