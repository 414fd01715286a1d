import Foundation
import TailorEngine

/// Whether a generated answer is right as a value, not as a string: what `answer_check`
/// measures, for the synthetic tasks' answer kinds. Exact match calls `{"city": "Oslo",
/// "person": "Ada"}` wrong against `{"person": "Ada", "city": "Oslo"}`, and "85." wrong
/// against "85"; a user reading the answers would not.
enum AnswerCheck {
    /// Whether an answer scores under one of the answer metrics an eval reports (`exact_match`,
    /// `contains`, `final_number`, `answer_check`), both texts trimmed, as evals and `label`
    /// rules read them.
    static func passes(_ metric: String, _ generated: String, _ reference: String) -> Bool {
        let got = generated.trimmingCharacters(in: .whitespacesAndNewlines)
        let want = reference.trimmingCharacters(in: .whitespacesAndNewlines)
        switch metric {
        case "exact_match": return got == want
        case "contains": return !want.isEmpty && got.range(of: want, options: [.caseInsensitive]) != nil
        case "final_number":
            let wanted = numbers(want)
            return wanted.count == 1 && want.allSatisfy({ $0.isASCII && $0.isNumber || "-.".contains($0) }) && numbers(got).last == wanted[0]
        default: return matches(got, want)
        }
    }

    static func matches(_ generated: String, _ reference: String) -> Bool {
        let got = generated.trimmingCharacters(in: .whitespacesAndNewlines)
        let want = reference.trimmingCharacters(in: .whitespacesAndNewlines)
        if let expected = json(want) {
            // JSON: objects and arrays compared parsed (key order and spacing aside).
            guard let answer = json(got) ?? firstJSONObject(got) else { return false }
            return NSDictionary(dictionary: ["v": expected]).isEqual(to: ["v": answer])
        }
        let wanted = numbers(want)
        if !wanted.isEmpty, want.allSatisfy({ $0.isASCII && $0.isNumber || " ,.-".contains($0) }) {
            // A number or a list of numbers: the same values in the same order, nothing else numeric.
            return numbers(got) == wanted
        }
        return normalised(got) == normalised(want)
    }

    /// A JSON object or array, when the whole text is one.
    static func json(_ text: String) -> Any? {
        guard let first = text.first, first == "{" || first == "[" else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    /// The first `{…}` in a longer answer ("Here it is: {…}").
    static func firstJSONObject(_ text: String) -> Any? {
        guard let start = text.firstIndex(of: "{"), let end = text.lastIndex(of: "}"), start < end else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(text[start...end].utf8))
    }

    /// Every number in the text, in order (integers and decimals, with a leading minus).
    static func numbers(_ text: String) -> [Double] {
        var out: [Double] = [], current = ""
        func flush() {
            if let v = Double(current), current != "-", current != "." { out.append(v) }
            current = ""
        }
        for c in text {
            if c.isASCII && c.isNumber || (c == "-" && current.isEmpty) || (c == "." && !current.isEmpty && !current.contains(".")) {
                current.append(c)
            } else {
                flush()
            }
        }
        flush()
        return out
    }

    /// Lower case, single spaces, no closing punctuation.
    static func normalised(_ text: String) -> String {
        var s = text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
        while let last = s.last, ".!?".contains(last) { s.removeLast() }
        return s
    }
}
