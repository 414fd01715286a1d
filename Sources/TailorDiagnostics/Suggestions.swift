/// Finds the names closest to a misspelled one, for "did you mean …?" notes.
public enum Suggestions {
    /// Candidates within an edit distance that scales with the word's length,
    /// best first; ties keep the candidates' order.
    public static func closest(to word: String, in candidates: [String], limit: Int = 1) -> [String] {
        let threshold = max(1, min(3, word.count / 3 + 1))
        let lowered = word.lowercased()
        let scored = candidates.enumerated().compactMap { index, c -> (Int, Int, String)? in
            let d = distance(lowered, c.lowercased())
            let prefix = c.lowercased().hasPrefix(lowered) && lowered.count >= 3
            guard d <= threshold || prefix else { return nil }
            return (prefix ? min(d, threshold) : d, index, c)
        }
        return scored.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.prefix(limit).map(\.2)
    }

    /// The "did you mean 'x'?" note, or nil when nothing is close.
    public static func didYouMean(_ word: String, in candidates: [String]) -> String? {
        closest(to: word, in: candidates).first.map { "did you mean '\($0)'?" }
    }

    /// Damerau–Levenshtein (optimal string alignment) distance: a swapped pair of
    /// letters counts as one edit, the most common typo.
    public static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var prev2 = [Int](repeating: 0, count: y.count + 1)
        var prev = Array(0...y.count)
        var cur = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            cur[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    cur[j] = min(cur[j], prev2[j - 2] + 1)
                }
            }
            (prev2, prev, cur) = (prev, cur, prev2)
        }
        return prev[y.count]
    }
}
