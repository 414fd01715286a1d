/// How bad a finding is. Errors stop the pipeline after the current pass;
/// warnings are printed and the command still succeeds.
public enum Severity: String, Sendable, Codable, Comparable {
    case error, warning, note

    private var rank: Int {
        switch self {
        case .error: 0
        case .warning: 1
        case .note: 2
        }
    }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// A secondary remark attached to a diagnostic: a suggestion ("did you mean …?")
/// or another relevant place ("defined here").
public struct Note: Hashable, Sendable {
    public var message: String
    public var location: SourceLocation?

    public init(_ message: String, at location: SourceLocation? = nil) {
        self.message = message
        self.location = location
    }
}

/// A finding about the user's input. The library only collects these; the CLI prints them.
public struct Diagnostic: Hashable, Sendable, Error {
    public var severity: Severity
    public var message: String
    public var location: SourceLocation?
    public var notes: [Note]

    public init(_ severity: Severity, _ message: Message, at location: SourceLocation?, notes: [Note] = []) {
        self.severity = severity
        self.message = message.text
        self.location = location
        self.notes = notes
    }
}
