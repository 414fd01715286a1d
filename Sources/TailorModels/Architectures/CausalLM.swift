import TailorRuntime

/// A decoder that predicts the next token: what generation, scoring and (later) training
/// need from an architecture.
public protocol CausalLM: AnyObject {
    var vocab: Int { get }
    /// Most positions the model can attend over.
    var context: Int { get }
    /// An empty key/value cache for `batch` sequences of up to `capacity` positions.
    func makeCache(batch: Int, capacity: Int) -> KVCache
    /// Logits (B, T, V) for a (B, T) batch of ids, or (B, 1, V) with `lastOnly`; with a cache the
    /// ids continue the cached sequences. `keyStart[b]`: left padding of sequence b.
    func logits(_ ids: [Int32], batch: Int, cache: KVCache?, keyStart: [Int]?, lastOnly: Bool) -> Tensor
    /// Logits (B, T, V) for rows packed with several examples each: positions restart and
    /// attention stops at every example boundary.
    func logits(_ ids: [Int32], batch: Int, packed: PackedRows) -> Tensor
    /// Width of the hidden states.
    var width: Int { get }
    /// Every parameter under its stable name (training and checkpoints).
    var namedParameters: [(String, Tensor)] { get }
    /// Gives every weight contiguous storage of its own, before training updates it in place.
    func makeTrainable()
    /// Final-normalised hidden states (B, T, C) before the LM head, for task heads.
    func hidden(_ ids: [Int32], batch: Int, cache: KVCache?, keyStart: [Int]?) -> Tensor
    /// The LM head on hidden states: (B, T, C) → logits (B, T, V). With `hidden`, one forward
    /// pass gives both a policy's logits and a value head's input (PPO).
    func logits(fromHidden hidden: Tensor) -> Tensor
}

extension Llama: CausalLM {
    public var width: Int { config.width }
    public var vocab: Int { config.vocab }
    public var context: Int { config.context }
    public func makeCache(batch: Int, capacity: Int) -> KVCache { KVCache(for: config, batch: batch, capacity: capacity) }
}
