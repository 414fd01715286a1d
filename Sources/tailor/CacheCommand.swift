import ArgumentParser
import Foundation
import TailorEngine
import TailorExecutor

/// Options every cache subcommand shares.
struct CacheOptions: ParsableArguments {
    @Option(help: "The cache folder (default: TAILOR_CACHE, else the project's .tailor: the nearest one up from here, or at the git root).")
    var cache: String?

    @Option(help: "Where run records and .lock files are (default: the folder holding the cache).")
    var runs: [String] = []

    func maintenance() throws -> CacheMaintenance {
        let root = try cacheRoot(cache, from: ".")
        guard FileManager.default.fileExists(atPath: root + "/artifacts") else { throw ValidationError("'\(root)' is not a Tailor cache") }
        let parent = (root as NSString).deletingLastPathComponent
        return CacheMaintenance(store: try ArtifactStore(root: root), referenceRoots: runs.isEmpty ? [parent.isEmpty ? "." : parent] : runs)
    }
}

struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Look after the artifact cache: list, sizes, verify, collect garbage.",
        subcommands: [List.self, Usage.self, Verify.self, Collect.self])

    static func size(_ bytes: Int) -> String { ByteCountFormatter.string(fromByteCount: Int64(bytes), countStyle: .binary) }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "Every artifact: key, kind, size, the runs that use it.")
        @OptionGroup var options: CacheOptions

        func run() throws {
            for e in try options.maintenance().list() {
                let users = e.usedBy.isEmpty ? "unused" : "used by \(e.usedBy.count): " + e.usedBy.prefix(3).joined(separator: ", ")
                print("\(e.key.prefix(12))  \(e.kind.padding(toLength: 16, withPad: " ", startingAt: 0))  \(CacheCommand.size(e.bytes).padding(toLength: 10, withPad: " ", startingAt: 0))  \(users)")
            }
        }
    }

    struct Usage: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "du", abstract: "Space used, by node kind.")
        @OptionGroup var options: CacheOptions

        func run() throws {
            let entries = try options.maintenance().list()
            for (kind, group) in Dictionary(grouping: entries, by: \.kind).sorted(by: { $0.key < $1.key }) {
                print("\(kind.padding(toLength: 16, withPad: " ", startingAt: 0))  \(String(group.count).padding(toLength: 5, withPad: " ", startingAt: 0)) artifacts  \(CacheCommand.size(group.reduce(0) { $0 + $1.bytes }))")
            }
            print("total             \(entries.count) artifacts  \(CacheCommand.size(entries.reduce(0) { $0 + $1.bytes }))")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check every artifact's files against their digests; exit 1 if any differ.")
        @OptionGroup var options: CacheOptions

        func run() throws {
            let m = try options.maintenance()
            let bad: [(key: String, problem: String)]
            do {
                bad = try m.verify()
            } catch let error as ExecutionError {
                throw fail(error)
            }
            for (key, problem) in bad { print("\(key.prefix(12))  \(problem)") }
            print(bad.isEmpty ? "all \(m.keys().count) artifacts match their digests"
                  : "\(bad.count) artifacts are damaged; moved to \(m.store.root)/damaged/, the next run rebuilds them")
            if !bad.isEmpty { throw ExitCode(1) }
        }
    }

    struct Collect: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "gc", abstract: "Remove artifacts that no run record or lock references.")
        @OptionGroup var options: CacheOptions
        @Flag(help: "Only say what would be removed.")
        var dryRun = false

        func run() throws {
            let removed = try options.maintenance().collect(dryRun: dryRun)
            print("\(dryRun ? "would remove" : "removed") \(removed.count) artifacts, \(CacheCommand.size(removed.reduce(0) { $0 + $1.bytes }))")
        }
    }
}
