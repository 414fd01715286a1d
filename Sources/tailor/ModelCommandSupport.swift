import ArgumentParser
import Foundation
import TailorModels

/// Runs `body`; a model of the wrong kind for the command is a usage error (exit 2).
func usage<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ModelFileError {
        throw ValidationError(error.description)
    }
}

/// Opens MODEL or exits 1 with the file's problem in plain words.
func openModel(_ path: String) throws -> LoadedModel {
    do {
        return try LoadedModel.open(path)
    } catch let error as ModelFileError {
        throw fail(error)
    }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
}

/// Prints a problem with the user's files or run as `error: …` and gives its exit code (1).
func fail(_ error: some CustomStringConvertible) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
    return ExitCode(1)
}
