import Foundation
import TailorPlan
import TailorSpec

/// What `tailor plan` says a run would do with each node: found in the cache, run (and why),
/// or run only if an upstream output actually changes. It uses exactly the execution keys of
/// `tailor run`; the reasons compare with the node's entry in the cache's index, written by the
/// last run of the same spec (one small file per node).
public struct NodeStatus: Sendable, Equatable {
    public enum State: String, Sendable { case cached, run, mayRun = "may run" }
    public var state: State
    public var reason: String?

    public var display: String { state.rawValue + (reason.map { ": \($0)" } ?? "") }
}

extension Executor {
    /// The index entry of a node: what its last run read.
    struct IndexEntry: Codable {
        var key: String
        var params: String
        var inputs: [String: String]
        var files: [String: String]
    }

    func indexPath(_ node: PlanNode) -> String {
        let safe = node.id.replacingOccurrences(of: "/", with: "_")
        return "\(store.root)/index/\(plan.name)/\(safe).json"
    }

    func writeIndex(_ node: PlanNode, key: String, inputs: [(PlanInput, Artifact)]) {
        let path = indexPath(node)
        // Unchanged since the last run (the common case on a rerun): nothing to write. The key
        // covers parameters, files and inputs, so finding it in the entry is enough.
        if let old = FileManager.default.contents(atPath: path), old.range(of: Data(key.utf8)) != nil { return }
        let entry = IndexEntry(key: key, params: node.params.canonicalJSON,
                               inputs: Dictionary(inputs.map { ($0.0.display, $0.1.digest(port: $0.0.port)) }, uniquingKeysWith: { a, _ in a }),
                               files: Dictionary(node.files.map { ($0, digests.digest(resolve($0))) }, uniquingKeysWith: { a, _ in a }))
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if let data = try? JSONEncoder().encode(entry) { try? data.write(to: URL(fileURLWithPath: path), options: .atomic) }
    }

    func resolve(_ file: String) -> String { file.hasPrefix("/") || specDirectory == "." ? file : specDirectory + "/" + file }

    /// Each node's status, in plan order. Reads only artifact records, never whole artifacts.
    public func status() -> [String: NodeStatus] {
        var known: [String: Artifact] = [:]
        var result: [String: NodeStatus] = [:]
        for node in plan.nodes {
            let previous = (try? Data(contentsOf: URL(fileURLWithPath: indexPath(node)))).flatMap { try? JSONDecoder().decode(IndexEntry.self, from: $0) }
            let paramsChanged = previous.map { changes(from: $0.params, to: node.params.canonicalJSON) }
            let changedFiles = node.files.filter { previous?.files[$0].map { $0 != digests.digest(resolve($0)) } ?? false }
            let pending = node.inputs.filter { known[$0.node] == nil }.map(\.node)
            if !pending.isEmpty {
                if let change = paramsChanged, !change.isEmpty {
                    result[node.id] = NodeStatus(state: .run, reason: "changed \(change)")
                } else if previous == nil {
                    result[node.id] = NodeStatus(state: .run, reason: "new node")
                } else {
                    result[node.id] = NodeStatus(state: .mayRun, reason: "if \(Array(Set(pending)).sorted().joined(separator: ", ")) changes its output")
                }
                continue
            }
            let inputs = node.inputs.map { ($0, known[$0.node]!) }
            let key = executionKey(node, inputs)
            if let artifact = store.recorded(key) {
                known[node.id] = artifact
                result[node.id] = NodeStatus(state: .cached, reason: nil)
                continue
            }
            let reason: String
            if let previous {
                if let change = paramsChanged, !change.isEmpty {
                    reason = "changed \(change)"
                } else if !changedFiles.isEmpty {
                    reason = "file changed: " + changedFiles.joined(separator: ", ")
                } else if let input = inputs.first(where: { previous.inputs[$0.0.display] != $0.1.digest(port: $0.0.port) }) {
                    reason = "input \(input.0.display) changed"
                } else {
                    reason = previous.key == key ? "artifact missing" : "implementation changed"
                }
            } else {
                reason = "new node"
            }
            result[node.id] = NodeStatus(state: .run, reason: reason)
        }
        return result
    }

    /// Parameters that differ, as `path old → new` (at most three, then "and N more").
    func changes(from old: String, to new: String) -> String {
        func flatten(_ json: Any, _ prefix: String, _ out: inout [String: String]) {
            if let object = json as? [String: Any] {
                for (k, v) in object { flatten(v, prefix.isEmpty ? k : prefix + "." + k, &out) }
            } else if let data = try? JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed, .sortedKeys]) {
                out[prefix] = String(decoding: data, as: UTF8.self)
            }
        }
        var a: [String: String] = [:], b: [String: String] = [:]
        if let x = try? JSONSerialization.jsonObject(with: Data(old.utf8), options: .fragmentsAllowed) { flatten(x, "", &a) }
        if let y = try? JSONSerialization.jsonObject(with: Data(new.utf8), options: .fragmentsAllowed) { flatten(y, "", &b) }
        let keys = Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
        let shown = keys.prefix(3).map { "\($0) \(a[$0] ?? "unset") → \(b[$0] ?? "unset")" }
        return shown.joined(separator: ", ") + (keys.count > 3 ? " and \(keys.count - 3) more" : "")
    }
}

extension ArtifactStore {
    /// The artifact's record without checking its files (for status; runs verify).
    func recorded(_ key: String) -> Artifact? {
        let meta = folder(key) + "/" + Artifact.metaName
        guard let data = FileManager.default.contents(atPath: meta),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let files = json["files"] as? [String: String], json["key"] as? String == key
        else { return nil }
        return Artifact(key: key, folder: folder(key), files: files, kind: json["kind"] as? String ?? "?")
    }
}
