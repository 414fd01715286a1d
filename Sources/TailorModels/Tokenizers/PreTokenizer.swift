/// Splits text into the pieces BPE merges within (merges never cross a piece boundary).
///
/// `gpt2` is GPT-2's pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
/// written out by hand over Unicode scalars (Foundation has no `\p{L}` regex on Linux).
/// `digitsThenGPT2` first makes every number character a piece of its own (SmolLM's and
/// StarCoder's pre-tokenizer), then applies the GPT-2 pattern to the rest.
public enum PreTokenizer: String, Sendable {
    case gpt2, digitsThenGPT2 = "digits+gpt2"

    /// The pre-tokenizer that a GGUF `tokenizer.ggml.pre` value names, nil if unknown.
    public init?(ggufName: String) {
        switch ggufName {
        case "gpt2", "default", "gpt-2": self = .gpt2
        case "smollm", "starcoder", "refact", "codeshell", "command-r": self = .digitsThenGPT2
        default: return nil
        }
    }

    /// Pieces of `text` as ranges of its scalars.
    func split(_ s: [Unicode.Scalar]) -> [Range<Int>] {
        switch self {
        case .gpt2:
            return PreTokenizer.gpt2(s, 0..<s.count)
        case .digitsThenGPT2:
            var pieces: [Range<Int>] = []
            var start = 0
            for i in s.indices where PreTokenizer.isNumber(s[i]) {
                if start < i { pieces += PreTokenizer.gpt2(s, start..<i) }
                pieces.append(i..<i + 1)
                start = i + 1
            }
            if start < s.count { pieces += PreTokenizer.gpt2(s, start..<s.count) }
            return pieces
        }
    }

    static func isLetter(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: false
        }
    }

    static func isNumber(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: true
        default: false
        }
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }

    static func isOther(_ c: Unicode.Scalar) -> Bool { !isSpace(c) && !isLetter(c) && !isNumber(c) }

    /// The GPT-2 pattern over `range`: alternatives tried in the pattern's order at each position.
    static func gpt2(_ s: [Unicode.Scalar], _ range: Range<Int>) -> [Range<Int>] {
        var pieces: [Range<Int>] = []
        var i = range.lowerBound
        let end = range.upperBound
        /// The end of the run of characters satisfying `test` from `j`.
        func run(_ j: Int, _ test: (Unicode.Scalar) -> Bool) -> Int {
            var k = j
            while k < end, test(s[k]) { k += 1 }
            return k
        }
        while i < end {
            let c = s[i]
            // Contractions: 's 't 'm 'd, then 're 've 'll.
            if c == "'", i + 1 < end {
                let n1 = s[i + 1]
                if n1 == "s" || n1 == "t" || n1 == "m" || n1 == "d" {
                    pieces.append(i..<i + 2)
                    i += 2
                    continue
                }
                if i + 2 < end {
                    let n2 = s[i + 2]
                    if (n1 == "r" && n2 == "e") || (n1 == "v" && n2 == "e") || (n1 == "l" && n2 == "l") {
                        pieces.append(i..<i + 3)
                        i += 3
                        continue
                    }
                }
            }
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional leading space, then a run.
            let j = c == " " && i + 1 < end ? i + 1 : i
            var matched = false
            for test in [isLetter, isNumber, isOther] as [(Unicode.Scalar) -> Bool] {
                if test(s[j]) {
                    let k = run(j, test)
                    pieces.append(i..<k)
                    i = k
                    matched = true
                    break
                }
            }
            if matched { continue }
            // `\s+(?!\S)` leaves the last space of a run for the word after it; `\s+` takes a lone one.
            let k = run(i, isSpace)
            let stop = k == end || k - i == 1 ? k : k - 1
            pieces.append(i..<stop)
            i = stop
        }
        return pieces
    }
}
