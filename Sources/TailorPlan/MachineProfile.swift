import Foundation

/// What estimates assume about the machine. Plans print it, so a time estimate
/// always says which rate it came from.
public struct MachineProfile: Sendable, Codable {
    /// Memory available to a run, in bytes.
    public var memoryBytes: Double
    /// Sustained float32 training throughput, in FLOP/s.
    public var flops: Double

    public init(memoryBytes: Double, flops: Double) {
        self.memoryBytes = memoryBytes
        self.flops = flops
    }

    /// Effective training rate measured on this project's reference machine (2 vCPU AMD
    /// EPYC): stock PyTorch eager trains the benchmark's config M at 1,200–2,200
    /// tokens/s there (../shared/bench/training), about 73 MFLOP per token, i.e.
    /// 90–160 GFLOP/s. We take the low end until Tailor's runtime measures its own.
    public static let referenceFLOPs = 9.0e10

    /// The reference machine: 24 GiB, the rate above. Goldens use it so that they do
    /// not depend on where the tests run.
    public static let reference = MachineProfile(memoryBytes: 24 * 1_073_741_824, flops: referenceFLOPs)

    /// This machine: its physical memory, and the rate from `TAILOR_FLOPS` or the reference.
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> MachineProfile {
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        let rate = environment["TAILOR_FLOPS"].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? referenceFLOPs
        return MachineProfile(memoryBytes: memory > 0 ? memory : reference.memoryBytes, flops: rate)
    }
}
