import TailorSpec

/// The parameters of a node kind, typed: the one reader of the fields the planner writes for
/// that kind, shared by the planner's estimates and the runner. A type has no defaults of its
/// own: the schema holds them (so the checker and `tailor schema` show them), the checked spec
/// carries them filled in, and a field missing here is a planner bug (`ParameterError`).
public protocol NodeParameters: Sendable {
    /// The node kinds whose parameters this type reads.
    static var kinds: [NodeKind] { get }
    /// Implementation version of these kinds; bump when their output changes for the same
    /// inputs (it is part of every content key, so exactly their cached artifacts go stale).
    static var version: Int { get }
    init(_ p: Params) throws
}

extension NodeParameters {
    public static var version: Int { 1 }

    /// Reads a plan node's parameters without recording reads (for the planner and tools).
    public init(plan params: Value) throws { try self.init(Params(params)) }
}

/// Every parameters type, by the kinds it reads. A kind that no runner runs yet has none.
public enum NodeParameterTypes {
    public static let all: [any NodeParameters.Type] = [
        DataGenerateParameters.self, DataLoadParameters.self, DataFolderParameters.self, DataCommandParameters.self,
        DataSplitParameters.self, DataFilterParameters.self, DataTakeParameters.self, DataMixParameters.self, DataSampleParameters.self, DataLabelParameters.self,
        DataTemplateParameters.self, DataTokenizeParameters.self, TokenizerTrainParameters.self, SpecialTokensParameters.self, TokenizerLoadParameters.self, PromptParameters.self,
        ModelInitParameters.self, ModelLoadParameters.self, PretrainParameters.self, FinetuneParameters.self,
        LoRAParameters.self, ContinualParameters.self, FisherParameters.self, HeadParameters.self, RewardParameters.self, DPOParameters.self, DPOReferenceParameters.self, PPOParameters.self, EvalLMParameters.self, EvalClassifyParameters.self,
        EvalRewardParameters.self, EvalContinualParameters.self, EvalReportParameters.self, ExportParameters.self,
        RAGChunkParameters.self, RAGIndexParameters.self, EvalRAGParameters.self,
    ]

    /// The type of each kind that has one; a kind claimed by two types is a programming error.
    public static let byKind: [NodeKind: any NodeParameters.Type] = all.reduce(into: [:]) { map, type in
        for kind in type.kinds {
            precondition(map[kind] == nil, "\(kind.rawValue) has two parameters types")
            map[kind] = type
        }
    }
}

