/// The scores of a continual run: `R[i][j]` is the score on task `j` after stage `i`, row 0
/// the model before any stage, rows 1…T after each of the T tasks in training order, and
/// columns 0…T−1 the tasks in that order (an extra column, a general set no stage trains on,
/// may follow). Tools disagree on what "forgetting" means, so each summary names its source.
public struct AccuracyMatrix: Sendable, Equatable {
    /// (T + 1) rows of at least T columns.
    public let scores: [[Double]]
    /// How many of the columns are tasks trained in order (the rest are extra columns).
    public let tasks: Int

    public init(_ scores: [[Double]], tasks: Int) {
        precondition(tasks >= 1 && scores.count == tasks + 1 && scores.allSatisfy { $0.count >= tasks },
                     "one row before training and one per task, a column per task")
        self.scores = scores
        self.tasks = tasks
    }

    /// R[i][j] with the papers' 1-based task numbers: `r(i, j)` is the score on task j (1…T)
    /// after stage i (0…T).
    func r(_ i: Int, _ j: Int) -> Double { scores[i][j - 1] }

    var last: Int { tasks }

    /// Average accuracy after the last stage, ACC = (1/T) Σ_j R[T][j] (Lopez-Paz & Ranzato 2017, GEM).
    public var averageAccuracy: Double { (1...tasks).map { r(last, $0) }.reduce(0, +) / Double(tasks) }

    /// Backward transfer, BWT = 1/(T−1) Σ_{j<T} (R[T][j] − R[j][j]) (GEM): how much learning
    /// later tasks changed the earlier ones; negative is forgetting. nil with one task.
    public var backwardTransfer: Double? {
        guard tasks > 1 else { return nil }
        return (1..<tasks).map { r(last, $0) - r($0, $0) }.reduce(0, +) / Double(tasks - 1)
    }

    /// Forward transfer, FWT = 1/(T−1) Σ_{j≥2} (R[j−1][j] − R[0][j]) (GEM, with the starting
    /// model's score as the baseline b_j): how much earlier tasks helped a task before it was
    /// trained. nil with one task.
    public var forwardTransfer: Double? {
        guard tasks > 1 else { return nil }
        return (2...tasks).map { r($0 - 1, $0) - r(0, $0) }.reduce(0, +) / Double(tasks - 1)
    }

    /// Forgetting of each earlier task, f_j = max_{l ∈ 1…T−1} R[l][j] − R[T][j] for j < T
    /// (Chaudhry et al. 2018, "Riemannian Walk"): the best the task ever scored after training
    /// began, minus its final score. Avalanche's `forgetting` instead subtracts from the score
    /// right after the task's own stage (R[j][j]); `lastForgetting` is that one.
    public var forgetting: [Double] {
        guard tasks > 1 else { return [] }
        return (1..<tasks).map { j in (1..<tasks).map { r($0, j) }.max()! - r(last, j) }
    }

    /// Mean of `forgetting` (Chaudhry et al.'s average forgetting F_T); nil with one task.
    public var averageForgetting: Double? { forgetting.isEmpty ? nil : forgetting.reduce(0, +) / Double(forgetting.count) }

    /// Avalanche's per-task forgetting, R[j][j] − R[T][j] for j < T.
    public var lastForgetting: [Double] {
        guard tasks > 1 else { return [] }
        return (1..<tasks).map { r($0, $0) - r(last, $0) }
    }
}
