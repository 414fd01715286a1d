import Foundation

/// What estimates assume about the machine. Plans print it, so a time estimate
/// always says which rate it came from.
public struct MachineProfile: Sendable, Codable {
    /// Memory available to a run, in bytes.
    public var memoryBytes: Double
    /// Sustained float32 training throughput, in FLOP/s.
    public var flops: Double
    /// Bytes per second at which weights stream through a product that uses each once:
    /// generation's decode steps, which read every weight for a few tokens each.
    public var bandwidth: Double

    public init(memoryBytes: Double, flops: Double, bandwidth: Double = referenceBandwidth) {
        self.memoryBytes = memoryBytes
        self.flops = flops
        self.bandwidth = bandwidth
    }

    /// Effective training rate measured on this project's reference machine (2 vCPU AMD
    /// EPYC): stock PyTorch eager trains the benchmark's config M at 1,200–2,200
    /// tokens/s there (../shared/bench/training), about 73 MFLOP per token, i.e.
    /// 90–160 GFLOP/s. We take the low end until Tailor's runtime measures its own.
    public static let referenceFLOPs = 9.0e10

    /// Weight streaming measured on this project's 2 vCPU Intel Xeon (2026-12-02): Tailor's
    /// decode steps on SmolLM2-135M at batch 16 (`tailor generate --timings`, three runs) read
    /// its 538 MB of weights 6.7–7.4 times a second, 3.6–4.0 GB/s; numpy's sum over 512 MB ran
    /// at 4.5–5.0 GB/s, and a 16-row product with SmolLM2's head at 3.0 GB/s
    /// (docs/performance.md).
    public static let referenceBandwidth = 3.7e9

    /// The reference machine: 24 GiB, the rates above. Goldens use it so that they do
    /// not depend on where the tests run.
    public static let reference = MachineProfile(memoryBytes: 24 * 1_073_741_824, flops: referenceFLOPs)

    /// This machine: its physical memory, and the rates from `TAILOR_FLOPS` (FLOP/s) and
    /// `TAILOR_BANDWIDTH` (bytes/s), or the reference's.
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> MachineProfile {
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        func rate(_ name: String) -> Double? { environment[name].flatMap(Double.init).flatMap { $0 > 0 && $0.isFinite ? $0 : nil } }
        return MachineProfile(memoryBytes: memory > 0 ? memory : reference.memoryBytes, flops: rate("TAILOR_FLOPS") ?? referenceFLOPs,
                              bandwidth: rate("TAILOR_BANDWIDTH") ?? referenceBandwidth)
    }
}
