import Dispatch
import Foundation
import TailorRuntime

/// Continuous batching: every step runs one new token for each sequence that is decoding and a
/// slice of the prompts still being read, all in one pass over the weights. Requests join at the
/// next step after they arrive and leave at the step they finish, each with a cache of its own;
/// a request's text does not depend on what else is running (see `DecodingModel`).
///
/// The caches of finished sequences are kept (up to `keptBytes`): a prompt that begins with the
/// tokens of one (a chat's system prompt, the turns before the last) copies their keys and values
/// instead of reading them again. They are the values it would compute, bit for bit, so this
/// changes when the first token comes, never which.
public final class BatchDecoder: @unchecked Sendable {  // `lock` guards `waiting`, `cancelled`, `forgotten` and `widest`; only the stepping thread touches `active` and `kept`
    public struct Request: Sendable {
        public var ids: [Int32]
        public var options: SamplingOptions
        public var adapters: DecodingAdapters?
        /// The sampler's stream: a prompt's index in a batch (as `Generator` numbers them), 0 for a server's requests.
        public var stream: Int
        /// Uptime (nanoseconds) after which the request ends with finish `timeout`.
        public var deadline: UInt64?
        /// Names the request for `cancel`.
        public var id: UInt64 = 0
        /// Told the continuation after each token, on the thread that steps (keep it short).
        public var onToken: @Sendable (Generation) -> Void
        /// Told the final continuation once, on the thread that steps.
        public var onFinish: @Sendable (Generation) -> Void

        public init(ids: [Int32], options: SamplingOptions, adapters: DecodingAdapters? = nil, stream: Int = 0, deadline: UInt64? = nil, id: UInt64 = 0,
                    onToken: @escaping @Sendable (Generation) -> Void = { _ in }, onFinish: @escaping @Sendable (Generation) -> Void) {
            self.id = id
            self.ids = ids
            self.options = options
            self.adapters = adapters
            self.stream = stream
            self.deadline = deadline
            self.onToken = onToken
            self.onFinish = onFinish
        }
    }

    final class Slot {
        let request: Request
        let cache: SequenceKV
        /// Tokens not yet in the cache: the prompt's unread part, then each sampled token.
        var pending: [Int32]
        var state = GenerationState()

        init(_ request: Request, cache: SequenceKV) {
            self.request = request
            self.cache = cache
            pending = request.ids
        }

        var decoding: Bool { !state.result.ids.isEmpty }
    }

    public let model: any DecodingModel
    public let tokenizer: BPETokenizer
    /// Most sequences in one step, and most new tokens in one step (prompts are read in slices of
    /// the rest, so a long prompt does not stall the others' decoding for its whole length).
    public let maxSequences: Int, stepTokens: Int
    private let lock = NSCondition()
    /// Held for every step of every decoder in the process: a step already uses every core (and
    /// the runtime's worker pool serves one parallel loop at a time).
    static let stepLock = NSLock()
    private var waiting: [Request] = []
    private var active: [Slot] = []
    private var started = false
    private var widest = 0
    /// Requests whose callers went away (ended at the next step), and adapters no longer served
    /// (their kept caches dropped at the next step).
    private var cancelled = Set<UInt64>(), forgotten: [DecodingAdapters] = []
    /// The most bytes the running sequences' caches may hold: a request that would pass it waits
    /// for others to end (one alone always runs).
    public let cacheBytes: Int
    /// A sequence's cache bytes per position.
    private let positionBytes: Int
    /// Finished sequences' caches, oldest first: the tokens they hold, under which adapters.
    /// (The adapters are held, so an identity never comes back for another set.)
    private var kept: [(tokens: [Int32], adapters: DecodingAdapters?, cache: SequenceKV)] = []
    /// The most bytes of finished caches kept for their prefixes (0: none).
    public let keptBytes: Int
    /// The shortest shared prefix worth copying.
    static let shortestReuse = 4

    /// The most sequences one step has run so far (what batching achieved).
    public var widestStep: Int { lock.withLock { widest } }

    public init(model: any DecodingModel, tokenizer: BPETokenizer, maxSequences: Int = 32, stepTokens: Int = 256, keptBytes: Int = 256 << 20,
                cacheBytes: Int = 4 << 30) {
        self.model = model
        self.tokenizer = tokenizer
        self.keptBytes = keptBytes
        self.cacheBytes = cacheBytes
        positionBytes = Self.bytes(model.makeCache(capacity: 1))
        self.maxSequences = Swift.max(1, maxSequences)
        self.stepTokens = Swift.max(1, stepTokens)
    }

    /// Queues a request for the stepping thread (started on first use).
    public func submit(_ request: Request) {
        lock.lock()
        waiting.append(request)
        if !started {
            started = true
            // The thread holds the decoder only while it works or waits a second for work, so a
            // decoder nobody uses any more is freed, and its thread ends.
            let thread = Thread { [weak self] in
                while let decoder = self {
                    if decoder.awaitWork() { _ = decoder.step() }
                }
            }
            thread.name = "tailor.decode"
            thread.start()
        }
        lock.signal()
        lock.unlock()
    }

    /// Ends the request `id` at the next step (its caller went away), with finish `cancelled`.
    public func cancel(_ id: UInt64) { lock.withLock { _ = cancelled.insert(id) } }

    /// Drops the kept caches computed under `adapters` (no longer served) at the next step.
    public func forget(_ adapters: DecodingAdapters) { lock.withLock { forgotten.append(adapters) } }

    /// Runs `requests` to their end on the calling thread (for a command, not a server), recording
    /// steps that read prompt tokens as prompt time and the rest as decoding.
    public func run(_ requests: [Request], timings: inout GenerationTimings) {
        lock.lock()
        waiting += requests
        lock.unlock()
        let clock = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
        while true {
            let t0 = clock()
            guard let read = step() else {
                if lock.withLock({ waiting.isEmpty }) { break }
                continue  // every request admitted ended at once; more wait
            }
            if read.prompt > 0 {
                timings.promptTokens += read.prompt
                timings.promptSeconds += clock() - t0
            } else {
                timings.decodeSteps += 1
                timings.decodeSeconds += clock() - t0
            }
        }
    }

    /// Whether there is work, waiting up to a second for some.
    private func awaitWork() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if waiting.isEmpty && active.isEmpty { _ = lock.wait(until: Date(timeIntervalSinceNow: 1)) }
        return !(waiting.isEmpty && active.isEmpty)
    }

    /// One step over every active sequence; nil when there was nothing to run. Returns the prompt
    /// tokens it read.
    private func step() -> (prompt: Int, rows: Int)? {
        lock.lock()
        var used = active.reduce(0) { $0 + Self.bytes($1.cache) }
        while active.count < maxSequences, let next = waiting.first {
            let bytes = positionBytes * capacity(next)
            guard active.isEmpty || used + bytes <= cacheBytes else { break }
            admit(waiting.removeFirst())
            used += bytes
        }
        let (ended, dropped) = (cancelled, forgotten)
        (cancelled, forgotten) = ([], [])
        lock.unlock()
        kept.removeAll { entry in dropped.contains { $0 === entry.adapters } }
        let now = DispatchTime.now().uptimeNanoseconds
        for slot in active where (slot.request.deadline ?? .max) <= now || ended.contains(slot.request.id) {
            slot.state.running = false
            slot.state.result.finish = ended.contains(slot.request.id) ? .cancelled : .timeout
        }
        if !ended.isEmpty {  // requests still waiting when their caller left end unstarted
            let gone = lock.withLock {
                let gone = waiting.filter { ended.contains($0.id) }
                waiting.removeAll { ended.contains($0.id) }
                return gone
            }
            for request in gone { request.onFinish(Generation(ids: [], text: "", finish: .cancelled)) }
        }
        retire()
        guard !active.isEmpty else { return nil }
        // Decoding sequences first (one token each), then prompt slices from what is left.
        var budget = stepTokens, taken: [(Slot, Int)] = []
        for slot in active where slot.decoding {
            taken.append((slot, 1))
            budget -= 1
        }
        for slot in active where !slot.decoding && budget > 0 {
            let n = Swift.min(slot.pending.count, budget)
            taken.append((slot, n))
            budget -= n
        }
        let segments = taken.map { slot, n in
            DecodeSegment(cache: slot.cache, tokens: Array(slot.pending.prefix(n)), adapters: slot.request.adapters, wantsLogits: n == slot.pending.count)
        }
        lock.withLock { widest = Swift.max(widest, segments.count) }
        let logits = Self.stepLock.withLock { model.step(segments) }  // (S, V) for the segments that asked
        let v = model.vocab
        var row = 0, prompt = 0
        for (slot, n) in taken {
            if !slot.decoding { prompt += n }
            slot.pending.removeFirst(n)
            guard slot.pending.isEmpty else { continue }
            let options = slot.request.options
            // The logits are read through their pointer only: kept alive until the pick has read them.
            let token = withExtendedLifetime(logits) { Sampler.pick(logits.pointer + row * v, v, options, sequence: slot.request.stream, step: slot.state.result.ids.count) }
            row += 1
            slot.state.add(token, tokenizer: tokenizer, options: options)
            if slot.state.running, slot.cache.length < slot.cache.capacity {
                slot.pending = [token]
            } else {
                slot.state.running = false
            }
            slot.request.onToken(slot.state.result)
        }
        retire()
        return (prompt, segments.reduce(0) { $0 + $1.tokens.count })
    }

    /// Starts a request: a cache for its prompt and tokens (within the model's context), or its end
    /// at once when it asks for no tokens or its prompt fills the context. The longest prefix a
    /// kept cache shares with the prompt (under the same adapters) is copied, not read again; the
    /// prompt's last token is always read, for its logits.
    private func capacity(_ request: Request) -> Int { Swift.max(1, Swift.min(model.context, request.ids.count + request.options.maxTokens)) }

    private func admit(_ request: Request) {
        let capacity = capacity(request)
        let slot = Slot(request, cache: model.makeCache(capacity: Swift.max(1, capacity)))
        if request.options.maxTokens <= 0 || request.ids.isEmpty || request.ids.count >= capacity {
            slot.state.running = false
        } else {
            let shared = kept.map { entry in
                entry.adapters === request.adapters ? zip(entry.tokens, request.ids.dropLast()).prefix { $0 == $1 }.count : 0
            }
            if let best = shared.indices.max(by: { shared[$0] < shared[$1] }), shared[best] >= Self.shortestReuse {
                slot.cache.copyPrefix(of: kept[best].cache, count: shared[best])
                slot.pending.removeFirst(shared[best])
            }
        }
        active.append(slot)
    }

    /// Removes ended sequences, telling each its result, and keeps their caches for later prompts.
    private func retire() {
        for slot in active where !slot.state.running {
            slot.request.onFinish(slot.state.result)
            guard keptBytes > 0, slot.cache.length >= Self.shortestReuse else { continue }
            let tokens = Array((slot.request.ids + slot.state.result.ids).prefix(slot.cache.length))
            kept.append((tokens, slot.request.adapters, slot.cache))
            var bytes = kept.reduce(0) { $0 + Self.bytes($1.cache) }
            while bytes > keptBytes, !kept.isEmpty { bytes -= Self.bytes(kept.removeFirst().cache) }
        }
        active.removeAll { !$0.state.running }
    }

    static func bytes(_ cache: SequenceKV) -> Int {
        SequenceKV.bytes(layers: cache.layers, kvHeads: cache.kvHeads, headDim: cache.headDim, capacity: cache.capacity)
    }
}
