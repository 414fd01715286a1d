import Foundation

/// Byte-level BPE (GPT-2, Llama 3, SmolLM): text is split into pieces, each piece's UTF-8
/// bytes become byte-level symbols, and the lowest-ranked adjacent pair is merged until no
/// merge applies. Special tokens (`<|im_start|>` …) are matched in the text first and never
/// split. Decoding maps symbols back to bytes, so any UTF-8 text round-trips.
public final class BPETokenizer: @unchecked Sendable {
    public let vocabulary: [String]
    public let preTokenizer: PreTokenizer
    /// Tokens matched whole in the input and never produced by merges.
    public let specialTokens: [String: Int32]
    public let bos: Int32?, eos: Int32?
    /// Tokens that end a generated answer (EOS, and ChatML's `<|im_end|>` where present).
    public let endOfGeneration: Set<Int32>
    let ids: [String: Int32]
    /// (left id << 32 | right id) → (rank, merged id).
    let merges: [UInt64: (rank: Int32, id: Int32)]
    /// The merges in rank order, as given (for writing the tokenizer back out).
    public let mergeList: [(String, String)]
    /// The id of each byte's single-symbol token (−1: none, the byte is dropped).
    let byteIDs: [Int32]
    /// Special tokens by first scalar, longest first.
    let specialsByFirst: [Unicode.Scalar: [(scalars: [Unicode.Scalar], id: Int32)]]
    private var cache: [String: [Int32]] = [:]
    private let cacheLock = NSLock()

    public init(vocabulary: [String], merges: [(String, String)], specialTokens: [String: Int32], preTokenizer: PreTokenizer,
                bos: Int32?, eos: Int32?, unknown: Int32? = nil, source: String) throws {
        self.vocabulary = vocabulary
        self.preTokenizer = preTokenizer
        self.specialTokens = specialTokens
        self.bos = bos
        self.eos = eos
        var ids: [String: Int32] = [:]
        for (i, token) in vocabulary.enumerated() where ids[token] == nil { ids[token] = Int32(i) }
        self.ids = ids
        // Some vocabularies (SmolLM's) lack tokens for a few control bytes: those become
        // the unknown token where there is one, and are dropped otherwise.
        let byteIDs = (0..<256).map { ids[String(ByteLevel.encode[$0])] ?? unknown ?? -1 }
        guard byteIDs.filter({ $0 >= 0 }).count >= 128 else {
            throw ModelFileError(source, "the vocabulary has no byte-level tokens for most bytes: not a byte-level BPE vocabulary")
        }
        self.byteIDs = byteIDs
        var table: [UInt64: (rank: Int32, id: Int32)] = [:]
        for (rank, (a, b)) in merges.enumerated() {
            guard let left = ids[a], let right = ids[b], let merged = ids[a + b] else {
                throw ModelFileError(source, "merge \(rank + 1) ('\(a) \(b)') uses a token that is not in the vocabulary")
            }
            let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
            if table[key] == nil { table[key] = (Int32(rank), merged) }
        }
        self.merges = table
        mergeList = merges
        var byFirst: [Unicode.Scalar: [(scalars: [Unicode.Scalar], id: Int32)]] = [:]
        for (text, id) in specialTokens {
            let scalars = Array(text.unicodeScalars)
            guard let first = scalars.first else { continue }
            byFirst[first, default: []].append((scalars, id))
        }
        for key in byFirst.keys { byFirst[key]!.sort { $0.scalars.count > $1.scalars.count } }
        specialsByFirst = byFirst
        var ends: Set<Int32> = []
        if let eos { ends.insert(eos) }
        if let imEnd = specialTokens["<|im_end|>"] { ends.insert(imEnd) }
        if let eot = specialTokens["<|eot_id|>"] { ends.insert(eot) }
        endOfGeneration = ends
    }

    public var count: Int { vocabulary.count }

    /// Token ids of `text`; special tokens written in the text become their ids when
    /// `specials` is true (prompts built from chat templates), else they are plain text.
    public func encode(_ text: String, specials: Bool = true) -> [Int32] {
        let s = Array(text.unicodeScalars)
        var out: [Int32] = []
        var start = 0, i = 0
        while i < s.count {
            if specials, let candidates = specialsByFirst[s[i]],
               let match = candidates.first(where: { i + $0.scalars.count <= s.count && Array(s[i..<i + $0.scalars.count]) == $0.scalars }) {
                if start < i { encodeOrdinary(Array(s[start..<i]), into: &out) }
                out.append(match.id)
                i += match.scalars.count
                start = i
                continue
            }
            i += 1
        }
        if start < s.count { encodeOrdinary(Array(s[start..<s.count]), into: &out) }
        return out
    }

    func encodeOrdinary(_ s: [Unicode.Scalar], into out: inout [Int32]) {
        for piece in preTokenizer.split(s) {
            var text = String.UnicodeScalarView()
            text.append(contentsOf: s[piece])
            out += encodePiece(String(text))
        }
    }

    /// BPE over one piece: repeatedly merge the adjacent pair with the lowest rank.
    func encodePiece(_ piece: String) -> [Int32] {
        cacheLock.lock()
        if let hit = cache[piece] {
            cacheLock.unlock()
            return hit
        }
        cacheLock.unlock()
        var symbols = piece.utf8.map { byteIDs[Int($0)] }.filter { $0 >= 0 }
        while symbols.count > 1 {
            var best: (rank: Int32, at: Int, id: Int32)?
            for k in 0..<symbols.count - 1 {
                let key = UInt64(UInt32(bitPattern: symbols[k])) << 32 | UInt64(UInt32(bitPattern: symbols[k + 1]))
                if let m = merges[key], m.rank < (best?.rank ?? .max) { best = (m.rank, k, m.id) }
            }
            guard let best else { break }
            // Merge every occurrence of that pair, left to right (the same result as one at a time).
            let (left, right) = (symbols[best.at], symbols[best.at + 1])
            var merged: [Int32] = []
            merged.reserveCapacity(symbols.count)
            var k = 0
            while k < symbols.count {
                if k + 1 < symbols.count, symbols[k] == left, symbols[k + 1] == right {
                    merged.append(best.id)
                    k += 2
                } else {
                    merged.append(symbols[k])
                    k += 1
                }
            }
            symbols = merged
        }
        cacheLock.lock()
        if cache.count < 100_000 { cache[piece] = symbols }
        cacheLock.unlock()
        return symbols
    }

    /// The bytes that `ids` stand for (special tokens as their text; unknown ids skipped).
    public func decodeBytes(_ ids: [Int32]) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && Int(id) < vocabulary.count {
            let token = vocabulary[Int(id)]
            if specialTokens[token] == id {
                bytes += Array(token.utf8)
                continue
            }
            for c in token {
                if let b = ByteLevel.decode[c] { bytes.append(b) } else { bytes += Array(String(c).utf8) }
            }
        }
        return bytes
    }

    /// Text of `ids`; an incomplete UTF-8 sequence at the end shows as U+FFFD.
    public func decode(_ ids: [Int32]) -> String { String(decoding: decodeBytes(ids), as: UTF8.self) }

    public func id(of token: String) -> Int32? { ids[token] }
}

extension BPETokenizer {
    /// A record as training, reward models and `tailor score` read it: the context (never a
    /// target, mask 0), then the answer and the end of text (the targets, mask 1). Special-token
    /// text in either is plain text.
    public func example(context: String, answer: String, eos: Int32) -> (ids: [Int32], mask: [UInt8]) {
        let c = context.isEmpty ? [] : encode(context, specials: false)
        let a = encode(answer, specials: false) + [eos]
        return (c + a, [UInt8](repeating: 0, count: c.count) + [UInt8](repeating: 1, count: a.count))
    }
}
