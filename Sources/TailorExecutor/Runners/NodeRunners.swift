import TailorEngine
import TailorPlan

enum NodeRunners {
    /// The stages whose runners Tailor has: adding a stage is adding it here.
    static let groups: [any NodeRunnerGroup.Type] = [
        DataRunners.self, DataFileRunners.self, SampleRunners.self, PromptRunners.self, TokenizerRunners.self,
        ModelRunners.self, TrainRunners.self, HeadRunners.self, RewardRunners.self, DPORunners.self, PPORunners.self, ContinualRunners.self, EvalRunners.self, RAGRunners.self,
        ExportRunners.self,
    ]

    /// Every registered kind's runner.
    static let registry = RunnerRegistry(groups)
}

extension Executor {
    /// An engine with every runner Tailor has.
    public convenience init(plan: Plan, store: ArtifactStore, digests: FileDigests? = nil) {
        self.init(plan: plan, store: store, digests: digests, runners: NodeRunners.registry)
    }

    /// Nodes `run` cannot execute yet, each with why (a later issue implements them).
    public static func notExecutable(_ nodes: [PlanNode]) -> [(PlanNode, String)] { NodeRunners.registry.notExecutable(nodes) }

    /// Runs a job against `store` with every runner Tailor has.
    public static func execute(_ job: Job, store: ArtifactStore, events: @escaping (Event) -> Void = { _ in }) throws -> Outcome {
        try execute(job, store: store, runners: NodeRunners.registry, events: events)
    }
}
