/// Bounds that keep hostile or broken input from exhausting time or memory.
public struct YAMLLimits: Sendable {
    /// Largest file accepted, in bytes.
    public var maxBytes: Int
    /// Deepest nesting of lists and mappings.
    public var maxDepth: Int
    /// Most nodes a document may hold once aliases are expanded ("billion laughs" guard).
    public var maxExpandedNodes: Int

    public init(maxBytes: Int = 16 << 20, maxDepth: Int = 64, maxExpandedNodes: Int = 1_000_000) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxExpandedNodes = maxExpandedNodes
    }

    public static let `default` = YAMLLimits()
}
