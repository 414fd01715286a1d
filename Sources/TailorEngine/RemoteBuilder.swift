import TailorPlan

/// Builds nodes outside the process that runs the plan: a batch scheduler runs each job
/// (`tailor exec-node`) against the same cache, on a filesystem both sides share. The executor
/// still decides what runs and in which order; the builder only runs what it is handed.
public protocol RemoteBuilder: Sendable {
    /// Runs `job` (every input already in `store`) and returns once it has ended well, its
    /// artifact stored under `job.key`; throws, naming the node, when it failed.
    func build(_ job: Job, node: PlanNode, machine: MachineProfile, store: ArtifactStore, events: @escaping (Executor.Event) -> Void) throws
}
