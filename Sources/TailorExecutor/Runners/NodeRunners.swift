import TailorPlan

/// What runs one node: it reads its inputs and parameters from the context and writes its
/// files into the context's output folder. The engine knows runners only through this.
typealias NodeRunner = @Sendable (NodeContext) throws -> Void

/// A stage's runners, by the node kinds they run.
protocol NodeRunnerGroup {
    static var runners: [NodeKind: NodeRunner] { get }
}

enum NodeRunners {
    /// The stages whose runners the executor knows: adding a stage is adding it here.
    static let groups: [any NodeRunnerGroup.Type] = [
        DataRunners.self, DataFileRunners.self, PromptRunners.self, TokenizerRunners.self,
        ModelRunners.self, TrainRunners.self, HeadRunners.self, EvalRunners.self, ExportRunners.self,
    ]

    /// Every registered kind's runner; a kind registered twice is a programming error.
    static let registry: [NodeKind: NodeRunner] = groups.reduce(into: [:]) { all, group in
        all.merge(group.runners) { _, _ in preconditionFailure("a node kind is registered by two runner groups") }
    }
}
