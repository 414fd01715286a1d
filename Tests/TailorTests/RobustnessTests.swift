import Foundation
import TailorDiagnostics
import TailorPlan
import XCTest

/// Broken specs of every kind must end in a plan or in located errors: never a
/// crash, a trap or a hang. Mutates the example specs byte by byte (seeded, so a
/// failure reproduces) and runs the whole compiler on each mutant.
final class RobustnessTests: XCTestCase {
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func testMutatedSpecsNeverCrash() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-mut-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SplitMix64(state: 2026)
        let pieces: [[UInt8]] = [":", " ", "\n", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "<<: ", "${x}", "'", "\"", "#", "\t",
                                 "0", "-1", "1e400", "null", "true", "models", "from: ", "split.train", ".", "\u{FF}"]
            .map { Array($0.utf8) }
        let specs = Golden.specs(in: "specs")
        var mutants = 0
        // TAILOR_MUTANTS raises the count for a longer local hunt.
        let perSpec = ProcessInfo.processInfo.environment["TAILOR_MUTANTS"].flatMap { Int($0) } ?? 60
        for spec in specs {
            let original = try Array(Data(contentsOf: Golden.root.appendingPathComponent(spec)))
            for _ in 0..<perSpec {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let at = Int.random(in: 0...bytes.count, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: bytes.insert(contentsOf: pieces.randomElement(using: &rng)!, at: at)
                    case 1: if at < bytes.count { bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...12, using: &rng))) }
                    default: if at < bytes.count { bytes[at] = pieces.randomElement(using: &rng)!.first! }
                    }
                }
                let file = dir.appendingPathComponent("m\(mutants).yaml")
                try Data(bytes).write(to: file)
                var diagnostics = DiagnosticBag()
                let plan = Compiler().plan(file: file.path, diagnostics: &diagnostics)
                if plan == nil {
                    XCTAssertTrue(diagnostics.hasErrors, "no plan and no error for mutant of \(spec)")
                }
                for d in diagnostics.items where d.severity == .error {
                    XCTAssertNotNil(d.location, "unlocated error '\(d.message)' for mutant of \(spec)")
                }
                mutants += 1
            }
        }
        XCTAssertGreaterThan(mutants, 500)
    }

    /// The largest values the schema accepts must plan (estimates may be huge), not trap on overflow.
    func testLargestAcceptedValuesPlan() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-max-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try """
            tailor: 1
            name: huge
            seed: 9223372036854775807
            data:
              d: { generate: addition, count: 100000000 }
            tokenizers:
              t: { train: { from: d, vocab: 1000000 } }
            models:
              m:
                arch: llama
                size: { layers: 256, width: 65536, heads: 1024, kv_heads: 1, context: 1048576, mlp: 1048576 }
                tokenizer: t
                pretrain: { data: d, steps: 100000000, batch: 65536, accumulate: 4096 }
              l:
                from: m
                lora: { rank: 4096, targets: [all] }
                train: { data: d, steps: 100000000, batch: 65536, accumulate: 4096 }
            evals:
              e: { models: [m, l], data: d, metrics: [loss] }
            """.write(to: file, atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        let plan = Compiler().plan(file: file.path, diagnostics: &diagnostics)
        XCTAssertNotNil(plan)
        XCTAssertTrue(diagnostics.items.contains { $0.severity == .warning }, "a memory warning is expected")
    }

    /// Key paths of every length, in `--set` and in `sweep:`: up to the nesting limit they
    /// set (or fail on what they address), past it they get one located error, never a
    /// crash of the stack, whatever their length.
    func testDeepKeyPathsGetAnError() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-deep-\(UUID().uuidString).yaml")
        let sweepFile = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-deep-sweep-\(UUID().uuidString).yaml")
        defer {
            try? FileManager.default.removeItem(at: file)
            try? FileManager.default.removeItem(at: sweepFile)
        }
        let spec = """
            tailor: 1
            name: deep
            data:
              d: { generate: addition, count: 10 }
            """
        try spec.write(to: file, atomically: true, encoding: .utf8)
        for parts in [1, 2, 63, 64, 65, 66, 1_000, 10_000, 200_000] {
            let path = (["vars"] + (1..<parts).map { "k\($0 % 10)" }).joined(separator: ".")
            var d = DiagnosticBag()
            _ = Compiler().plan(file: file.path, sets: [path + "=1"], diagnostics: &d)
            if parts > 64 {
                XCTAssertTrue(d.items.contains { $0.message.contains("the key path has \(parts) parts") }, "\(parts): \(d.items.map(\.message))")
            } else {
                XCTAssertFalse(d.items.contains { $0.message.contains("key path has") }, "\(parts) parts fit")
            }
            // An explicit key: libyaml caps plain keys at 1,024 characters.
            try (spec + "\nsweep:\n  ? \(path)\n  : [1, 2]\n").write(to: sweepFile, atomically: true, encoding: .utf8)
            var s = DiagnosticBag()
            _ = Compiler().plan(file: sweepFile.path, diagnostics: &s)
            XCTAssertEqual(s.items.contains { $0.message.contains("the key path has") }, parts > 64, "sweep with \(parts) parts")
            for item in s.items where item.severity == .error { XCTAssertNotNil(item.location) }
        }
    }
}
