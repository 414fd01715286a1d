/// A passage of a document, as retrieval indexes and returns it: `id` is the document's id
/// and the passage's number (`doc-7#2`), `start` and `end` its offsets in the document's text
/// in Unicode scalars (Python's string indices), `text` the passage itself.
public struct Chunk: Sendable, Equatable {
    public var id: String, document: String
    public var start: Int, end: Int
    public var text: String

    public init(id: String, document: String, start: Int, end: Int, text: String) {
        (self.id, self.document, self.start, self.end, self.text) = (id, document, start, end, text)
    }
}

/// Cuts documents into overlapping passages of `size` units (words, sentences or characters),
/// each starting `size − overlap` units after the one before, as Haystack's `split_by`,
/// `split_length` and `split_overlap` do; or of at most `size` tokens of an encoder's
/// tokenizer, cut between words, the next passage starting at the first word from which at most
/// `overlap` tokens reach the end of the one before. A passage is the document's own text from
/// its first unit's start to its last unit's end, so the whitespace inside it is kept as written.
public enum Chunker {
    public enum Unit: String, Sendable { case words, sentences, chars, tokens }

    /// The passages of one document; a document with no text gives none. `tokens` counts a
    /// word's tokens, for `unit: tokens` (a word longer than `size` is a passage of its own).
    public static func chunks(document: String, text: String, size: Int, overlap: Int, unit: Unit,
                              tokens: (String) -> Int = { _ in 1 }) -> [Chunk] {
        precondition(size > 0 && overlap >= 0 && overlap < size, "0 ≤ overlap < size")
        let scalars = Array(text.unicodeScalars)
        let spans = units(scalars, unit)
        func slice(_ r: Range<Int>) -> String {
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[r])
            return String(s)
        }
        // Each unit's weight: one, or its tokens.
        let weights = unit == .tokens ? spans.map { tokens(slice($0)) } : Array(repeating: 1, count: spans.count)
        var out: [Chunk] = []
        var first = 0
        while first < spans.count {
            var last = first, total = weights[first]
            while last + 1 < spans.count, total + weights[last + 1] <= size {
                last += 1
                total += weights[last]
            }
            let (start, end) = (spans[first].lowerBound, spans[last].upperBound)
            out.append(Chunk(id: "\(document)#\(out.count)", document: document, start: start, end: end, text: slice(start..<end)))
            if last == spans.count - 1 { break }
            // The next passage repeats the last units of this one, up to `overlap` of weight.
            var next = last + 1, kept = 0
            while next - 1 > first, kept + weights[next - 1] <= overlap {
                next -= 1
                kept += weights[next]
            }
            // ... but never so much that the next passage holds nothing new.
            while next <= last, kept + weights[last + 1] > size {
                kept -= weights[next]
                next += 1
            }
            first = next
        }
        return out
    }

    /// The units' ranges in `scalars`: runs of non-space for words (and tokens); for sentences, text up to and
    /// including a run of `.`, `!` or `?` followed by a space or the end (surrounding spaces
    /// left out); every scalar for characters.
    static func units(_ scalars: [Unicode.Scalar], _ unit: Unit) -> [Range<Int>] {
        func isSpace(_ i: Int) -> Bool { scalars[i].properties.isWhitespace }
        var spans: [Range<Int>] = []
        switch unit {
        case .chars:
            spans = (0..<scalars.count).map { $0..<($0 + 1) }
        case .words, .tokens:  // tokens are counted over words
            var i = 0
            while i < scalars.count {
                if isSpace(i) { i += 1; continue }
                let start = i
                while i < scalars.count, !isSpace(i) { i += 1 }
                spans.append(start..<i)
            }
        case .sentences:
            var i = 0
            while i < scalars.count {
                if isSpace(i) { i += 1; continue }
                let start = i
                var end = scalars.count
                while i < scalars.count {
                    if "!.?".unicodeScalars.contains(scalars[i]) {
                        var j = i
                        while j < scalars.count, "!.?".unicodeScalars.contains(scalars[j]) { j += 1 }
                        if j == scalars.count || isSpace(j) { end = j; i = j; break }
                        i = j
                    } else {
                        i += 1
                    }
                }
                spans.append(start..<Swift.min(end, scalars.count))
                if end == scalars.count { break }
            }
            // Trailing spaces of a last sentence with no terminator are not part of it.
            if let last = spans.last {
                var e = last.upperBound
                while e > last.lowerBound, isSpace(e - 1) { e -= 1 }
                spans[spans.count - 1] = last.lowerBound..<e
            }
        }
        return spans
    }
}
