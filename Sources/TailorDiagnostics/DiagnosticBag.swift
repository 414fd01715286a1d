/// Collects every finding of one pass, so the user sees all errors at once
/// instead of fixing them one run at a time.
public struct DiagnosticBag: Sendable {
    public private(set) var items: [Diagnostic] = []

    public init() {}

    public var hasErrors: Bool { items.contains { $0.severity == .error } }
    public var errorCount: Int { items.count(where: { $0.severity == .error }) }
    public var warningCount: Int { items.count(where: { $0.severity == .warning }) }

    public mutating func error(_ message: Message, at location: SourceLocation?, notes: [Note] = []) {
        append(Diagnostic(.error, message, at: location, notes: notes))
    }

    public mutating func warning(_ message: Message, at location: SourceLocation?, notes: [Note] = []) {
        append(Diagnostic(.warning, message, at: location, notes: notes))
    }

    /// Adds a diagnostic unless an identical one is already there: the same mistake
    /// reached through two paths (an alias, a shared base spec) is reported once.
    public mutating func append(_ diagnostic: Diagnostic) {
        if !items.contains(diagnostic) { items.append(diagnostic) }
    }

    public mutating func append(contentsOf other: DiagnosticBag) {
        for d in other.items { append(d) }
    }

    /// Findings in source order: by file, line and column; findings without a place last.
    public var sorted: [Diagnostic] {
        items.enumerated().sorted { a, b in
            switch (a.element.location, b.element.location) {
            case let (la?, lb?): la == lb ? a.offset < b.offset : la < lb
            case (nil, nil): a.offset < b.offset
            case (_?, nil): true
            case (nil, _?): false
            }
        }.map(\.element)
    }
}
