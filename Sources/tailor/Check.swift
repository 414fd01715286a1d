import ArgumentParser
import Foundation
import TailorDiagnostics
import TailorPlan

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check specs without planning or running them; report every error at once.",
        discussion: "Example: tailor check specs/*.yaml")

    @Argument(help: "Spec files to check.")
    var specs: [String]

    @OptionGroup var options: SpecOptions

    func validate() throws {
        if specs.isEmpty { throw ValidationError("give at least one spec file") }
    }

    func run() throws {
        let compiler = makeCompiler()
        var all = DiagnosticBag()
        for spec in specs {
            var diagnostics = DiagnosticBag()
            let checked = compiler.check(file: spec, sets: options.sets, diagnostics: &diagnostics)
            all.append(contentsOf: diagnostics)
            if !diagnostics.hasErrors {
                let variants = checked.count > 1 ? " (\(checked.count) sweep variants)" : ""
                print("\(spec): ok\(variants)")
            }
        }
        report(all, sources: compiler.sources, options: options)
        if all.hasErrors { throw ExitCode(1) }
    }
}
