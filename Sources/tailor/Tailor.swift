import ArgumentParser
import Foundation
import TailorDiagnostics
import TailorPlan

/// `tailor`: declarative LLM customization. Subcommands are thin: they call the
/// library and print what it collected.
@main
struct Tailor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tailor",
        abstract: "Check, plan and run declarative LLM customization experiments.",
        discussion: """
            Exit codes: 0 success, 1 errors in a spec or its data, 2 usage errors.

            Examples:
              tailor check specs/quickstart.yaml
              tailor plan specs/lora.yaml --set models.tuned.lora.rank=16
              tailor graph specs/rag.yaml --format mermaid
            """,
        version: "0.1.0",
        subcommands: [Check.self, PlanCommand.self, Graph.self, SchemaCommand.self, Run.self, JobCommand.self, ExecNode.self, Repro.self, CacheCommand.self, Inspect.self, Generate.self, Score.self, Retrieve.self, Embed.self, Convert.self, Serve.self, Label.self]
    )

    /// Runs the command; usage errors exit with 2 (argument-parser's default is 64).
    static func mainWithExitCodes() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            Foundation.exit(2)
        }
    }

    static func main() { mainWithExitCodes() }
}

/// Options every spec-reading command shares.
struct SpecOptions: ParsableArguments {
    @Option(name: .customLong("set"), help: ArgumentHelp("Override a spec value: KEY.PATH=VALUE (YAML).", valueName: "key=value"))
    var sets: [String] = []

    @Option(help: "How diagnostics are printed: text or json.")
    var diagnosticsFormat: DiagnosticRenderer.Format = .text

    @Flag(help: "Colour diagnostics even when stderr is not a terminal.")
    var color = false
}

extension DiagnosticRenderer.Format: ExpressibleByArgument {}
extension GraphRenderer.Format: ExpressibleByArgument {}

/// Prints collected diagnostics to stderr, coloured on a terminal (unless NO_COLOR).
func report(_ diagnostics: DiagnosticBag, sources: SourceManager, options: SpecOptions) {
    guard !diagnostics.items.isEmpty else { return }
    let tty = isatty(2) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    let renderer = DiagnosticRenderer(sources: sources, colour: options.color || tty)
    let text = renderer.render(diagnostics.sorted, format: options.diagnosticsFormat)
    FileHandle.standardError.write(Data(text.utf8))
}

/// The compiler for this machine (its memory, and the rate from TAILOR_FLOPS).
func makeCompiler() -> Compiler { Compiler(machine: .current()) }
