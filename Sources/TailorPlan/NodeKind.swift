/// Every kind of node a plan can hold. The raw value is what plans show; the
/// implementation version is part of every content key, so changing how a kind
/// computes its output invalidates exactly that kind's cached artifacts.
public enum NodeKind: String, Sendable, CaseIterable, Codable {
    case dataGenerate = "data.generate"
    case dataLoad = "data.load"
    case dataFolder = "data.folder"
    case dataCommand = "data.command"
    case dataSplit = "data.split"
    case dataFilter = "data.filter"
    case dataTemplate = "data.template"
    case dataTake = "data.take"
    case dataMix = "data.mix"
    case dataSample = "data.sample"
    case dataLabel = "data.label"
    case dataTokenize = "data.tokenize"
    case tokenizerTrain = "tokenizer.train"
    case tokenizerLoad = "tokenizer.load"
    case tokenizerBytes = "tokenizer.bytes"
    case promptTemplate = "prompt.template"
    case modelInit = "model.init"
    case modelLoad = "model.load"
    case trainPretrain = "train.pretrain"
    case trainFinetune = "train.finetune"
    case trainLoRA = "train.lora"
    case trainHead = "train.head"
    case trainContinual = "train.continual"
    case trainReward = "train.reward"
    case trainDPO = "train.dpo"
    case trainPPO = "train.ppo"
    case dpoReference = "dpo.reference"
    case ewcFisher = "ewc.fisher"
    case ragChunk = "rag.chunk"
    case ragIndex = "rag.index"
    case evalLM = "eval.lm"
    case evalClassify = "eval.classify"
    case evalReward = "eval.reward"
    case evalRAG = "eval.rag"
    case evalContinual = "eval.continual"
    case evalReport = "eval.report"
    case exportModel = "export.model"
    case serveAPI = "serve.api"

    /// Implementation version of this kind, declared by its parameters type (1 for a kind
    /// with none yet); part of every content key.
    public var version: Int { NodeParameterTypes.byKind[self]?.version ?? 1 }

    /// Whether the node trains weights (and so has training estimates).
    public var trains: Bool { rawValue.hasPrefix("train.") }
}
