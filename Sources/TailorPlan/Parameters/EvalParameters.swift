import TailorSpec

/// The records an eval scores: its dataset, cut to the first `limit` when the spec sets one.
public struct EvalScope: Sendable {
    public var metrics: [String]
    public var limit: Int?

    init(_ p: Params) throws {
        metrics = try p.required("metrics", \.strings)
        limit = p.optional("limit", \.int)
    }

    /// How many of `count` records are scored.
    public func scored(of count: Int) -> Int { limit.map { Swift.min($0, count) } ?? count }
}

/// eval.lm: teacher-forced loss and perplexity, and metrics over greedy answers.
public struct EvalLMParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.evalLM]
    public static var version: Int { 5 }  // 2: metrics keep the first generated answers; 3: chats through the model's own template; 4: 95% bootstrap intervals; 5: samples show the prompt asked
    public var scope: EvalScope
    /// Longest generated answer; in the plan only when a metric generates.
    public var maxTokens: Int?
    /// Which of the eval's `repeats` this is (from 1): the prompt's random examples are drawn
    /// with a seed of the repeat's own.
    public var `repeat`: Int?

    public init(_ p: Params) throws {
        scope = try EvalScope(p)
        maxTokens = p.optional("max_tokens", \.int)
        `repeat` = p.optional("repeat", \.int)
    }
}

/// eval.classify: accuracy and macro-F1 of a model with a task head.
public struct EvalClassifyParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.evalClassify]
    public var scope: EvalScope
    public init(_ p: Params) throws { scope = try EvalScope(p) }
}

/// eval.reward: a reward model on held-out preference pairs.
public struct EvalRewardParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.evalReward]
    public static var version: Int { 2 }  // 2: conversational pairs through the model's chat template
    public var scope: EvalScope
    public init(_ p: Params) throws { scope = try EvalScope(p) }
}

/// eval.continual: a continual model's forgetting matrix from its cells' exact-match scores.
public struct EvalContinualParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.evalContinual]
    /// Stages trained (the matrix has one more row, the base).
    public var tasks: Int
    /// The columns' dataset names: each task's held-out set, then the general set.
    public var columns: [String]

    public init(_ p: Params) throws {
        tasks = try p.required("tasks", \.int)
        columns = try p.required("columns", \.strings)
    }
}

/// eval.report: one table of the eval's models.
public struct EvalReportParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.evalReport]
    public static var version: Int { 4 }  // 2: report.json names its table's columns (`win_rate` brings two); 3: forgetting matrices; 4: 95% intervals
    public var metrics: [String]
    public init(_ p: Params) throws { metrics = try p.required("metrics", \.strings) }
}
