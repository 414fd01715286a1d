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
/// `split_length` and `split_overlap` do. A passage is the document's own text from its first
/// unit's start to its last unit's end, so the whitespace inside it is kept as written.
public enum Chunker {
    public enum Unit: String, Sendable { case words, sentences, chars }

    /// The passages of one document; a document with no text gives none.
    public static func chunks(document: String, text: String, size: Int, overlap: Int, unit: Unit) -> [Chunk] {
        precondition(size > 0 && overlap >= 0 && overlap < size, "0 ≤ overlap < size")
        let scalars = Array(text.unicodeScalars)
        let spans = units(scalars, unit)
        var out: [Chunk] = []
        var first = 0
        while first < spans.count {
            let last = Swift.min(first + size, spans.count) - 1
            let (start, end) = (spans[first].lowerBound, spans[last].upperBound)
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[start..<end])
            out.append(Chunk(id: "\(document)#\(out.count)", document: document, start: start, end: end, text: String(s)))
            if last == spans.count - 1 { break }
            first += size - overlap
        }
        return out
    }

    /// The units' ranges in `scalars`: runs of non-space for words; for sentences, text up to and
    /// including a run of `.`, `!` or `?` followed by a space or the end (surrounding spaces
    /// left out); every scalar for characters.
    static func units(_ scalars: [Unicode.Scalar], _ unit: Unit) -> [Range<Int>] {
        func isSpace(_ i: Int) -> Bool { scalars[i].properties.isWhitespace }
        var spans: [Range<Int>] = []
        switch unit {
        case .chars:
            spans = (0..<scalars.count).map { $0..<($0 + 1) }
        case .words:
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
