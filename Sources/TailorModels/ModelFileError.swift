import Foundation
import TailorDiagnostics

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

    /// The JSON object in `path`, nil when there is no such file (the caller knows what that
    /// means); a file that cannot be read or is not a JSON object is an error.
    static func jsonObject(_ path: String) throws -> [String: Any]? {
        if FileProbe.kind(path) == .missing { return nil }
        let data = try reading(path) { try FileProbe.read(path) }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelFileError(path, "is not a JSON object")
        }
        return object
    }

    /// Reads a model's chat template, a template it cannot read becoming an error of the model's file.
    static func template<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as JinjaError {
            throw ModelFileError(path, "\(error)")
        }
    }

    /// Runs a file read, turning a path that cannot be read (missing, a FIFO, a loop of
    /// links) into a `ModelFileError` with the same plain words.
    static func reading<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as FileProbe.Failure {
            throw ModelFileError(path, failure.problem)
        }
    }
}
