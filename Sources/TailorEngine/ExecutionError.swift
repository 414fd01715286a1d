import Foundation
import TailorDiagnostics
import TailorPlan

/// A failure while executing a node, in plain words.
public struct ExecutionError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }

    /// Runs a file read, a path that cannot be read becoming an error that shows it as `display`.
    public static func reading<T>(_ display: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as FileProbe.Failure {
            throw ExecutionError.unreadable(display, failure.problem)
        }
    }
}

/// Every error execution can report, as the checker's are in Messages.swift: what went wrong
/// in plain words and, where there is one, what to do. The engine's are here, the runners'
/// beside them (TailorExecutor's ExecutionError+Runners.swift), one catalogue in two files. A
/// runner's errors do not name its node: the engine puts the node's spec location and id
/// before whatever a runner throws.
extension ExecutionError {
    // MARK: the engine and the cache

    public static func noNode(_ id: String) -> Self { .init("there is no node '\(id)' in the plan (see `tailor plan`)") }
    public static func runsBeforeInput(_ node: String, _ input: String) -> Self { .init("'\(node)' runs before its input '\(input)'") }
    public static func notExecutable(_ kind: NodeKind) -> Self { .init("'\(kind.rawValue)' nodes are not yet executable") }
    public static func inNode(_ node: PlanNode, _ error: Error) -> Self { .init("\(node.location.map { "\($0): " } ?? "")\(node.id): \(error)") }
    public static func unreadParameters(_ unread: [String], _ kind: NodeKind) -> Self {
        .init("Tailor accepted \(unread.map { "'\($0)'" }.joined(separator: ", ")) but its '\(kind.rawValue)' runner does not apply "
              + "\(unread.count == 1 ? "it" : "them"): this is a bug in Tailor, please report it")
    }
    public static func changedWhileRead(_ file: String, planned: String, now: String) -> Self {
        .init("'\(file)' changed while the run was reading it (\(planned.prefix(19))… when planned, \(now.prefix(19))… now); "
              + "nothing was stored: run again once it stops changing")
    }
    public static func noInput(_ role: InputRole) -> Self { .init("the node has no '\(role.rawValue)' input in its plan (a planner bug)") }
    public static func unreadable(_ display: String, _ problem: String) -> Self { .init("'\(display)' \(problem)") }
    public static func cacheFolder(_ path: String, _ why: String) -> Self { .init("cannot create the cache folder '\(path)' (\(why))") }
    public static func setAside(_ folder: String, _ why: String) -> Self { .init("cannot move the damaged artifact '\(folder)' aside (\(why))") }
    public static func lockFile(_ path: String, _ action: String) -> Self { .init("cannot \(action) the lock '\(path)'") }
    public static func storeMove(_ path: String) -> Self { .init("cannot move the artifact into '\(path)'") }
    public static func cannotOpen(_ path: String) -> Self { .init("cannot open '\(path)'") }
    public static func runRecord(_ folder: String, _ why: String) -> Self { .init("cannot create the run record '\(folder)': \(why)") }

    // MARK: jobs

    public static func jobNotJSON(_ why: Error) -> Self { .init("the job description is not JSON: \(why)") }
    public static func jobField(_ name: String) -> Self { .init("the job description has no valid '\(name)'") }
    public static func jobVersion(_ version: Int, _ current: Int) -> Self {
        .init("the job description is version \(version); this Tailor reads version \(current)")
    }
    public static func jobKind(_ name: String) -> Self { .init("the job's kind '\(name)' is not one this Tailor knows") }
    public static func jobKindVersion(_ kind: NodeKind, written: Int) -> Self {
        .init("the job was written by a Tailor whose '\(kind.rawValue)' is version \(written); this one's is \(kind.version), "
              + "so it would build another artifact: write the job again with this Tailor")
    }
    public static func jobRole(_ role: String) -> Self { .init("the job has an input of unknown role '\(role)'") }
    public static func jobInputMissing(_ place: String, input: String, artifact: String, cache: String) -> Self {
        .init("\(place)its input '\(input)' (artifact \(artifact.prefix(12))) is not in the cache at \(cache), or is damaged: "
              + "copy it there, or run the spec's inputs with `tailor job` on this cache")
    }
    public static func jobFileChanged(_ place: String, _ file: String) -> Self {
        .init("\(place)'\(file)' has changed since the job was written: write the job again")
    }
    public static func jobKey(_ place: String, computed: String, written: String) -> Self {
        .init("\(place)this Tailor computes the job's key as \(computed.prefix(12)), not \(written.prefix(12)): write the job again with it")
    }
}
