/// A model or tokenizer file that cannot be used, with the file and what is wrong in plain
/// words (truncated, malformed, an unsupported type), never a crash.
public struct ModelFileError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var problem: String

    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}
