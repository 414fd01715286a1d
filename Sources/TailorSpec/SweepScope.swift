/// Which entries of a spec a sweep can change. Entries it cannot change are the
/// same in every variant, so they are checked and planned once and shared; this
/// keeps a sweep of thousands of variants close to the cost of its changed parts.
public struct SweepScope: Sendable {
    /// The swept key paths, e.g. `["models", "tuned", "lora", "rank"]`.
    public var paths: [[String]]

    public init(paths: [[String]]) { self.paths = paths }

    /// Whether entry `name` of `section` (e.g. `models`, `tuned`) may differ between
    /// variants. Sweeping `vars` or `seed` may change anything.
    public func mayChange(section: String, name: String) -> Bool {
        paths.contains { p in
            guard let first = p.first else { return true }
            if first == "vars" || first == "seed" { return true }
            return first == section && (p.count < 2 || p[1] == name)
        }
    }
}
