import ArgumentParser
import Foundation
import TailorDiagnostics
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

    func run() throws {
        let compiler = makeCompiler()
        var diagnostics = DiagnosticBag()
        let plan = compiler.plan(file: spec, sets: options.sets, diagnostics: &diagnostics)
        report(diagnostics, sources: compiler.sources, options: options)
        guard let plan else { throw ExitCode(1) }
        print(json ? PlanRenderer.json(plan) : PlanRenderer.text(plan), terminator: "")
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
