import Foundation
import XCTest

/// The `tailor` binary's exit codes and streams, run as a user would.
final class CommandLineTests: XCTestCase {
    /// The built binary in the build folder of the tests (`.build/<triple>/debug/tailor`);
    /// the test target depends on `tailor`, so `swift test` always builds it.
    var binary: URL {
        let bundle = Bundle(for: Self.self).bundleURL
        let candidates = [bundle.appendingPathComponent("tailor"), bundle.deletingLastPathComponent().appendingPathComponent("tailor")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    func run(_ args: [String]) throws -> (code: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.currentDirectoryURL = Golden.root
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testExitCodes() throws {
        let ok = try run(["check", "specs/quickstart.yaml"])
        XCTAssertEqual(ok.code, 0)
        XCTAssertEqual(ok.out, "specs/quickstart.yaml: ok\n")

        let bad = try run(["check", "specs/invalid/unknown-key.yaml"])
        XCTAssertEqual(bad.code, 1)
        XCTAssertTrue(bad.err.hasPrefix("specs/invalid/unknown-key.yaml:5:31: error: unknown key 'cout' in dataset\n"))

        let usage = try run(["plan", "--no-such-flag", "specs/quickstart.yaml"])
        XCTAssertEqual(usage.code, 2)
        let missing = try run(["plan", "specs/nowhere.yaml"])
        XCTAssertEqual(missing.code, 1)
        XCTAssertTrue(missing.err.contains("cannot read 'specs/nowhere.yaml'"))
    }

    func testPlanJSONAndGraph() throws {
        let plan = try run(["plan", "specs/quickstart.yaml", "--json"])
        XCTAssertEqual(plan.code, 0)
        let json = try JSONSerialization.jsonObject(with: Data(plan.out.utf8)) as? [String: Any]
        XCTAssertEqual((json?["nodes"] as? [Any])?.count, 8)
        let dot = try run(["graph", "specs/quickstart.yaml", "--format", "dot"])
        XCTAssertTrue(dot.out.contains("\"model.base.init\" -> \"model.base\";"))
        let diag = try run(["check", "specs/invalid/cycle.yaml", "--diagnostics-format", "json"])
        XCTAssertEqual(diag.code, 1)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(diag.err.utf8)))
    }
}
