import Foundation
import XCTest

/// Snapshot files under `golden/`. A mismatch fails with a line diff; with
/// `UPDATE_GOLDEN=1` the file is rewritten and the test still fails, so every new
/// baseline is a reviewed diff.
enum Golden {
    /// The package root, found from this file's path so tests run from any folder.
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func assertMatches(_ actual: String, file name: String, line: UInt = #line) {
        let url = root.appendingPathComponent("golden").appendingPathComponent(name)
        let expected = try? String(contentsOf: url, encoding: .utf8)
        if expected == actual { return }
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? actual.write(to: url, atomically: true, encoding: .utf8)
            XCTFail("rewrote golden/\(name); review the diff and run the tests again", line: line)
            return
        }
        guard let expected else {
            XCTFail("golden/\(name) is missing; run UPDATE_GOLDEN=1 swift test to record it", line: line)
            return
        }
        XCTFail("golden/\(name) differs:\n" + diff(expected, actual), line: line)
    }

    /// A minimal line diff: the first differing lines with context.
    static func diff(_ a: String, _ b: String) -> String {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false)
        let y = b.split(separator: "\n", omittingEmptySubsequences: false)
        var out = ""
        var shown = 0
        for i in 0..<max(x.count, y.count) where shown < 20 {
            let l = i < x.count ? String(x[i]) : nil
            let r = i < y.count ? String(y[i]) : nil
            if l != r {
                if let l { out += "  \(i + 1) - \(l)\n" }
                if let r { out += "  \(i + 1) + \(r)\n" }
                shown += 1
            }
        }
        return out
    }

    /// Spec files of a folder, relative to the root, sorted.
    static func specs(in folder: String) -> [String] {
        let dir = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { "\(folder)/\($0)" }
    }
}
