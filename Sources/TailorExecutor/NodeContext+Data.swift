import TailorEngine
import TailorPlan

extension NodeContext {
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
