import Foundation

/// Artifacts filed under a family, for runners that can reuse parts of an earlier artifact
/// whose key differs (the index reuses the vectors of passages an earlier index embedded
/// with the same encoder). A family is a digest of what makes the parts comparable; the
/// files are empty markers, `<root>/memo/<family>/<key>`, so a family costs no space.
extension ArtifactStore {
    func memoFolder(_ family: String) -> String { "\(root)/memo/\(family)" }

    /// Files `key` under `family`. A marker may be written before its artifact is stored: one
    /// whose artifact never lands (a failed node) is skipped by `filed` and removed by `cache gc`.
    public func file(_ key: String, under family: String) throws {
        let folder = memoFolder(family)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: folder + "/" + key, contents: nil) else { throw ExecutionError.cannotOpen(folder + "/" + key) }
    }

    /// The artifacts filed under `family` that are in the store and intact, newest first (by
    /// the marker's time, then key), at most `limit` of them.
    public func filed(under family: String, limit: Int) -> [Artifact] {
        let folder = memoFolder(family)
        let keys = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).map { key in
            (key, ((try? FileManager.default.attributesOfItem(atPath: folder + "/" + key))?[.modificationDate] as? Date) ?? .distantPast)
        }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        var found: [Artifact] = []
        for (key, _) in keys where found.count < limit {
            if let artifact = check(key).0 { found.append(artifact) }
        }
        return found
    }

    /// Removes markers whose artifacts are gone (`cache gc`); returns how many.
    @discardableResult
    public func pruneMemo() -> Int {
        let fm = FileManager.default, memo = root + "/memo"
        var removed = 0
        for family in (try? fm.contentsOfDirectory(atPath: memo)) ?? [] {
            let folder = memo + "/" + family
            for key in (try? fm.contentsOfDirectory(atPath: folder)) ?? [] where !fm.fileExists(atPath: self.folder(key)) {
                if (try? fm.removeItem(atPath: folder + "/" + key)) != nil { removed += 1 }
            }
            if ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).isEmpty { try? fm.removeItem(atPath: folder) }
        }
        return removed
    }
}
