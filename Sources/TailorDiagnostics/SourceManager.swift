import Foundation

/// The text of every file the pipeline read, kept so that a diagnostic can show
/// the offending line under its `file:line:col` header.
public final class SourceManager: @unchecked Sendable {
    private var lines: [String: [Substring]] = [:]
    private let lock = NSLock()

    public init() {}

    /// Registers a file's text under the name diagnostics use for it.
    public func add(file: String, text: String) {
        let split = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.last == "\r" ? line.dropLast() : line
        }
        lock.withLock { lines[file] = split }
    }

    /// The 1-based line `line` of `file`, or nil when unknown.
    public func line(_ line: Int, of file: String) -> Substring? {
        lock.withLock {
            guard let all = lines[file], line >= 1, line <= all.count else { return nil }
            return all[line - 1]
        }
    }
}
