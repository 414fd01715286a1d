import Foundation
import TailorPlan
import TailorSpec

/// What a node runner is given: the node, its inputs' artifacts, a staging folder for its
/// outputs and a way to report progress.
public struct NodeContext {
    public let node: PlanNode
    public let inputs: [(input: PlanInput, artifact: Artifact)]
    /// Where the runner writes its output files (flat: one folder).
    public let output: String
    /// Kept across attempts at the same key until the artifact is stored (checkpoints).
    public let scratch: String
    public let specDirectory: String
    public let report: (Executor.Progress) -> Void
    /// Says something the user must see that does not stop the node.
    public let warning: (String) -> Void
    /// The store, for `filed`/`file(under:)` only: a runner reads its inputs from `inputs`.
    let store: ArtifactStore
    /// The key the artifact is stored under.
    let key: String

    /// Reports a line of progress; `done`/`total` let displays draw a bar and an ETA.
    public func progress(_ text: String, done: Int? = nil, total: Int? = nil, since start: Date? = nil) {
        report(Executor.Progress(text: text, done: done, total: total, elapsed: start.map { Date().timeIntervalSince($0) }))
    }

    public func warn(_ text: String) { warning(text) }

    /// Which parameters the runner read (the executor checks it read them all).
    public let reads = ParameterReads()

    public var params: Params { Params(node.params, reads: reads) }

    /// The node's parameters as its kind's type reads them.
    public func parameters<P: NodeParameters>(_ type: P.Type) throws -> P { try P(params) }

    /// The node's seed (the spec's), for kinds that draw random numbers.
    public var seed: UInt64 { UInt64(truncatingIfNeeded: params["seed"]?.int ?? 0) }

    /// Earlier artifacts filed under `family` (see `ArtifactStore.file`), newest first: parts
    /// of them a runner may reuse instead of computing again. `family` says what makes the
    /// parts comparable (its digest names the memo's folder).
    public func filed(under family: String, limit: Int) -> [Artifact] { store.filed(under: Self.memoName(family), limit: limit) }

    /// Files this node's artifact under `family`, for later nodes to find with `filed`.
    public func file(under family: String) throws { try store.file(key, under: Self.memoName(family)) }

    static func memoName(_ family: String) -> String { String(Digest.of(text: family).dropFirst("sha256:".count)) }

    public func out(_ name: String) -> String { (output as NSString).appendingPathComponent(name) }

    /// A path from the spec, relative to the spec's folder.
    public func resolve(_ path: String) -> String { path.hasPrefix("/") || specDirectory == "." ? path : specDirectory + "/" + path }

    /// The inputs in `role`, in the plan's order.
    public func inputs(_ role: InputRole) -> [(input: PlanInput, artifact: Artifact)] { inputs.filter { $0.input.role == role } }

    /// The one input in `role`.
    public func input(_ role: InputRole) throws -> (input: PlanInput, artifact: Artifact) {
        guard let found = inputs(role).first else { throw ExecutionError.noInput(role) }
        return found
    }
}
