/// One diagnostic text. Modules add their own messages as static members in a
/// `Messages.swift` catalogue, so every wording lives in one place per module.
/// Messages are lowercase, without a final full stop, and quote names with '…'.
public struct Message: Hashable, Sendable, CustomStringConvertible {
    public let text: String
    public init(_ text: String) { self.text = text }
    public var description: String { text }
}
