import Foundation
import Synchronization

/// Where preference labels go: one JSON line per label in TRL's explicit layout (`prompt`,
/// `chosen`, `rejected`, plus the pair's `id`), which `reward:` and `dpo:` train on; ties, which
/// are no preference, go to a file of their own beside it (`NAME.ties.jsonl`). Each label is one
/// `write` of a whole line, flushed to disk before it is acknowledged, so a killed server loses
/// no acknowledged label; a restart reads both files and goes on with the pairs not yet labelled.
public final class LabelStore: Sendable {
    public let path: String, tiesPath: String
    private let labelled: Mutex<Set<String>>
    /// What opening found: how many labels and ties were there, and whether a torn last line
    /// (a write cut short by a crash) was dropped.
    public let resumed: (labels: Int, ties: Int, repaired: Bool)

    public init(path: String) throws {
        self.path = path
        tiesPath = (path.hasSuffix(".jsonl") ? String(path.dropLast(6)) : path) + ".ties.jsonl"
        var ids = Set<String>(), counts = [0, 0], repaired = false
        for (n, file) in [path, tiesPath].enumerated() {
            let (found, torn) = try Self.read(file)
            ids.formUnion(found)
            counts[n] = found.count
            repaired = repaired || torn
        }
        labelled = Mutex(ids)
        resumed = (counts[0], counts[1], repaired)
    }

    /// The ids in a label file; a last line without its newline (a torn write) is cut off the file.
    static func read(_ file: String) throws -> (ids: [String], torn: Bool) {
        guard let data = FileManager.default.contents(atPath: file) else {
            if FileManager.default.fileExists(atPath: file) { throw LabelError("cannot read \(file)") }
            return ([], false)
        }
        var whole = data
        var torn = false
        if let last = data.last, last != UInt8(ascii: "\n") {
            let end = data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? data.startIndex
            whole = data[..<end]
            guard truncate(file, off_t(whole.count)) == 0 else { throw LabelError("cannot repair the torn last line of \(file)") }
            torn = true
        }
        var ids: [String] = []
        for (n, line) in whole.split(separator: UInt8(ascii: "\n")).enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let id = object["id"] as? String else {
                throw LabelError("\(file):\(n + 1): not a label written by `tailor label` (a JSON object with an 'id')")
            }
            ids.append(id)
        }
        return (ids, torn)
    }

    public var count: Int { labelled.withLock { $0.count } }

    public func isLabelled(_ id: String) -> Bool { labelled.withLock { $0.contains(id) } }

    /// Appends `record` (which holds the pair's `id`) to the labels, or to the ties with `tie`.
    /// A pair already labelled is refused (two tabs on one page).
    func append(_ record: [String: String], tie: Bool) throws {
        guard let id = record["id"] else { throw LabelError("a label needs the pair's id") }
        try labelled.withLock { ids in
            guard !ids.contains(id) else { throw LabelError("pair '\(id)' is already labelled") }
            var line = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes])
            line.append(UInt8(ascii: "\n"))
            try Self.appendLine(line, to: tie ? tiesPath : path)
            ids.insert(id)
        }
    }

    /// One write of the whole line at the file's end, then fsync.
    static func appendLine(_ line: Data, to file: String) throws {
        let fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LabelError("cannot open \(file) for appending: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            if written > 0, size >= 0 { _ = ftruncate(fd, size) }  // no fragment for the next line to join
            throw LabelError("cannot write to \(file): \(reason)")
        }
    }
}

/// A labelling problem, said in plain words.
public struct LabelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
