import TailorRuntime

/// A low-rank adapter on one linear module: y = x·W + scale · (x·A)·B, with A (In, r) random and
/// B (r, Out) zero, so a fresh adapter changes nothing. Only A and B train; W stays frozen and
/// never gets a gradient.
public struct LoRAAdapter: Sendable {
    public var a: Tensor  // (In, r)
    public var b: Tensor  // (r, Out)
    public var scale: Float

    public var rank: Int { a.shape[1] }

    /// A fresh adapter as PEFT initialises one: A uniform in ±1/√In (PyTorch's Kaiming-uniform
    /// with a = √5, what `nn.Linear` uses), so x·A has the scale of a linear layer's output
    /// whatever the rank; B = 0.
    public init(inputs: Int, outputs: Int, rank: Int, alpha: Float, rsLoRA: Bool = false, seed: UInt64, stream: UInt64) {
        let bound = 1 / Float(inputs).squareRoot()
        let u = Philox(seed: seed, stream: stream).uniform(count: inputs * rank)
        a = Tensor(u.map { (2 * $0 - 1) * bound }, shape: [inputs, rank]).requiringGrad()
        b = Tensor(zeros: [rank, outputs], requiresGrad: true)
        scale = rsLoRA ? alpha / Float(rank).squareRoot() : alpha / Float(rank)
    }

    public init(a: Tensor, b: Tensor, scale: Float) {
        self.a = a
        self.b = b
        self.scale = scale
    }

    /// scale · (x·A)·B for x (…, In): (…, Out). The scale multiplies the rank-r product, so
    /// no extra (…, Out) tensor is made and kept for the backward pass.
    public func delta(_ x: Tensor) -> Tensor { (x.matmul(a) * scale).matmul(b) }

    /// The weight update scale · A·B, (In, Out).
    public var update: Tensor { Tensor.noGrad { a.matmul(b) * scale } }
}

/// Adapters by module name (`layers.3.attn.q`). A model with an adapter set adds each adapter's
/// delta to its module's output; several sets can share one frozen base.
public struct AdapterSet: Sendable {
    public var adapters: [String: LoRAAdapter] = [:]
    /// Training only: dropout probability on each adapter's input (the base path sees the
    /// input unchanged, as in PEFT). Zero for evaluation and generation.
    public var dropout: Float = 0
    /// Seeds the dropout masks: each (step, module) gets its own stream, so a run and its
    /// resumed continuation draw the same masks whatever the thread count.
    public var dropoutSeed: UInt64 = 0, dropoutStep: UInt64 = 0

    public init(_ adapters: [String: LoRAAdapter] = [:]) { self.adapters = adapters }

    public var isEmpty: Bool { adapters.isEmpty }

    /// Trainable tensors, in a stable order.
    public var parameters: [(String, Tensor)] {
        adapters.keys.sorted().flatMap { [("\($0).lora_a", adapters[$0]!.a), ("\($0).lora_b", adapters[$0]!.b)] }
    }

    /// `y` plus the named module's adapter delta, when it has one (for outputs that are parts
    /// of a fused projection, such as GPT-2's q, k and v).
    func adding(_ name: String, _ x: Tensor, to y: Tensor) -> Tensor {
        guard let adapter = adapters[name] else { return y }
        return y + adapter.delta(input(name, x))
    }

    /// The named linear module, `x·W (+ bias)`, with its adapter's update when it has one,
    /// summed inside one output buffer (no extra full-width tensor per adapted module).
    func linear(_ name: String, _ x: Tensor, _ w: Tensor, bias: Tensor? = nil) -> Tensor {
        guard let adapter = adapters[name] else { return bias.map { x.linear(w, $0) } ?? x.matmul(w) }
        let u = input(name, x).matmul(adapter.a) * adapter.scale  // (…, r)
        return x.linear(w, bias: bias, adding: u, adapter.b)
    }

    /// The adapter's input: `x`, or `x` through this step's dropout mask when training with dropout.
    /// The module's stream comes from its name (FNV-1a), so no per-call work depends on how many
    /// adapters there are.
    func input(_ name: String, _ x: Tensor) -> Tensor {
        guard dropout > 0 else { return x }
        let module = Philox.stream(named: name)
        return x.dropout(dropout, rng: Philox(seed: dropoutSeed ^ module, stream: 0x6c6f_7261_0000_0000 | dropoutStep))
    }

    /// Whether a module name matches a target: an exact module (`attn.q`), a pattern with `*`
    /// (`attn.*`, `layers.0.*`), or `all`.
    public static func matches(_ module: String, _ target: String) -> Bool {
        if target == "all" { return true }
        let local = module.split(separator: ".").dropFirst(2).joined(separator: ".")  // "attn.q" of "layers.3.attn.q"
        for candidate in [module, local] {
            if target == candidate { return true }
            if target.hasSuffix("*"), candidate.hasPrefix(String(target.dropLast())) { return true }
        }
        return false
    }
}

/// Models that take LoRA adapters on their linear modules.
public protocol Adaptable: AnyObject {
    /// Linear modules adapters can attach to, by full name, with (In, Out).
    var adaptableShapes: [(String, Int, Int)] { get }
    var adapters: AdapterSet { get set }
    /// Folds every adapter into its weight (W += scale·A·B) and removes the adapters.
    func mergeAdapters()
}

extension Adaptable {
    /// Attaches fresh adapters to every module matching one of `targets`; returns how many.
    @discardableResult
    public func addLoRA(targets: [String], rank: Int, alpha: Float, rsLoRA: Bool = false, seed: UInt64) -> Int {
        var set = adapters
        for (i, (name, inputs, outputs)) in adaptableShapes.enumerated() where targets.contains(where: { AdapterSet.matches(name, $0) }) {
            set.adapters[name] = LoRAAdapter(inputs: inputs, outputs: outputs, rank: rank, alpha: alpha, rsLoRA: rsLoRA, seed: seed, stream: UInt64(i))
        }
        adapters = set
        return set.adapters.count
    }
}
