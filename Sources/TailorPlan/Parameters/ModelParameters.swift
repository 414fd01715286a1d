import TailorSpec

/// model.init: a network of the spec's architecture and size, from seeded random weights.
public struct ModelInitParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.modelInit]
    public var arch: String
    public var layers: Int, width: Int, heads: Int, context: Int
    /// Key/value heads (llama's grouped-query attention); others need it equal to `heads`.
    public var kvHeads: Int?
    /// The MLP's hidden width; gpt2 needs it equal to 4 × width.
    public var mlp: Int?
    /// Standard deviation of the normal initialisation.
    public var std: Double
    public var seed: Int

    public init(_ p: Params) throws {
        arch = try p.required("arch", \.string)
        let size = try p.required("size")
        layers = try size.required("layers", \.int)
        width = try size.required("width", \.int)
        heads = try size.required("heads", \.int)
        context = try size.required("context", \.int)
        kvHeads = size.optional("kv_heads", \.int)
        mlp = size.optional("mlp", \.int)
        std = try p.required("init").required("std", \.number)
        seed = try p.required("seed", \.int)
    }
}

/// model.load: a GGUF file or a Hugging Face folder (the path is the node's file).
public struct ModelLoadParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.modelLoad]
    /// `gguf` or `hf`, as the planner read it from the path.
    public var format: String
    public init(_ p: Params) throws { format = try p.required("format", \.string) }
}

/// export.model: a Hugging Face folder or a PEFT adapter.
public struct ExportParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.exportModel]
    public static var version: Int { 2 }  // 2: a Llama's chat template is written with it
    public var format: String
    public var merge: Bool
    public var dtype: String

    public init(_ p: Params) throws {
        format = try p.required("format", \.string)
        merge = try p.required("merge", \.bool)
        dtype = try p.required("dtype", \.string)
    }
}
