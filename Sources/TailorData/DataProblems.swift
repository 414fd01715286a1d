import Foundation

/// The problems of one data file, grouped by what is wrong: each kind of problem is named once,
/// with how many records have it and the first three places, so a file whose every record lacks
/// a field gives one line, not one per record.
public struct DataProblems {
    /// One kind of problem, as a predicate of "1 record …" and "120 records …".
    public struct Kind: Hashable, Sendable {
        public var one: String, many: String
    }

    /// "line" for line-based files, "item" for a JSON array.
    public var unit = "line"
    private var order: [Kind] = []
    private var places: [Kind: [Int]] = [:]
    /// Something to say after the problems (the records look like another format).
    public var hint: String?

    public init() {}

    public var isEmpty: Bool { order.isEmpty }

    public mutating func add(_ kind: Kind, at place: Int) {
        if places[kind] == nil { order.append(kind) }
        places[kind, default: []].append(place)
    }

    /// One line per kind, in the order of each kind's first place.
    public var lines: [String] {
        let sorted = order.enumerated().sorted { (places[$0.element]![0], $0.offset) < (places[$1.element]![0], $1.offset) }.map(\.element)
        var out = sorted.map { kind -> String in
            let at = places[kind]!
            let shown = at.prefix(3).map(String.init).joined(separator: ", ")
            let more = at.count > 3 ? " and \(at.count - 3) more" : ""
            let noun = at.count == 1 ? "record" : "records"
            return "\(at.count) \(noun) \(at.count == 1 ? kind.one : kind.many) (\(unit)\(at.count == 1 ? "" : "s") \(shown)\(more))"
        }
        if let hint { out.append(hint) }
        return out
    }

    // MARK: the kinds

    public static let notObject = Kind(one: "is not a JSON object", many: "are not JSON objects")
    public static let unclosedQuote = Kind(one: "has a quoted field that is never closed", many: "have a quoted field that is never closed")

    static func lacks(_ source: String, _ field: String, _ format: String) -> Kind {
        let what = "'\(source)'" + (source == field ? "" : " (mapped to '\(field)')") + " that \(format) records need"
        return Kind(one: "lacks " + what, many: "lack " + what)
    }

    static func notText(_ source: String, _ value: Any) -> Kind {
        let what = "\(value is NSNumber ? "a number" : "a list or object") in '\(source)', where text is needed"
        return Kind(one: "has " + what, many: "have " + what)
    }

    static func notTurns(_ source: String, _ shape: String) -> Kind {
        Kind(one: "has a '\(source)' that is not a list of \(shape)", many: "have a '\(source)' that is not a list of \(shape)")
    }

    static func role(_ source: String, _ role: String, allowed: String) -> Kind {
        let what = "a turn in '\(source)' from '\(role)' (turns are from \(allowed))"
        return Kind(one: "has " + what, many: "have " + what)
    }

    public static func columns(_ count: Int, header: Int) -> Kind {
        Kind(one: "has \(count) columns, but the header has \(header)", many: "have \(count) columns, but the header has \(header)")
    }

    static func label(_ source: String) -> Kind {
        Kind(one: "has a '\(source)' that is neither text nor a number", many: "have a '\(source)' that is neither text nor a number")
    }

    static let noSharedPrompt = Kind(
        one: "has no prompt: 'chosen' and 'rejected' share no beginning (write a 'prompt', or begin both with it)",
        many: "have no prompt: 'chosen' and 'rejected' share no beginning (write a 'prompt', or begin both with it)")
    static let emptyAnswer = Kind(
        one: "has no answer once the shared prompt is split off ('chosen' or 'rejected' is the other's beginning)",
        many: "have no answer once the shared prompt is split off ('chosen' or 'rejected' is the other's beginning)")
    static let blankResponse = Kind(one: "has an empty 'chosen' or 'rejected' answer", many: "have an empty 'chosen' or 'rejected' answer")
    static let sameResponses = Kind(one: "has the same 'chosen' and 'rejected'", many: "have the same 'chosen' and 'rejected'")
    static let mixedPair = Kind(
        one: "has a 'chosen' and 'rejected' that are not both text or both lists of {role, content}",
        many: "have a 'chosen' and 'rejected' that are not both text or both lists of {role, content}")

    /// What a set of field names looks like, when it is a layout Tailor reads: the `format:` to
    /// write (and the renaming, where one is needed).
    public static func lookalike(_ keys: Set<String>) -> (name: String, write: String)? {
        if keys.isSuperset(of: ["instruction", "output"]) { return ("Alpaca (instruction/input/output)", "`format: alpaca`") }
        if keys.contains("conversations") { return ("ShareGPT (conversations of from/value)", "`format: sharegpt`") }
        if keys.contains("messages") { return ("chat (messages of role/content)", "`format: chat`") }
        if keys.isSuperset(of: ["chosen", "rejected"]) { return ("preference pairs (chosen/rejected)", "`format: preference`") }
        if keys.isSuperset(of: ["prompt", "completion"]) {
            return ("prompt/completion pairs", "`format: instruction` with `fields: {response: completion}`")
        }
        if keys.isSuperset(of: ["prompt", "response"]) { return ("instruction records (prompt/response)", "`format: instruction`") }
        if keys.isSuperset(of: ["text", "label"]) { return ("classification records (text/label)", "`format: classification`") }
        if keys.isSuperset(of: ["question", "answer"]) { return ("queries (question/answer)", "`format: queries`") }
        if keys.contains("text") { return ("text records", "`format: text`") }
        return nil
    }
}
