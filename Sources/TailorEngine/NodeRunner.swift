import TailorPlan

/// What runs one node: it reads its inputs and parameters from the context and writes its
/// files into the context's output folder. The engine knows runners only through this.
public typealias NodeRunner = @Sendable (NodeContext) throws -> Void

/// A stage's runners, by the node kinds they run.
public protocol NodeRunnerGroup {
    static var runners: [NodeKind: NodeRunner] { get }
    /// Why `node`, of one of this group's kinds, cannot run in this Tailor (a generator or an
    /// export format not written yet), or nil: `tailor run` refuses such a plan before it starts.
    static func refusal(_ node: PlanNode) -> String?
}

extension NodeRunnerGroup {
    public static func refusal(_ node: PlanNode) -> String? { nil }
}

/// The runners an engine is given: the merged kinds of every group, and their refusals.
public struct RunnerRegistry: Sendable {
    public let runners: [NodeKind: NodeRunner]
    private let refusals: [@Sendable (PlanNode) -> String?]

    /// A kind registered by two groups is a programming error.
    public init(_ groups: [any NodeRunnerGroup.Type]) {
        runners = groups.reduce(into: [:]) { all, group in
            all.merge(group.runners) { _, _ in preconditionFailure("a node kind is registered by two runner groups") }
        }
        refusals = groups.map { group in { group.refusal($0) } }
    }

    /// Nodes this registry cannot run, each with why (a later issue implements them).
    public func notExecutable(_ nodes: [PlanNode]) -> [(PlanNode, String)] {
        nodes.compactMap { node in
            guard runners[node.kind] != nil else {
                // A server does not finish as a node does: its own command starts it.
                return (node, node.kind == .serveAPI ? "start it with `tailor serve SPEC`"
                                                     : "'\(node.kind.rawValue)' nodes are not yet executable")
            }
            return refusals.lazy.compactMap { $0(node) }.first.map { (node, $0) }
        }
    }
}
