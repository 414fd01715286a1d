import Crypto
import Foundation
import TailorDiagnostics
import TailorSpec

/// Content keys: SHA-256 over what determines a node's output, and nothing else.
/// Formatting, key order, comments and number spelling do not reach the key,
/// because parameters are hashed in canonical form after schema typing.
public enum ContentKey {
    public static func compute(kind: NodeKind, params: Value, inputs: [(key: String, port: String?)], fileDigests: [String])
        -> String
    {
        var text = "tailor-node/1\n\(kind.rawValue)@\(kind.version)\n"
        text += params.canonicalJSON
        for input in inputs { text += "\nin \(input.key)" + (input.port.map { ":\($0)" } ?? "") }
        for digest in fileDigests { text += "\nfile \(digest)" }
        return Hex.string(SHA256.hash(data: Data(text.utf8)))
    }
}

/// Digests of the user's files, each read once per plan. A folder's digest covers
/// its files' names and contents in sorted order.
///
/// With a memo file (kept in the artifact cache), a file whose size and modification time
/// are as recorded is not read again: a multi-gigabyte dataset is hashed once, not on every
/// plan and run.
public final class FileDigests: @unchecked Sendable {
    private var memo: [String: String] = [:]
    private let memoPath: String?
    /// path → [size, mtime in ns] and digest, as loaded or learned.
    private var stamps: [String: (size: Int, time: Int, digest: String)] = [:]
    private var dirty = false
    private let lock = NSLock()

    public init(memo: String? = nil) {
        memoPath = memo
        guard let memo, let data = FileManager.default.contents(atPath: memo),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: [Any]] else { return }
        for (path, entry) in json {
            if entry.count == 3, let size = entry[0] as? Int, let time = entry[1] as? Int, let digest = entry[2] as? String {
                stamps[path] = (size, time, digest)
            }
        }
    }

    /// Writes the memo back when it learned something.
    public func save() {
        lock.lock()
        defer { lock.unlock() }
        guard dirty, let memoPath else { return }
        let json = stamps.mapValues { [$0.size, $0.time, $0.digest] as [Any] }
        if let data = try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]) {
            try? FileManager.default.createDirectory(atPath: (memoPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try? data.write(to: URL(fileURLWithPath: memoPath), options: .atomic)
            dirty = false
        }
    }

    /// Folders nested deeper than this (a symbolic link to a parent folder makes them
    /// endless) digest as unreadable instead of recursing on.
    static let maxFolderDepth = 32

    /// The digest of a file or folder; what cannot be read (missing, a FIFO, a link loop)
    /// gets a word instead of a digest, which the checker has already reported.
    public func digest(_ path: String) -> String { digest(path, depth: 0) }

    private func digest(_ path: String, depth: Int) -> String {
        lock.lock()
        if let d = memo[path] {
            lock.unlock()
            return d
        }
        lock.unlock()
        let result: String
        switch FileProbe.kind(path) {
        case .folder where depth < Self.maxFolderDepth:
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
            var h = SHA256()
            for n in names where !n.hasPrefix(".") {
                h.update(data: Data((n + "\n" + digest(path + "/" + n, depth: depth + 1) + "\n").utf8))
            }
            result = "sha256:" + Hex.string(h.finalize())
        case .file: result = fileDigest(path)
        case .missing: result = "missing"
        default: result = "unreadable"
        }
        lock.lock()
        memo[path] = result
        lock.unlock()
        return result
    }

    private func fileDigest(_ path: String) -> String {
        var info = stat()
        let stamped = stat(path, &info) == 0
        let (size, time) = (Int(info.st_size), Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec))
        let key = (path as NSString).standardizingPath
        lock.lock()
        if stamped, let known = stamps[key], known.size == size, known.time == time {
            lock.unlock()
            return known.digest
        }
        lock.unlock()
        guard let handle = try? FileProbe.handle(path) else { return "unreadable" }
        var h = SHA256()
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty { h.update(data: chunk) }
        try? handle.close()
        let digest = "sha256:" + Hex.string(h.finalize())
        if stamped, memoPath != nil {
            lock.lock()
            stamps[key] = (size, time, digest)
            dirty = true
            lock.unlock()
        }
        return digest
    }
}
