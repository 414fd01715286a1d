import ArgumentParser
import Foundation
import TailorExecutor

/// The cache a command uses: `--cache`, else `TAILOR_CACHE`, else `fallback`. An empty path
/// is a usage error: the cache's folders would otherwise be created at the file-system root.
func cacheRoot(_ option: String?, default fallback: String) throws -> String {
    if let option {
        guard !option.isEmpty else { throw ValidationError("--cache needs a folder, but the path given is empty") }
        return option
    }
    if let variable = ProcessInfo.processInfo.environment["TAILOR_CACHE"] {
        guard !variable.isEmpty else { throw ValidationError("TAILOR_CACHE is set but empty: unset it or name a folder") }
        return variable
    }
    return fallback
}

/// Interrupting a run (Ctrl-C, SIGTERM from a scheduler) removes the artifact folders this
/// process was still writing, then exits as the signal would have (128 + its number).
/// Finished artifacts, the training checkpoints a rerun resumes from, and the cache's locks
/// (released by the kernel) are left as they are.
enum Interruption {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []

    static func cleanUp(_ store: ArtifactStore) {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                store.removeOwnStaging()
                FileHandle.standardError.write(Data("\ninterrupted: nothing half-written was kept; run again to continue\n".utf8))
                exit(128 + number)
            }
            source.resume()
            sources.append(source)
        }
    }
}
