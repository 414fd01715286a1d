import Foundation
import TailorDiagnostics

/// The content-addressed cache: `<root>/artifacts/<key[0..2]>/<key>/`. An artifact is built
/// in `<root>/tmp/`, its files digested and recorded, fsynced, and renamed into place in one
/// step, so a crash never leaves a half-written artifact where a reader would find it. A lock
/// file per key (flock) keeps two processes from computing the same node at once.
public final class ArtifactStore: @unchecked Sendable {
    public let root: String
    /// Files up to this many bytes are hashed even when found in the cache
    /// (`Artifact.alwaysHashedBytes`; tests lower it to exercise the stamp check).
    let alwaysHashed: Int

    public init(root: String, alwaysHashed: Int = Artifact.alwaysHashedBytes) throws {
        self.root = root
        self.alwaysHashed = alwaysHashed
        for sub in ["artifacts", "tmp", "locks", "scratch"] {
            do {
                try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true)
            } catch {
                throw ExecutionError.cacheFolder("\(root)/\(sub)", error.localizedDescription)
            }
        }
    }

    public func folder(_ key: String) -> String { "\(root)/artifacts/\(key.prefix(2))/\(key)" }

    /// A node's scratch folder (checkpoints, a command's working folder), kept until its
    /// artifact is stored; created by the runners that use one.
    func scratch(_ key: String) -> String { "\(root)/scratch/\(key)" }

    /// The verified artifact for `key` (every file hashed), or nil with why it cannot be used.
    public func lookup(_ key: String) -> (Artifact?, problem: String?) { explained(key, Artifact.verified(key: key, folder: folder(key))) }

    /// The artifact for `key` if its record and files hold (see `Artifact.checked`).
    public func check(_ key: String) -> (Artifact?, problem: String?) { explained(key, Artifact.checked(key: key, folder: folder(key), alwaysHashed: alwaysHashed)) }

    /// Where `tailor cache verify` moves an artifact it finds damaged: out of the way, so the
    /// next run rebuilds it whatever its stamps say, and kept for a look until `cache gc`.
    public func damaged(_ key: String) -> String { "\(root)/damaged/\(key)" }

    /// A missing artifact that verify set aside says so, so the rebuild is reported as one.
    private func explained(_ key: String, _ found: (Artifact?, problem: String?)) -> (Artifact?, problem: String?) {
        guard found.problem == "missing", FileProbe.kind(damaged(key)) == .folder else { return found }
        return (nil, "damaged (found by `tailor cache verify`)")
    }

    /// Moves a damaged artifact aside (see `damaged(_:)`), replacing an older damaged copy.
    public func setAside(_ key: String) throws {
        let target = damaged(key)
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/damaged", withIntermediateDirectories: true)
        if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
        guard rename(folder(key), target) == 0 else {
            throw ExecutionError.setAside(folder(key), String(cString: strerror(errno)))
        }
    }

    /// Runs `body` with the key's lock held (waiting for another process that holds it).
    /// Keys share 256 lock files by their first two hex digits: a rare wait between two
    /// unrelated nodes, instead of one file per node ever built.
    public func withLock<T>(_ key: String, _ body: () throws -> T) throws -> T {
        let path = "\(root)/locks/\(key.prefix(2)).lock"
        let fd = open(path, O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { throw ExecutionError.lockFile(path, "open") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw ExecutionError.lockFile(path, "take") }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// Removes the staging folders of artifacts this process is still writing (on an
    /// interruption: nothing half-written stays behind).
    public func removeOwnStaging() {
        let marker = ".\(getpid())."
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/tmp")) ?? [] where name.contains(marker) {
            try? FileManager.default.removeItem(atPath: root + "/tmp/" + name)
        }
    }

    /// Builds an artifact: `produce` writes files into a fresh folder; they are digested,
    /// recorded and moved into place. A failure leaves nothing behind.
    public func store(_ key: String, kind: String, produce: (String) throws -> Void) throws -> Artifact {
        let staging = "\(root)/tmp/\(key).\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
        let fm = FileManager.default
        try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: staging) }
        try produce(staging)
        var files: [String: String] = [:], stamps: [String: [Int]] = [:]
        for name in try fm.contentsOfDirectory(atPath: staging) where name != Artifact.metaName {
            let path = staging + "/" + name
            try sync(path)
            files[name] = try Digest.of(file: path)
            stamps[name] = Artifact.stamp(path)  // rename keeps the times
        }
        let meta: [String: Any] = ["key": key, "kind": kind, "files": files, "stamps": stamps, "tailor": TailorVersion.current]
        let metaPath = staging + "/" + Artifact.metaName
        try JSONSerialization.data(withJSONObject: meta, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: metaPath))
        try sync(metaPath)
        let final = folder(key)
        try fm.createDirectory(atPath: (final as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if fm.fileExists(atPath: final) { try fm.removeItem(atPath: final) }  // a corrupt one being replaced
        guard rename(staging, final) == 0 else { throw ExecutionError.storeMove(final) }
        try? fm.removeItem(atPath: damaged(key))  // rebuilt: the damaged copy has served
        return Artifact(key: key, folder: final, files: files, kind: kind)
    }

    private func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ExecutionError.cannotOpen(path) }
        fsync(fd)
        close(fd)
    }
}

/// Tailor's version, recorded in artifacts and lock files.
public enum TailorVersion {
    public static let current = "0.1.0"
}
