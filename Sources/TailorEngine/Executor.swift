import Foundation
import TailorRuntime
import TailorPlan
import TailorSpec

/// Runs a plan: nodes in dependency order, each looked up in the artifact cache by its
/// execution key and computed only when missing (or corrupt). The execution key hashes the
/// node's kind, version, parameters and file digests with the digests of the input artifacts
/// it reads — not the inputs' keys — so when a re-executed node reproduces its previous
/// output, everything downstream is found in the cache (early cutoff).
public final class Executor {
    public enum Status: String, Sendable { case ran, cached, recomputed }

    public struct Outcome: Sendable {
        public var node: PlanNode
        public var status: Status
        /// Why it ran: "new", "corrupt: …".
        public var reason: String?
        public var seconds: Double
        public var artifact: Artifact
        public var inputs: [(input: PlanInput, digest: String)]
        /// The user's files the node read, as written in the spec → the digest its key used
        /// (and, for a node that ran, the digest of what it read: a file that changed while it
        /// was read stops the node).
        public var files: [String: String] = [:]
        /// Most tensor memory the node held at once, above what was alive when it started:
        /// measured for training and eval nodes this run computed (they run alone), else nil.
        public var peakMemory: Int? = nil
    }

    /// A running node's progress: a line of text, and how far along it is when it knows.
    public struct Progress: Sendable {
        public var text: String
        public var done: Int?
        public var total: Int?
        /// Seconds since the node's work started (for a rate and an ETA).
        public var elapsed: Double?
    }

    public enum Event {
        case started(PlanNode, index: Int, total: Int)
        case progress(PlanNode, Progress)
        /// Something the user must see that did not stop the node (a damaged checkpoint discarded).
        case warning(PlanNode, String)
        case finished(Outcome, index: Int, total: Int)
    }

    public let plan: Plan
    public let store: ArtifactStore
    let specDirectory: String
    let digests: FileDigests

    /// Every kind that runs, and its runner: each stage's runners register their kinds.
    public let runners: RunnerRegistry

    /// Where nodes are built when not in this process (a batch scheduler such as Slurm): each
    /// node that must run is handed over as a job; nil builds them here.
    public var remote: (any RemoteBuilder)?

    /// `digests`: the ones the plan was made with (their memo lives in the cache).
    public init(plan: Plan, store: ArtifactStore, digests: FileDigests? = nil, runners: RunnerRegistry) {
        self.runners = runners
        self.plan = plan
        self.store = store
        self.digests = digests ?? FileDigests(memo: store.root + "/index/file-digests.json")
        let dir = (plan.file as NSString).deletingLastPathComponent
        specDirectory = dir.isEmpty ? "." : dir
    }

    /// The nodes to run: all, or those named and everything they need.
    public static func selection(_ only: [String], in plan: Plan) throws -> [PlanNode] {
        guard !only.isEmpty else { return plan.nodes }
        var wanted = Set<String>()
        var stack = only
        while let id = stack.popLast() {
            guard let node = plan.node(id) else {
                throw ExecutionError.noNode(id)
            }
            if wanted.insert(id).inserted { stack += node.inputs.map(\.node) }
        }
        return plan.nodes.filter { wanted.contains($0.id) }
    }

    /// What the nodes of one run share: finished artifacts, which artifacts were hashed, and the
    /// outcomes so far. Guarded by one lock; nodes run concurrently with `jobs` > 1.
    final class RunState: @unchecked Sendable {
        let lock = NSLock()
        var done: [String: Artifact] = [:]
        var verified = Set<String>()
        var outcomes: [String: Outcome] = [:]

        func locked<T>(_ body: () throws -> T) rethrows -> T {
            lock.lock()
            defer { lock.unlock() }
            return try body()
        }
    }

    /// Node kinds that use every core themselves (the runtime's kernels): they run alone.
    static func isHeavy(_ kind: NodeKind) -> Bool {
        kind.trains || kind.rawValue.hasPrefix("eval.") || kind == .modelLoad || kind == .modelInit
    }

    /// Executes `nodes` and returns what happened to each, in plan order. Independent light
    /// nodes (data, tokenizers, prompts) run up to `jobs` at a time; a node that computes with
    /// the tensor runtime runs alone, as its kernels already use every core. A node found in the
    /// cache is confirmed cheaply (record and file stamps); a node that runs first verifies every
    /// digest of the artifacts it reads, and rebuilds any that is damaged. Artifacts do not
    /// depend on the order or the concurrency.
    public func run(_ nodes: [PlanNode], jobs: Int = 1, events: @escaping (Event) -> Void = { _ in }) throws -> [Outcome] {
        let state = RunState()
        let eventLock = NSLock()
        let emit: (Event) -> Void = { event in
            eventLock.lock()
            events(event)
            eventLock.unlock()
        }
        let index = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1.id, $0) })
        // Readiness by counting: each node waits for its inputs in this run; a finished node
        // releases its dependants. Ready nodes start in plan order.
        let schedule = Schedule()
        var dependants: [String: [Int]] = [:]
        for (i, node) in nodes.enumerated() {
            let waits = Set(node.inputs.map(\.node).filter { index[$0] != nil })
            schedule.waiting[i] = waits.count
            for input in waits { dependants[input, default: []].append(i) }
            if waits.isEmpty { schedule.ready.insert(i) }
        }
        let work = Unchecked((self, emit))
        schedule.condition.lock()
        while true {
            if schedule.failure == nil {
                while let next = schedule.ready.min() {
                    let node = nodes[next]
                    // A remote builder's scheduler gives each job its own cores and memory.
                    let heavy = remote == nil && Self.isHeavy(node.kind)
                    if heavy ? schedule.running > 0 : (schedule.heavy || schedule.running >= Swift.max(1, jobs)) { break }
                    schedule.ready.remove(next)
                    schedule.running += 1
                    if heavy { schedule.heavy = true }
                    let released = dependants[node.id] ?? []
                    DispatchQueue.global().async {
                        var error: Error?
                        do {
                            try work.value.0.process(node, position: next, total: nodes.count, state: state, events: work.value.1)
                        } catch let e { error = e }
                        schedule.finished(heavy: heavy, error: error, releasing: released)
                    }
                }
            }
            if schedule.running == 0 && (schedule.failure != nil || schedule.ready.isEmpty) { break }
            schedule.condition.wait()
        }
        schedule.condition.unlock()
        if let failure = schedule.failure { throw failure }
        return nodes.compactMap { state.outcomes[$0.id] }
    }

    /// Counts of running nodes, under the condition's lock.
    final class Schedule: @unchecked Sendable {
        let condition = NSCondition()
        var running = 0
        var heavy = false
        var failure: Error?
        /// Unfinished inputs per node index, and the indices whose inputs are all done.
        var waiting: [Int: Int] = [:]
        var ready = Set<Int>()

        func finished(heavy wasHeavy: Bool, error: Error?, releasing dependants: [Int]) {
            condition.lock()
            running -= 1
            if wasHeavy { heavy = false }
            if let error, failure == nil { failure = error }
            if error == nil {
                for d in dependants {
                    waiting[d]! -= 1
                    if waiting[d] == 0 { ready.insert(d) }
                }
            }
            condition.signal()
            condition.unlock()
        }
    }

    /// Hands values to worker threads; the run's shared state is locked where it is touched.
    struct Unchecked<T>: @unchecked Sendable {
        let value: T
        init(_ value: T) { self.value = value }
    }

    /// One node: from the cache, or built after its inputs are verified.
    func process(_ node: PlanNode, position: Int, total: Int, state: RunState, events: @escaping (Event) -> Void) throws {
        var inputs = try state.locked {
            try node.inputs.map { input -> (PlanInput, Artifact) in
                guard let a = state.done[input.node] else { throw ExecutionError.runsBeforeInput(node.id, input.node) }
                return (input, a)
            }
        }
        let start = Date()
        events(.started(node, index: position, total: total))
        // An export's files are copied whole into the run record: they are all hashed first.
        let confirm = node.kind == .exportModel ? store.lookup : store.check
        var key = executionKey(node, inputs)
        var (artifact, problem) = confirm(key)
        var status = Status.cached
        var peak: Int?
        if artifact == nil {
            for i in inputs.indices where !state.locked({ state.verified.contains(inputs[i].1.key) }) {
                let (input, stored) = inputs[i]
                if case (nil, let why) = store.lookup(stored.key), let source = plan.node(input.node) {
                    let sourceInputs = state.locked { source.inputs.map { ($0, state.done[$0.node]!) } }
                    let (rebuilt, _) = try build(source, sourceInputs, key: stored.key, events: events)
                    state.locked {
                        state.done[input.node] = rebuilt
                        state.outcomes[input.node]?.status = .recomputed
                        state.outcomes[input.node]?.reason = why
                        state.outcomes[input.node]?.artifact = rebuilt
                    }
                    for j in inputs.indices where inputs[j].0.node == input.node { inputs[j].1 = rebuilt }
                }
                state.locked { _ = state.verified.insert(inputs[i].1.key) }
            }
            key = executionKey(node, inputs)
            (artifact, problem) = confirm(key)
            if artifact == nil {
                let baseline = TensorMemory.liveBytes
                TensorMemory.resetPeak()
                let (made, builtHere) = try remote.map { try buildRemotely($0, node, inputs, key: key, events: events) }
                    ?? build(node, inputs, key: key, events: events)
                if builtHere, remote == nil, Self.isHeavy(node.kind) { peak = TensorMemory.peakBytes - baseline }
                artifact = made
                status = !builtHere ? .cached : problem == "missing" ? .ran : .recomputed
                state.locked { _ = state.verified.insert(key) }
            }
        }
        let outcome = Outcome(node: node, status: status, reason: status == .cached ? nil : (problem == "missing" ? "new" : problem),
                              seconds: Date().timeIntervalSince(start), artifact: artifact!,
                              inputs: inputs.map { ($0.0, $0.1.digest(port: $0.0.port)) },
                              files: fileDigests(node), peakMemory: peak)
        writeIndex(node, key: key, inputs: inputs)
        state.locked {
            state.done[node.id] = artifact!
            state.outcomes[node.id] = outcome
        }
        events(.finished(outcome, index: position, total: total))
    }

    /// Computes a node's artifact under its key's lock (another process may have built it
    /// meanwhile: then that one is used).
    /// Whether this process built it is returned too (else another one did, and it was waited for).
    func build(_ node: PlanNode, _ inputs: [(PlanInput, Artifact)], key: String, events: @escaping (Event) -> Void) throws -> (Artifact, built: Bool) {
        try store.withLock(key) {
            if case (let built?, _) = store.lookup(key) { return (built, false) }
            guard let runner = runners.runners[node.kind] else { throw ExecutionError.inNode(node, ExecutionError.notExecutable(node.kind)) }
            let scratch = store.scratch(key)
            let made = try store.store(key, kind: node.kind.rawValue) { folder in
                let ctx = NodeContext(node: node, inputs: inputs, output: folder, scratch: scratch, specDirectory: specDirectory,
                                      report: { events(.progress(node, $0)) }, warning: { events(.warning(node, $0)) }, store: store, key: key)
                do {
                    try runner(ctx)
                    try confirmFiles(node)
                    try Self.confirmRead(ctx)
                } catch {
                    // Whatever failed (a reader, a writer out of space), the user is told which node and why.
                    throw ExecutionError.inNode(node, error)
                }
            }
            try? FileManager.default.removeItem(atPath: scratch)
            return (made, true)
        }
    }

    /// Hands the node to the remote builder as a job (its inputs are in the store) and takes
    /// the artifact the job stored under `key`. A job that ends without it is a failure.
    func buildRemotely(_ remote: any RemoteBuilder, _ node: PlanNode, _ inputs: [(PlanInput, Artifact)], key: String,
                       events: @escaping (Event) -> Void) throws -> (Artifact, built: Bool) {
        if case (let built?, _) = store.lookup(key) { return (built, false) }
        let job = Job(node: node, inputs: inputs, files: fileDigests(node), specDirectory: specDirectory, key: key)
        try remote.build(job, node: node, machine: plan.machine, store: store, events: events)
        guard case (let made?, _) = store.lookup(key) else {
            throw ExecutionError.inNode(node, ExecutionError("its job ended, but no intact artifact is in the cache under \(key.prefix(12))"))
        }
        return (made, true)
    }

    /// After a node ran: its runner read every parameter of the node. One it never looked at
    /// was accepted by the checker and is in the key, yet changed nothing: the node fails
    /// (nothing is stored) rather than hand back a result that ignored it.
    static func confirmRead(_ ctx: NodeContext) throws {
        let unread = ctx.reads.unread(ctx.node.params)
        guard !unread.isEmpty else { return }
        throw ExecutionError.unreadParameters(unread, ctx.node.kind)
    }

    /// The digests of the node's files (as the spec writes them) that its key is made of.
    func fileDigests(_ node: PlanNode) -> [String: String] {
        Dictionary(node.files.map { ($0, digests.digest(resolve($0))) }, uniquingKeysWith: { a, _ in a })
    }

    /// After a node ran: each file it read still has the digest its key was made with (hashed
    /// afresh, not from the memo). A file replaced while the run read it would otherwise
    /// leave an artifact built from one content under the key and lock of another.
    func confirmFiles(_ node: PlanNode) throws {
        let fresh = FileDigests()
        for (file, planned) in fileDigests(node) {
            let now = fresh.digest(resolve(file))
            guard now == planned else {
                throw ExecutionError.changedWhileRead(file, planned: planned, now: now)
            }
        }
    }

    /// SHA-256 over what determines the node's output: kind and version, canonical
    /// parameters, the user's files, and the digests of the exact input artifacts it reads.
    func executionKey(_ node: PlanNode, _ inputs: [(PlanInput, Artifact)]) -> String {
        var text = "tailor-exec/1\n\(node.kind.rawValue)@\(node.kind.version)\n\(node.params.canonicalJSON)"
        for file in node.files { text += "\nfile \(digests.digest(resolve(file)))" }
        for (input, artifact) in inputs { text += "\nin \(input.port ?? "-") \(artifact.digest(port: input.port))" }
        return String(Digest.of(text: text).dropFirst("sha256:".count))
    }
}
