import ArgumentParser
import TailorSpec

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the reference of every spec key (Markdown), generated from the checker's schema.")

    func run() throws { print(SchemaDocs.markdown(), terminator: "") }
}
