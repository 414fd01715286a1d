import TailorDiagnostics
import TailorSpec
import TailorYAML

/// The front door of the library: spec file → composed variants → checked specs →
/// one merged plan. Collects every diagnostic; never prints.
public struct Compiler {
    public var sources = SourceManager()
    public var machine: MachineProfile
    public var limits: YAMLLimits
    /// The user's file digests; give one with a memo to skip rehashing unchanged files.
    public var digests = FileDigests()
    /// How loaded models' headers are read (for checks and estimates); nil: not read.
    public var headers: ModelHeaderReader? = ModelHeaders.read

    public init(machine: MachineProfile = .reference, limits: YAMLLimits = .default) {
        self.machine = machine
        self.limits = limits
    }

    /// Parses, composes and checks a spec; returns one checked spec per sweep variant.
    public func check(file: String, sets: [String] = [], diagnostics: inout DiagnosticBag) -> [CheckedSpec] {
        guard let loaded = SpecLoader.load(file: file, sets: sets, sources: sources, limits: limits, diagnostics: &diagnostics)
        else { return [] }
        var checked: [CheckedSpec] = []
        checked.reserveCapacity(loaded.variants.count)
        for variant in loaded.variants {
            if let spec = SpecChecker.check(loaded, variant: variant, sharing: checked.first, headers: headers, diagnostics: &diagnostics) {
                checked.append(spec)
            }
        }
        return diagnostics.hasErrors ? [] : checked
    }

    /// Checks and plans a spec. Returns nil when the spec has errors.
    public func plan(file: String, sets: [String] = [], diagnostics: inout DiagnosticBag) -> Plan? {
        let specs = check(file: file, sets: sets, diagnostics: &diagnostics)
        guard let first = specs.first else { return nil }
        let shared = specs.count > 1 ? PlanCache() : nil
        let sampler = DataSampler()
        let perVariant = specs.map { spec -> (assignments: [(name: String, value: String)], nodes: [PlanNode]) in
            var planner = Planner(spec: spec, digests: digests, shared: shared, sampler: sampler)
            return (spec.assignments, planner.run())
        }
        let nodes = perVariant.count == 1 ? perVariant[0].nodes : SweepMerge.merge(perVariant)
        var plan = Plan(
            name: first.name, file: file, variants: specs.compactMap(\.variant), nodes: nodes, machine: machine,
            warnings: [])
        plan.description = first.value["description"]?.string
        for node in plan.nodes {
            if let peak = node.estimate.peakBytes, peak > machine.memoryBytes {
                let d = Diagnostic(
                    .warning, .memory(node.id, Format.bytes(peak), Format.bytes(machine.memoryBytes)), at: node.location,
                    notes: [Note("lower 'batch' or 'sequence', or use LoRA")])
                plan.warnings.append(d)
                diagnostics.append(d)
            }
        }
        return plan
    }
}

extension Message {
    static func memory(_ node: String, _ need: String, _ have: String) -> Message {
        Message("'\(node)' needs about \(need) of memory, more than this machine's \(have)")
    }
}
