import Foundation

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

    /// The cheap check for a node that will not run: the record, every file present with its
    /// recorded size and time (a file whose stamp differs is hashed against its digest). Nodes
    /// that read an artifact verify every digest first (`verified`).
    static func checked(key: String, folder: String) -> (Artifact?, problem: String?) {
        read(key: key, folder: folder) { path, digest, stamp in
            guard let now = Artifact.stamp(path) else { return "is missing" }
            return stamp != now && (try? Digest.of(file: path)) != digest ? "does not match its digest (corrupt)" : nil
        }
    }

    /// Reads the record and checks every file against it; nil with a reason when anything
    /// is missing or differs (the caller recomputes).
    static func verified(key: String, folder: String) -> (Artifact?, problem: String?) {
        read(key: key, folder: folder) { path, digest, _ in
            guard let actual = try? Digest.of(file: path) else { return "is missing" }
            return actual != digest ? "does not match its digest (corrupt)" : nil
        }
    }

    /// The artifact from its record, each file passed to `problem(path, digest, recorded stamp)`,
    /// which says what is wrong with it (nil: nothing).
    private static func read(key: String, folder: String, _ problem: (String, String, [Int]?) -> String?) -> (Artifact?, problem: String?) {
        let meta = (folder as NSString).appendingPathComponent(metaName)
        guard let data = FileManager.default.contents(atPath: meta) else { return (nil, "missing") }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let files = json["files"] as? [String: String], json["key"] as? String == key
        else { return (nil, "its record is unreadable") }
        let stamps = json["stamps"] as? [String: [Int]] ?? [:]
        for (name, digest) in files.sorted(by: { $0.key < $1.key }) {
            if let wrong = problem((folder as NSString).appendingPathComponent(name), digest, stamps[name]) { return (nil, "'\(name)' \(wrong)") }
        }
        return (Artifact(key: key, folder: folder, files: files, kind: json["kind"] as? String ?? "?"), nil)
    }
}
