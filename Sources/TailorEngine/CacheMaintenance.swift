import Foundation

/// `tailor cache`: what the cache holds, which runs use it, verification and collection.
public struct CacheMaintenance {
    public struct Entry: Sendable {
        public var key: String
        public var kind: String
        public var bytes: Int
        /// Run records and lock files that name this artifact.
        public var usedBy: [String]
    }

    public let store: ArtifactStore
    /// Folders searched for run records (`lock.json`) and `*.lock` files.
    public let referenceRoots: [String]

    public init(store: ArtifactStore, referenceRoots: [String]) {
        self.store = store
        self.referenceRoots = referenceRoots
    }

    /// Every artifact key in the cache.
    public func keys() -> [String] {
        let fm = FileManager.default
        let root = store.root + "/artifacts"
        return ((try? fm.contentsOfDirectory(atPath: root)) ?? []).sorted().flatMap { shard in
            ((try? fm.contentsOfDirectory(atPath: root + "/" + shard)) ?? []).sorted()
        }
    }

    /// Artifact key → the locks that reference it.
    public func references() -> [String: [String]] {
        var refs: [String: [String]] = [:]
        let fm = FileManager.default
        for root in referenceRoots {
            guard let walker = fm.enumerator(atPath: root) else { continue }
            for case let path as String in walker where path.hasSuffix("lock.json") || path.hasSuffix(".lock") {
                let full = root + "/" + path
                guard let data = fm.contents(atPath: full), let lock = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                      let nodes = lock["nodes"] as? [[String: Any]] else { continue }
                for node in nodes { if let key = node["artifact"] as? String { refs[key, default: []].append(full) } }
            }
        }
        return refs
    }

    public func list() -> [Entry] {
        let refs = references()
        return keys().map { key in
            let folder = store.folder(key)
            let record = store.recorded(key)
            let size = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).reduce(0) { total, name in
                total + (((try? FileManager.default.attributesOfItem(atPath: folder + "/" + name))?[.size] as? Int) ?? 0)
            }
            return Entry(key: key, kind: record?.kind ?? "(unreadable)", bytes: size, usedBy: refs[key] ?? [])
        }
    }

    /// Keys whose files do not match their records, with the problem. Each is moved aside
    /// (`ArtifactStore.damaged`), so the next run rebuilds it: a damaged file that kept its
    /// size and time would otherwise still pass a large artifact's stamp check.
    public func verify() throws -> [(key: String, problem: String)] {
        let bad = keys().compactMap { key -> (key: String, problem: String)? in
            let (artifact, problem) = store.lookup(key)
            return artifact == nil ? (key, problem ?? "unreadable") : nil
        }
        for (key, _) in bad { try store.setAside(key) }
        return bad
    }

    /// Removes artifacts no run record or lock references; returns what was (or would be) removed.
    public func collect(dryRun: Bool) throws -> [Entry] {
        let unused = list().filter(\.usedBy.isEmpty)
        if !dryRun {
            for entry in unused { try FileManager.default.removeItem(atPath: store.folder(entry.key)) }
            try? FileManager.default.removeItem(atPath: store.root + "/damaged")  // what verify set aside
            store.pruneMemo()
        }
        return unused
    }
}
