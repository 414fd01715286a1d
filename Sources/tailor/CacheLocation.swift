import ArgumentParser
import Foundation

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
