import Foundation
import TailorPlan
import TailorRuntime

/// Runs nodes as Slurm batch jobs: each node that must run is written as a job description
/// into the cache's `slurm/` folder, submitted with `sbatch` to run `tailor exec-node` against
/// the same cache, and followed with `scontrol` until it ends. The executor submits a node only
/// when its inputs are in the cache (its own polling, not `--dependency=afterok`): a job's
/// description names its inputs' artifacts, which exist only once they are built, and a node
/// found in the cache is never submitted at all.
public final class SlurmBackend: RemoteBuilder, @unchecked Sendable {  // `submitted` is locked
    public struct Options: Sendable {
        public var partition: String?
        public var account: String?
        /// The most seconds between looks at a job's state: the first look is after 0.1 s, and
        /// each wait is 1.5 times the last up to this, so short jobs are seen to end soon and
        /// long ones cost the controller little.
        public var poll: Double
        /// The `tailor` binary the jobs run (this one, by its absolute path).
        public var tailor: String
        /// The folder jobs start in (where the spec's relative paths resolve).
        public var directory: String
        /// `sbatch` options for the nodes whose ids match a pattern (a node id, or a shell glob
        /// such as `model.*`), in order: each replaces the option of the same name the estimates
        /// gave (`--mem=8G` for `--mem=…`) or is added.
        public var overrides: [(pattern: String, option: String)]

        public init(partition: String? = nil, account: String? = nil, poll: Double = 2, tailor: String, directory: String,
                    overrides: [(pattern: String, option: String)] = []) {
            (self.partition, self.account, self.poll, self.tailor, self.directory) = (partition, account, poll, tailor, directory)
            self.overrides = overrides
        }
    }

    let options: Options
    let lock = NSLock()
    var submitted: Set<String> = []

    public init(_ options: Options) { self.options = options }

    /// Whether `pattern` names the node `id`: the id itself, or a glob that matches it.
    public static func matches(_ pattern: String, _ id: String) -> Bool { pattern == id || fnmatch(pattern, id, 0) == 0 }

    /// The override patterns that match none of `ids` (a misspelt node would otherwise be ignored).
    public func unmatched(_ ids: [String]) -> [String] {
        options.overrides.map(\.pattern).filter { pattern in !ids.contains { Self.matches(pattern, $0) } }
    }

    /// The run's and the estimates' options for a node, with the overrides that match it applied.
    func options(for node: PlanNode, machine: MachineProfile) -> [String] {
        var flags = (options.partition.map { ["--partition=\($0)"] } ?? []) + (options.account.map { ["--account=\($0)"] } ?? [])
        flags += Self.resources(node, machine: machine, cores: ProcessInfo.processInfo.activeProcessorCount)
        for (pattern, option) in options.overrides where Self.matches(pattern, node.id) {
            let name = option.split(separator: "=", maxSplits: 1).first.map(String.init) ?? option
            flags.removeAll { $0 == name || $0.hasPrefix(name + "=") }
            flags.append(option)
        }
        return flags
    }

    /// What a node asks Slurm for, from the plan's estimates with a margin (an estimate is a
    /// model, not a measurement: docs/performance.md compares them with runs): memory 1.5× the
    /// estimated peak plus 512 MiB for the process itself (2 GiB when there is no estimate);
    /// time 3× the estimate plus 5 minutes (none asked when there is no estimate: the
    /// partition's limit); every core of the machine for nodes that compute with the tensor
    /// runtime, one for the rest.
    public static func resources(_ node: PlanNode, machine: MachineProfile, cores: Int) -> [String] {
        let mebibyte = 1_048_576.0
        let memory = node.estimate.peakBytes.map { Int((($0 * 1.5) / mebibyte).rounded(.up)) + 512 } ?? 2048
        var flags = ["--mem=\(memory)M", "--cpus-per-task=\(Executor.isHeavy(node.kind) ? cores : 1)"]
        if let seconds = node.estimate.seconds(on: machine) {
            flags.append("--time=\(Int(((seconds * 3 + 300) / 60).rounded(.up)))")
        }
        return flags
    }

    public func build(_ job: Job, node: PlanNode, machine: MachineProfile, store: ArtifactStore, events: @escaping (Executor.Event) -> Void) throws {
        // Jobs start elsewhere: every path they are given is absolute.
        let root = URL(fileURLWithPath: store.root, relativeTo: URL(fileURLWithPath: options.directory, isDirectory: true)).standardizedFileURL.path
        let folder = root + "/slurm"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let name = node.id.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? String($0) : "_" }.joined() + "-" + job.key.prefix(12)
        let (description, log) = (folder + "/" + name + ".job.json", folder + "/" + name + ".log")
        try AtomicFile.write(Data(job.json.utf8), to: description)
        var arguments = ["--parsable", "--job-name=tailor:\(node.id)", "--output=\(log)", "--chdir=\(options.directory)"]
        arguments += options(for: node, machine: machine)
        // The job's runtime uses the cores Slurm gave it, not every core of the host.
        arguments.append("--wrap=TAILOR_THREADS=${SLURM_CPUS_PER_TASK:-1} exec \(Self.quoted(options.tailor)) exec-node \(Self.quoted(description)) --cache \(Self.quoted(root)) --quiet")
        // The submission as a command line beside the job, to read or to submit again by hand.
        try AtomicFile.write(Data((["sbatch"] + arguments).map(Self.quoted).joined(separator: " ").appending("\n").utf8), to: folder + "/" + name + ".sbatch")
        let submission = try Self.command("sbatch", arguments)
        guard submission.status == 0, let id = submission.output.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }), !id.isEmpty else {
            throw ExecutionError.inNode(node, ExecutionError("sbatch refused its job: \(submission.output.trimmingCharacters(in: .whitespacesAndNewlines))"))
        }
        lock.withLock { _ = submitted.insert(id) }
        defer { lock.withLock { _ = submitted.remove(id) } }
        events(.progress(node, Executor.Progress(text: "Slurm job \(id) submitted")))
        var last = "", wait = 0.1
        while true {
            let state = try Self.state(of: id)
            switch state {
            case nil, "COMPLETED": return  // a job no longer known has ended; the cache says how
            case "PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING", "SIGNALING", "STAGE_OUT":
                if state != last {
                    last = state!
                    events(.progress(node, Executor.Progress(text: "Slurm job \(id) \(state!.lowercased())")))
                }
                Thread.sleep(forTimeInterval: wait)
                wait = Swift.min(options.poll, wait * 1.5)
            default:
                throw ExecutionError.inNode(node, ExecutionError("Slurm job \(id) ended \(state!)" + Self.tail(log)))
            }
        }
    }

    /// Whether `sbatch` runs here (the host can submit jobs).
    public static var available: Bool { (try? command("sbatch", ["--version"]))?.status == 0 }

    /// Cancels every job this run submitted that has not ended (when the run is interrupted).
    public func cancelAll() {
        let ids = lock.withLock { Array(submitted) }
        if !ids.isEmpty { _ = try? Self.command("scancel", ids) }
    }

    /// The job's state as `scontrol` reports it, or nil once Slurm no longer knows the job.
    static func state(of id: String) throws -> String? {
        let shown = try command("scontrol", ["show", "job", "--oneliner", id])
        guard shown.status == 0 else { return nil }
        guard let field = shown.output.split(separator: " ").first(where: { $0.hasPrefix("JobState=") }) else { return nil }
        return String(field.dropFirst("JobState=".count))
    }

    /// The last 20 lines of a job's log, for a failure's message.
    static func tail(_ log: String) -> String {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8), !text.isEmpty else { return " (its log \(log) is empty)" }
        return "; the end of its log (\(log)):\n" + text.split(separator: "\n", omittingEmptySubsequences: false).suffix(20).joined(separator: "\n")
    }

    /// A word for the job's shell: single-quoted, any quote inside closed and reopened.
    static func quoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Runs a Slurm command (found on PATH) and returns its exit status and output (both streams).
    static func command(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [name] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            throw ExecutionError("cannot run \(name): \(error.localizedDescription)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
