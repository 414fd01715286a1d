import HeapModule

/// Learns a byte-level BPE vocabulary from text. The alphabet is the 256 byte-level symbols
/// (so any UTF-8 text can be encoded); merges are learned within pre-tokenizer pieces, always
/// the most frequent adjacent pair, ties to the pair of lower ids, so the result depends only
/// on the texts and the settings. Pair counts are updated incrementally and the next pair
/// comes from a heap, so each merge touches only the words that contain its pair.
public struct BPETrainer {
    public var vocabSize: Int
    public var specialTokens: [String]
    public var preTokenizer: PreTokenizer
    /// Pairs seen fewer times than this are never merged (training stops early).
    public var minFrequency: Int

    public init(vocabSize: Int, specialTokens: [String] = ["<|endoftext|>"], preTokenizer: PreTokenizer = .gpt2, minFrequency: Int = 2) {
        self.vocabSize = vocabSize
        self.specialTokens = specialTokens
        self.preTokenizer = preTokenizer
        self.minFrequency = minFrequency
    }

    /// A heap entry: the pair's count when pushed (stale entries are skipped when popped).
    struct Candidate: Comparable {
        var count: Int
        var pair: UInt64
        // The heap's max is the highest count, then the lowest pair key.
        static func < (a: Candidate, b: Candidate) -> Bool { a.count != b.count ? a.count < b.count : a.pair > b.pair }
    }

    public func train(_ texts: some Sequence<String>) throws -> BPETokenizer {
        // Distinct pieces with their counts, as byte ids (ids 0…255 are the bytes).
        var pieceCounts: [String: Int] = [:]
        for text in texts {
            let s = Array(text.unicodeScalars)
            for r in preTokenizer.split(s) {
                var v = String.UnicodeScalarView()
                v.append(contentsOf: s[r])
                pieceCounts[String(v), default: 0] += 1
            }
        }
        // Sorted, so word indices (and so every tie) do not depend on dictionary order.
        let pieces = pieceCounts.sorted { $0.key < $1.key }
        var words = pieces.map { $0.key.utf8.map { Int32($0) } }
        let counts = pieces.map(\.value)
        var tokens = (0..<256).map { String(ByteLevel.encode[$0]) }
        var index = Dictionary(uniqueKeysWithValues: tokens.enumerated().map { ($1, Int32($0)) })
        var merges: [(String, String)] = []
        var pairCounts: [UInt64: Int] = [:]
        var wordsWith: [UInt64: Set<Int>] = [:]
        func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }
        for (w, word) in words.enumerated() where word.count > 1 {
            for i in 0..<word.count - 1 {
                let k = key(word[i], word[i + 1])
                pairCounts[k, default: 0] += counts[w]
                wordsWith[k, default: []].insert(w)
            }
        }
        var heap = Heap(pairCounts.map { Candidate(count: $0.value, pair: $0.key) })
        let target = vocabSize - specialTokens.count
        while tokens.count < target, merges.count < 4 * target, let top = heap.popMax() {
            guard pairCounts[top.pair] == top.count else { continue }  // stale
            guard top.count >= minFrequency else { break }
            let (a, b) = (Int32(truncatingIfNeeded: top.pair >> 32), Int32(truncatingIfNeeded: top.pair & 0xFFFF_FFFF))
            // Different merges can spell the same token ("a"+"bc", "ab"+"c"): it keeps one id.
            let text = tokens[Int(a)] + tokens[Int(b)]
            let merged = index[text] ?? Int32(tokens.count)
            if merged == Int32(tokens.count) {
                tokens.append(text)
                index[text] = merged
            }
            merges.append((tokens[Int(a)], tokens[Int(b)]))
            var touched: Set<UInt64> = []
            for w in wordsWith[top.pair] ?? [] {
                let old = words[w], c = counts[w]
                var new: [Int32] = []
                new.reserveCapacity(old.count)
                var i = 0
                while i < old.count {
                    if i + 1 < old.count, old[i] == a, old[i + 1] == b {
                        new.append(merged)
                        i += 2
                    } else {
                        new.append(old[i])
                        i += 1
                    }
                }
                // Replace this word's pairs: remove the old ones, add the new ones.
                for i in 0..<old.count - 1 {
                    let k = key(old[i], old[i + 1])
                    pairCounts[k, default: 0] -= c
                    touched.insert(k)
                }
                for i in 0..<Swift.max(0, new.count - 1) {
                    let k = key(new[i], new[i + 1])
                    pairCounts[k, default: 0] += c
                    touched.insert(k)
                }
                for i in 0..<old.count - 1 { wordsWith[key(old[i], old[i + 1])]?.remove(w) }
                for i in 0..<Swift.max(0, new.count - 1) { wordsWith[key(new[i], new[i + 1]), default: []].insert(w) }
                words[w] = new
            }
            pairCounts[top.pair] = nil
            wordsWith[top.pair] = nil
            for k in touched {
                if let c = pairCounts[k], c > 0 { heap.insert(Candidate(count: c, pair: k)) } else { pairCounts[k] = nil }
            }
        }
        var specials: [String: Int32] = [:]
        for s in specialTokens where specials[s] == nil {
            specials[s] = Int32(tokens.count)
            tokens.append(s)
        }
        return try BPETokenizer(vocabulary: tokens, merges: merges, specialTokens: specials, preTokenizer: preTokenizer,
                                bos: nil, eos: specialTokens.first.flatMap { specials[$0] }, source: "trained BPE")
    }
}
