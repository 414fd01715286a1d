import TailorDiagnostics
import TailorSpec

/// What an input is to the node that reads it. Runners find their inputs by role, never by
/// guessing from the files an artifact holds. Roles are not hashed into content keys: a role
/// follows from the node's kind and the input's position, which the key already holds.
public enum InputRole: String, Sendable, Hashable, CaseIterable {
    /// Data a data node derives from (split, filter, take, mix, template, tokenize, …).
    case source
    case tokenizer
    case prompt
    /// The model a training node starts from.
    case base
    /// Training data.
    case data
    /// Held-out data evaluated during training (`train.eval.data`).
    case heldOut = "held_out"
    /// A frozen reference policy (DPO).
    case reference
    /// A reward model (PPO, win rate).
    case reward
    /// The model an eval compares against (win rate).
    case baseline
    /// A continual model's task data, in training order.
    case task
    /// The stage before, in a continual model: what a stage goes on training (or, with adapters
    /// per task merged, what it folds its adapter into).
    case stage
    /// The Fisher information of an earlier stage (EWC).
    case fisher
    /// The model an eval scores, an export writes or a server serves.
    case model
    /// Data an eval scores.
    case evalData = "eval_data"
    case documents, chunks, index, encoder, generator
    /// The encoder a prompt's similar examples are chosen by, for a node that renders the prompt.
    case shotEncoder = "shot_encoder"
    /// One model's eval, gathered by the eval's report.
    case result
}

/// One input edge: the producing node, for split datasets which part, and its role.
public struct PlanInput: Sendable, Hashable {
    public var node: String
    public var port: String?
    public var role: InputRole

    public init(node: String, port: String? = nil, role: InputRole = .source) {
        self.node = node
        self.port = port
        self.role = role
    }

    public var display: String { port.map { "\(node):\($0)" } ?? node }

    /// As plans list it: `role: node`, or just the node for the data a data node derives from.
    public var labelled: String { role == .source ? display : "\(role.rawValue): \(display)" }

    /// The same edge in another role.
    public func `as`(_ role: InputRole) -> PlanInput { PlanInput(node: node, port: port, role: role) }
}

/// Static cost of a node, computed from the spec alone.
public struct Estimate: Sendable {
    public var rows: Int?
    /// Tokens per example, from a sample of the data (tokenized data and what reads it).
    public var lengths: TokenLengths?
    public var parameters: Int?
    public var trainable: Int?
    public var tokens: Int?
    public var flops: Double?
    public var weightsBytes: Double?
    public var gradientBytes: Double?
    public var optimizerBytes: Double?
    public var activationBytes: Double?
    /// Weight bytes read for few tokens at a time (generation's decode steps), and the part
    /// of `flops` done in those steps.
    public var streamedBytes: Double?, streamedFLOPs: Double?

    public init() {}

    /// Seconds on a machine: FLOPs at its rate, except in steps that stream the weights for a
    /// few tokens, which take the longer of their FLOPs and their bytes at its bandwidth.
    public func seconds(on machine: MachineProfile) -> Double? {
        guard let flops else { return nil }
        let streamed = streamedFLOPs ?? 0
        return (flops - streamed) / machine.flops + max(streamed / machine.flops, (streamedBytes ?? 0) / machine.bandwidth)
    }

    /// Peak memory: everything resident at once during the node.
    public var peakBytes: Double? {
        guard let w = weightsBytes else { return nil }
        return w + (gradientBytes ?? 0) + (optimizerBytes ?? 0) + (activationBytes ?? 0)
    }
}

/// A node of the execution graph.
public struct PlanNode: Sendable {
    public var id: String
    public var kind: NodeKind
    /// Fully resolved parameters (defaults filled, numbers canonical): part of the key.
    public var params: Value
    public var inputs: [PlanInput]
    /// Files read by the node, whose contents are part of the key.
    public var files: [String]
    /// SHA-256 (hex) over kind, version, parameters, input keys and file digests.
    public var key: String
    /// The spec line that gives rise to the node.
    public var location: SourceLocation?
    public var estimate: Estimate
    /// Sweep variants using this node; nil when every variant does (or without a sweep).
    public var variants: [String]?

    public init(id: String, kind: NodeKind, params: Value, inputs: [PlanInput], files: [String], key: String,
                location: SourceLocation?, estimate: Estimate, variants: [String]? = nil) {
        self.id = id
        self.kind = kind
        self.params = params
        self.inputs = inputs
        self.files = files
        self.key = key
        self.location = location
        self.estimate = estimate
        self.variants = variants
    }

    public var shortKey: String { String(key.prefix(12)) }
}

/// The typed execution graph of a spec, in an order where inputs come first.
public struct Plan: Sendable {
    public var name: String
    /// The spec's `description`, shown in plans and run reports.
    public var description: String? = nil
    public var file: String
    public var variants: [String]
    public var nodes: [PlanNode]
    public var machine: MachineProfile
    public var warnings: [Diagnostic]

    public init(name: String, file: String, variants: [String], nodes: [PlanNode], machine: MachineProfile, warnings: [Diagnostic]) {
        self.name = name
        self.file = file
        self.variants = variants
        self.nodes = nodes
        self.machine = machine
        self.warnings = warnings
    }

    public func node(_ id: String) -> PlanNode? { nodes.first { $0.id == id } }

    /// Sum of all nodes' FLOPs.
    public var totalFLOPs: Double { nodes.reduce(0) { $0 + ($1.estimate.flops ?? 0) } }
    public var totalSeconds: Double { nodes.reduce(0) { $0 + ($1.estimate.seconds(on: machine) ?? 0) } }

    /// The node with the largest peak memory.
    public var peak: PlanNode? {
        nodes.filter { $0.estimate.peakBytes != nil }.max { $0.estimate.peakBytes! < $1.estimate.peakBytes! }
    }
}
