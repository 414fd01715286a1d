import Foundation
import TailorDiagnostics

/// A node's outputs in the cache: a folder of files in open formats, with `artifact.json`
/// recording each file's digest. The artifact's own digest covers the names and digests of
/// its files, so two runs that produce the same bytes produce the same digest.
public struct Artifact: Sendable {
    public let key: String
    public let folder: String
    /// File name → `sha256:…`.
    public let files: [String: String]
    /// What node kind produced it (for `tailor cache ls`).
    public let kind: String
    /// Covers the names and digests of the files.
    public let digest: String

    init(key: String, folder: String, files: [String: String], kind: String) {
        self.key = key
        self.folder = folder
        self.files = files
        self.kind = kind
        digest = Digest.of(text: files.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "\n"))
    }

    /// The digest an input reference sees: a port reads `<port>.jsonl` (or the file the port
    /// names), no port reads the whole artifact. Dependants of an unchanged port stay cached
    /// even when another port of the same node changed.
    public func digest(port: String?) -> String {
        guard let port else { return digest }
        return files.first { $0.key.hasPrefix(port + ".") }?.value ?? digest
    }

    public func path(_ file: String) -> String { (folder as NSString).appendingPathComponent(file) }

    static let metaName = "artifact.json"

    /// A file's size and modification time, recorded so that an unchanged cache is confirmed
    /// by `stat` alone; a file whose stamp differs is hashed.
    static func stamp(_ path: String) -> [Int]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [Int(info.st_size), Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)]
    }

    /// Files up to this size are hashed whenever their artifact is used, even from the cache:
    /// at about 2 GB/s that is at most 16 ms a file, and everything a run shows or records
    /// (metrics, reports, training logs, data sets, tokenizers) is then always checked. Larger
    /// files (model weights) are confirmed by their stamps and hashed before anything reads them.
    public static let alwaysHashedBytes = 32 << 20

    /// The check for a node that will not run: the record, and every file against its digest,
    /// except files larger than `limit`, confirmed by their recorded size and time (one whose
    /// stamp differs is hashed). Nodes that read an artifact verify every digest first (`verified`).
    static func checked(key: String, folder: String, alwaysHashed limit: Int) -> (Artifact?, problem: String?) {
        read(key: key, folder: folder) { path, digest, stamp in
            guard let stamp, stamp.count == 2, stamp[0] > limit else { return problem(path, digest) }
            guard let now = Artifact.stamp(path) else { return missingOrUnreadable(path) }
            return stamp != now ? problem(path, digest) : nil
        }
    }

    /// Reads the record and checks every file against it; nil with a reason when anything
    /// is missing or differs (the caller recomputes).
    static func verified(key: String, folder: String) -> (Artifact?, problem: String?) {
        read(key: key, folder: folder) { path, digest, _ in problem(path, digest) }
    }

    /// What is wrong with the file at `path` against `digest`, nil when it matches.
    static func problem(_ path: String, _ digest: String) -> String? {
        guard let actual = try? Digest.of(file: path) else { return missingOrUnreadable(path) }
        return actual != digest ? "does not match its digest (corrupt)" : nil
    }

    /// "is missing" only when it is: a file that is there but cannot be read says why.
    static func missingOrUnreadable(_ path: String) -> String {
        switch FileProbe.kind(path) {
        case .missing: "is missing"
        case .file: "cannot be read"
        case let found: FileProbe.describe(found, wanted: .file)
        }
    }

    /// The artifact from its record, each file passed to `problem(path, digest, recorded stamp)`,
    /// which says what is wrong with it (nil: nothing).
    private static func read(key: String, folder: String, _ problem: (String, String, [Int]?) -> String?) -> (Artifact?, problem: String?) {
        let meta = (folder as NSString).appendingPathComponent(metaName)
        guard FileProbe.kind(meta) != .missing else { return (nil, "missing") }
        guard let data = try? FileProbe.read(meta), let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let files = json["files"] as? [String: String], json["key"] as? String == key
        else { return (nil, "its record is unreadable") }
        let stamps = json["stamps"] as? [String: [Int]] ?? [:]
        for (name, digest) in files.sorted(by: { $0.key < $1.key }) {
            if let wrong = problem((folder as NSString).appendingPathComponent(name), digest, stamps[name]) { return (nil, "'\(name)' \(wrong)") }
        }
        return (Artifact(key: key, folder: folder, files: files, kind: json["kind"] as? String ?? "?"), nil)
    }
}
