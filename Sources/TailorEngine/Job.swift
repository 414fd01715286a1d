import Foundation
import TailorPlan
import TailorSpec

/// One node described so that another process can run it against the same cache: its kind
/// and parameters, the user's files it reads with the digests they must still have, its inputs
/// by role as artifact keys, and the execution key its artifact is stored under. `tailor job`
/// writes one after running the node's inputs; `tailor exec-node` (what a batch worker runs)
/// reads it, checks that everything is as described, and builds the artifact under that key,
/// where the next `tailor run` of the spec finds it.
public struct Job: Sendable {
    public static let version = 1

    public struct Input: Sendable {
        public var role: InputRole
        public var node: String
        public var port: String?
        /// The input artifact's key in the cache.
        public var artifact: String
    }

    public var node: String
    public var kind: NodeKind
    public var params: Value
    /// The spec line the node comes from, for messages.
    public var location: String?
    /// The spec's folder: the files' paths and the node's relative paths resolve against it.
    public var specDirectory: String
    public var files: [(path: String, digest: String)]
    public var inputs: [Input]
    public var key: String

    /// The job as one line of JSON (its parameters in canonical form).
    public var json: String {
        func s(_ text: String) -> Value { Value(.string(text), at: nil) }
        func object(_ entries: [(String, Value?)]) -> Value { Value(.object(entries.compactMap { k, v in v.map { (k, $0) } }), at: nil) }
        return object([
            ("job_version", Value(.int(Self.version), at: nil)), ("node", s(node)), ("kind", s(kind.rawValue)),
            ("kind_version", Value(.int(kind.version), at: nil)), ("params", params), ("location", location.map(s)),
            ("spec_directory", s(specDirectory)),
            ("files", Value(.list(files.map { object([("path", s($0.path)), ("digest", s($0.digest))]) }), at: nil)),
            ("inputs", Value(.list(inputs.map {
                object([("role", s($0.role.rawValue)), ("node", s($0.node)), ("port", $0.port.map(s)), ("artifact", s($0.artifact))])
            }), at: nil)),
            ("key", s(key)),
        ]).canonicalJSON + "\n"
    }

    public init(json text: String) throws {
        let v: Value
        do {
            v = try Value(json: text)
        } catch {
            throw ExecutionError.jobNotJSON(error)
        }
        func field<T>(_ value: Value?, _ name: String, _ read: (Value) -> T?) throws -> T {
            guard let value, let t = read(value) else { throw ExecutionError.jobField(name) }
            return t
        }
        let version = try field(v["job_version"], "job_version", \.int)
        guard version == Self.version else {
            throw ExecutionError.jobVersion(version, Self.version)
        }
        node = try field(v["node"], "node", \.string)
        let kindName = try field(v["kind"], "kind", \.string)
        guard let kind = NodeKind(rawValue: kindName) else { throw ExecutionError.jobKind(kindName) }
        let kindVersion = try field(v["kind_version"], "kind_version", \.int)
        guard kindVersion == kind.version else {
            throw ExecutionError.jobKindVersion(kind, written: kindVersion)
        }
        self.kind = kind
        params = try field(v["params"], "params") { $0.entries != nil ? $0 : nil }
        location = v["location"]?.string
        specDirectory = try field(v["spec_directory"], "spec_directory", \.string)
        files = try field(v["files"], "files", \.list).map { f in
            (try field(f["path"], "files.path", \.string), try field(f["digest"], "files.digest", \.string))
        }
        inputs = try field(v["inputs"], "inputs", \.list).map { i in
            let role = try field(i["role"], "inputs.role", \.string)
            guard let r = InputRole(rawValue: role) else { throw ExecutionError.jobRole(role) }
            return Input(role: r, node: try field(i["node"], "inputs.node", \.string), port: i["port"]?.string,
                         artifact: try field(i["artifact"], "inputs.artifact", \.string))
        }
        key = try field(v["key"], "key", \.string)
    }

    init(node: PlanNode, inputs: [(PlanInput, Artifact)], files: [String: String], specDirectory: String, key: String) {
        self.node = node.id
        kind = node.kind
        params = node.params
        location = node.location?.description
        self.specDirectory = specDirectory
        self.files = node.files.map { ($0, files[$0] ?? "missing") }
        self.inputs = inputs.map { Input(role: $0.0.role, node: $0.0.node, port: $0.0.port, artifact: $0.1.key) }
        self.key = key
    }

    /// The plan node it describes (its location kept only as text, for messages).
    var planNode: PlanNode {
        PlanNode(id: node, kind: kind, params: params, inputs: inputs.map { PlanInput(node: $0.node, port: $0.port, role: $0.role) },
                 files: files.map(\.path), key: key, location: nil, estimate: Estimate(), variants: nil)
    }
}

extension Executor {
    /// The job of `nodeID`: the nodes it needs run first (from the cache, or computed), then the
    /// node itself described, not run.
    public func job(for nodeID: String, jobs: Int = 1, events: @escaping (Event) -> Void = { _ in }) throws -> Job {
        guard let node = plan.node(nodeID) else { throw ExecutionError.noNode(nodeID) }
        let needed = try Self.selection(node.inputs.map(\.node), in: plan)
        let done = Dictionary(try run(needed, jobs: jobs, events: events).map { ($0.node.id, $0.artifact) }, uniquingKeysWith: { a, _ in a })
        let inputs = node.inputs.map { ($0, done[$0.node]!) }
        return Job(node: node, inputs: inputs, files: fileDigests(node), specDirectory: specDirectory, key: executionKey(node, inputs))
    }

    /// Runs a job against `store`: every input artifact must be there and intact, every file
    /// must still have the digest the job names, and this Tailor must compute the same key;
    /// then the artifact is built under the key (or found there already).
    public static func execute(_ job: Job, store: ArtifactStore, runners: RunnerRegistry, events: @escaping (Event) -> Void = { _ in }) throws -> Outcome {
        let node = job.planNode
        let place = (job.location.map { "\($0): " } ?? "") + job.node + ": "
        let plan = Plan(name: job.node, file: (job.specDirectory as NSString).appendingPathComponent("job"), variants: [], nodes: [node],
                        machine: .reference, warnings: [])
        let executor = Executor(plan: plan, store: store, digests: FileDigests(), runners: runners)
        var inputs: [(PlanInput, Artifact)] = []
        for (input, described) in zip(node.inputs, job.inputs) {
            guard case (let artifact?, _) = store.lookup(described.artifact) else {
                throw ExecutionError.jobInputMissing(place, input: described.node, artifact: described.artifact, cache: store.root)
            }
            inputs.append((input, artifact))
        }
        let files = executor.fileDigests(node)
        for (file, digest) in files where job.files.first(where: { $0.path == file })?.digest != digest {
            throw ExecutionError.jobFileChanged(place, file)
        }
        let key = executor.executionKey(node, inputs)
        guard key == job.key else {
            throw ExecutionError.jobKey(place, computed: key, written: job.key)
        }
        let start = Date()
        events(.started(node, index: 0, total: 1))
        let artifact: Artifact, built: Bool
        do {
            (artifact, built) = try executor.build(node, inputs, key: key, events: events)
        } catch let error as ExecutionError {
            throw ExecutionError((job.location.map { "\($0): " } ?? "") + error.description)  // build named the node
        }
        let outcome = Outcome(node: node, status: built ? .ran : .cached, reason: built ? "new" : nil, seconds: Date().timeIntervalSince(start),
                              artifact: artifact, inputs: inputs.map { ($0.0, $0.1.digest(port: $0.0.port)) }, files: files)
        events(.finished(outcome, index: 0, total: 1))
        return outcome
    }
}
