import TailorRuntime

/// A causal LM laid out for serving: its linear weights kept as stored (GGUF blocks or Float32)
/// and multiplied by kernels whose every output row depends on its input row alone, and a
/// key/value cache per sequence. One step runs the new tokens of many sequences together, each
/// at its own position (continuous batching), and a sequence gets the same logits, bit for bit,
/// whatever else shares its steps. Inference only: training keeps the `CausalLM` tensors.
public protocol DecodingModel: AnyObject, Sendable {
    var vocab: Int { get }
    /// Most positions a sequence can hold.
    var context: Int { get }
    /// An empty cache for a sequence of up to `capacity` positions.
    func makeCache(capacity: Int) -> SequenceKV
    /// Runs each segment's new tokens after its cached ones (appending their keys and values) and
    /// returns the logits of the last new token of every segment that asks for them, (S, V) in order.
    func step(_ segments: [DecodeSegment]) -> Tensor
}

/// The new tokens of one sequence in a step.
public struct DecodeSegment {
    public var cache: SequenceKV
    public var tokens: [Int32]
    public var adapters: DecodingAdapters?
    /// Whether the step returns logits for the segment's last token (not for a prompt's middle part).
    public var wantsLogits: Bool

    public init(cache: SequenceKV, tokens: [Int32], adapters: DecodingAdapters? = nil, wantsLogits: Bool = true) {
        self.cache = cache
        self.tokens = tokens
        self.adapters = adapters
        self.wantsLogits = wantsLogits
    }
}

/// A LoRA adapter set as a decoding step applies it: per module, A as (r, In) rows, so x·A is
/// r dot products like the base weights', and B as it is trained, (r, Out): the update is r
/// scaled rows of B added into y, 16 columns at a time. (As (Out, r) rows, each output was a dot
/// product of r = 8 values, all overhead: a tenth of a step's time with adapters mixed.) Each
/// row's update is computed from that row alone, in a fixed order.
public final class DecodingAdapters: Sendable {
    struct Module: Sendable {
        let a: BlockMatrix
        let b: Tensor  // (r, Out), a copy: training may go on updating the adapter's own
        let scale: Float
    }

    let modules: [String: Module]

    public init(_ set: AdapterSet) {
        modules = set.adapters.mapValues { lora in Module(a: BlockMatrix(transposing: lora.a), b: Tensor(lora.b.scalars, shape: lora.b.shape), scale: lora.scale) }
    }

    /// Adds module `name`'s update, scale·(x·A)·B, for `rows` rows of x (…, In) to y's columns
    /// `column ..< column + Out` (y has `stride` columns): y += (scale·u_k)·B_k for k = 0…r−1 in
    /// turn, each a multiply then an add, the same in the 16-column steps and the tail.
    func add(_ name: String, x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, stride: Int, column: Int = 0) {
        guard let m = modules[name], rows > 0 else { return }
        let r = m.a.rows, out = m.b.shape[1], b = m.b.pointer
        let u = UnsafeMutablePointer<Float>.allocate(capacity: rows * r)
        defer { u.deallocate() }
        m.a.multiply(x, rows: rows, into: u)  // (rows, r)
        for i in 0..<rows {
            let yi = y + i * stride + column
            for k in 0..<r {
                let s = u[i * r + k] * m.scale, bk = b + k * out
                let lanes = SIMD16<Float>(repeating: s)
                var j = 0
                while j + 16 <= out {
                    let sum = UnsafeRawPointer(yi + j).loadUnaligned(as: SIMD16<Float>.self) + lanes * UnsafeRawPointer(bk + j).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(yi + j).storeBytes(of: sum, as: SIMD16<Float>.self)
                    j += 16
                }
                while j < out {
                    yi[j] += s * bk[j]
                    j += 1
                }
            }
        }
    }
}

/// A linear layer on block weights: y = x·Wᵀ (+ bias), plus each segment's adapter update.
struct BlockLinear: Sendable {
    let weight: BlockMatrix  // (Out, In)
    let bias: Tensor?  // (Out)

    /// x (R, In) contiguous → (R, Out). `batch` gives each segment's row range and adapters;
    /// `parts` the module names adapters use, each with its first column (several for a fused
    /// projection such as GPT-2's q, k and v).
    func callAsFunction(_ x: Tensor, _ batch: DecodeRows, _ parts: [(String, Int)]) -> Tensor {
        Self.apply([(self, parts)], x, batch)[0]
    }

    /// Several linear layers on one input in one pass over the weights (see `BlockMatrix.multiply`).
    static func apply(_ layers: [(BlockLinear, [(String, Int)])], _ x: Tensor, _ batch: DecodeRows) -> [Tensor] {
        let r = x.shape[0]
        let outputs = layers.map { Tensor(zeros: [r, $0.0.weight.rows]) }
        BlockMatrix.multiply(zip(layers, outputs).map { ($0.0.weight, $1.pointer) }, x.pointer, rows: r)
        for ((layer, parts), y) in zip(layers, outputs) {
            let n = layer.weight.rows
            if let bias = layer.bias {
                for i in 0..<r { for j in 0..<n { y.pointer[i * n + j] += bias.pointer[j] } }
            }
            for (s, range) in batch.ranges.enumerated() {
                guard let adapters = batch.segments[s].adapters else { continue }
                for (module, column) in parts {
                    adapters.add(module, x: x.pointer + range.lowerBound * layer.weight.columns, rows: range.count,
                                 into: y.pointer + range.lowerBound * n, stride: n, column: column)
                }
            }
        }
        return outputs
    }
}

/// The rows of a step: every segment's tokens one after another, each row with its position.
struct DecodeRows {
    let segments: [DecodeSegment]
    let ranges: [Range<Int>]
    let positions: [Int]
    /// Each row's segment and its row within it.
    let owner: [(segment: Int, row: Int)]
    /// The largest cache capacity among the segments (how many scores a row may need).
    let longest: Int
    var count: Int { positions.count }

    init(_ segments: [DecodeSegment]) {
        self.segments = segments
        var ranges: [Range<Int>] = [], positions: [Int] = []
        for s in segments {
            precondition(!s.tokens.isEmpty && s.cache.length + s.tokens.count <= s.cache.capacity,
                         "decode step: a segment needs new tokens that fit its cache")
            ranges.append(positions.count..<(positions.count + s.tokens.count))
            positions += s.cache.length..<(s.cache.length + s.tokens.count)
        }
        self.ranges = ranges
        self.positions = positions
        owner = ranges.enumerated().flatMap { s, range in range.map { (s, $0 - range.lowerBound) } }
        longest = segments.map(\.cache.capacity).max() ?? 0
    }

    /// Appends each segment's new keys and values (R, Hkv·D) to its cache, then writes every row's
    /// causal attention over its own sequence, (R, H·D). Caches advance in `finish`.
    func attention(layer: Int, q: Tensor, k: Tensor, v: Tensor, heads: Int) -> Tensor {
        let kvWidth = k.shape[1], d = q.shape[1] / heads
        for (s, range) in ranges.enumerated() {
            segments[s].cache.append(layer: layer, keys: k.pointer + range.lowerBound * kvWidth, values: v.pointer + range.lowerBound * kvWidth,
                                     rows: range.count)
        }
        let out = Tensor(zeros: q.shape)
        let (qp, op) = (UnsafeSendableBox(q.pointer), UnsafeSendableBox(out.pointer))
        // Work goes out by (row, key head), so the query heads that read one key head's cache run
        // one after another on one core, while those keys and values are in its caches.
        let kvHeads = kvWidth / d, group = heads / kvHeads
        Parallel.forEach(count * kvHeads, grain: 1) { items in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: longest)
            defer { scores.deallocate() }
            for item in items {
                let (row, kvHead) = (item / kvHeads, item % kvHeads), (s, local) = owner[row]
                for head in (kvHead * group)..<((kvHead + 1) * group) {
                    let at = row * heads * d + head * d
                    segments[s].cache.attend(layer: layer, query: qp.value + at, row: local, head: head, heads: heads, scores: scores, into: op.value + at)
                }
            }
        }
        return out
    }

    /// Advances every cache past this step's tokens.
    func finish() { for (s, range) in ranges.enumerated() { segments[s].cache.length += range.count } }

    /// The rows whose logits the step returns: each asking segment's last.
    var logitRows: [Int] { ranges.indices.filter { segments[$0].wantsLogits }.map { ranges[$0].upperBound - 1 } }
}

/// A float decoder laid out for serving, sharing its weights; adapters attached to it are merged
/// into copies of the weights they change (the model itself is left as it is).
public func decodingModel(_ model: any CausalLM) throws -> any DecodingModel {
    var model = model
    if let adapted = model as? any CausalLM & Adaptable, !adapted.adapters.isEmpty, let merged = ModelPool.view(model) as? any CausalLM & Adaptable {
        merged.adapters = adapted.adapters
        merged.mergeAdapters()
        model = merged
    }
    switch model {
    case let llama as Llama: return DecodingLlama(llama)
    case let gpt2 as GPT2: return DecodingGPT2(gpt2)
    default: throw ModelFileError("\(type(of: model))", "is not a decoder Tailor can serve")
    }
}
