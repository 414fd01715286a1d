/// Why training cannot go on, in plain words (the executor adds which node and where).
public struct TrainingError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
