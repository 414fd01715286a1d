import Foundation
import TailorPlan
import TailorSpec

/// What a node runner is given: the node, its inputs' artifacts, a staging folder for its
/// outputs and a way to report progress.
struct NodeContext {
    let node: PlanNode
    let inputs: [(input: PlanInput, artifact: Artifact)]
    /// Where the runner writes its output files (flat: one folder).
    let output: String
    /// Kept across attempts at the same key until the artifact is stored (checkpoints).
    let scratch: String
    let specDirectory: String
    let report: (Executor.Progress) -> Void
    /// Says something the user must see that does not stop the node.
    let warning: (String) -> Void

    /// Reports a line of progress; `done`/`total` let displays draw a bar and an ETA.
    func progress(_ text: String, done: Int? = nil, total: Int? = nil, since start: Date? = nil) {
        report(Executor.Progress(text: text, done: done, total: total, elapsed: start.map { Date().timeIntervalSince($0) }))
    }

    func warn(_ text: String) { warning(text) }

    /// Which parameters the runner read (the executor checks it read them all).
    let reads = ParameterReads()

    var params: Params { Params(node.params, reads: reads) }

    /// The node's parameters as its kind's type reads them.
    func parameters<P: NodeParameters>(_ type: P.Type) throws -> P { try P(params) }

    /// The node's seed (the spec's), for kinds that draw random numbers.
    var seed: UInt64 { UInt64(truncatingIfNeeded: params["seed"]?.int ?? 0) }

    func out(_ name: String) -> String { (output as NSString).appendingPathComponent(name) }

    /// A path from the spec, relative to the spec's folder.
    func resolve(_ path: String) -> String { path.hasPrefix("/") || specDirectory == "." ? path : specDirectory + "/" + path }

    /// The inputs in `role`, in the plan's order.
    func inputs(_ role: InputRole) -> [(input: PlanInput, artifact: Artifact)] { inputs.filter { $0.input.role == role } }

    /// The one input in `role`.
    func input(_ role: InputRole) throws -> (input: PlanInput, artifact: Artifact) {
        guard let found = inputs(role).first else { throw ExecutionError.noInput(role) }
        return found
    }

    /// The dataset an input refers to: its port's file, or `data.jsonl`.
    func dataset(_ entry: (input: PlanInput, artifact: Artifact)) throws -> Dataset {
        try Dataset.read(entry.artifact.path((entry.input.port ?? "data") + ".jsonl"))
    }

    /// The records an eval scores: its dataset input, cut to the first `limit` records when
    /// the eval sets one (the estimate and the content key already count with it).
    func evaluated(_ entry: (input: PlanInput, artifact: Artifact), _ scope: EvalScope) throws -> Dataset {
        let data = try dataset(entry)
        return Dataset(records: Array(data.records.prefix(scope.scored(of: data.count))))
    }
}

/// Moves everything a writer put in a staging subfolder (writers that create their own folder,
/// like the Hugging Face savers) up into the node's flat output folder.
func moveUp(_ staging: String, into folder: String) throws {
    let fm = FileManager.default
    for name in try fm.contentsOfDirectory(atPath: staging) { try fm.moveItem(atPath: staging + "/" + name, toPath: folder + "/" + name) }
    try fm.removeItem(atPath: staging)
}
