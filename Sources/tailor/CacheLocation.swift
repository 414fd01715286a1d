import ArgumentParser
import Foundation

/// The cache a command uses: `--cache`, else `TAILOR_CACHE`, else the project's cache found
/// from `folder` (the spec's folder for `run` and `plan`, the current one for `cache`). An
/// empty path is a usage error: the cache's folders would otherwise be created at the
/// file-system root.
func cacheRoot(_ option: String?, from folder: String) throws -> String {
    if let option {
        guard !option.isEmpty else { throw ValidationError("--cache needs a folder, but the path given is empty") }
        return option
    }
    if let variable = ProcessInfo.processInfo.environment["TAILOR_CACHE"] {
        guard !variable.isEmpty else { throw ValidationError("TAILOR_CACHE is set but empty: unset it or name a folder") }
        return variable
    }
    return projectCache(from: folder)
}

/// `.tailor` in the nearest folder, from `folder` up, that holds one or is the root of a git
/// work tree; without either, `.tailor` in `folder`. So `tailor run specs/x.yaml` and `tailor
/// cache ls` in the repository's root use the same cache, and so does a run from any folder
/// inside it.
func projectCache(from folder: String) -> String {
    let fm = FileManager.default
    var current = URL(fileURLWithPath: folder).standardizedFileURL
    while true {
        if fm.fileExists(atPath: current.appendingPathComponent(".tailor").path) || fm.fileExists(atPath: current.appendingPathComponent(".git").path) {
            return relative(current.appendingPathComponent(".tailor").path)
        }
        let parent = current.deletingLastPathComponent()
        if parent.path == current.path { return (folder as NSString).appendingPathComponent(".tailor") }
        current = parent
    }
}

/// `path` relative to the current folder when it lies inside it (shorter messages), else as it is.
private func relative(_ path: String) -> String {
    let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.path
    if path == here + "/.tailor" { return ".tailor" }
    return path.hasPrefix(here + "/") ? String(path.dropFirst(here.count + 1)) : path
}
