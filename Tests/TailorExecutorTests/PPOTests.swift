import Foundation
import TailorDiagnostics
@testable import TailorEngine
@testable import TailorExecutor
import TailorPlan
import TailorRuntime
import XCTest

/// train.ppo through the engine: a reward model trained on pairs, then a policy optimised
/// against it, full and with LoRA, deterministic across thread counts.
final class PPORunTests: FolderTestCase {
    func writePairs() throws {
        let pairs = (0..<40).map { #"{"prompt": "q\#($0) ", "chosen": "good", "rejected": "bad"}"# }.joined(separator: "\n") + "\n"
        try pairs.write(toFile: dir + "/train.jsonl", atomically: true, encoding: .utf8)
        // Pretraining on both answers makes the policy say "good" or "bad" after a prompt.
        let text = (0..<40).flatMap { i in ["good", "bad"].map { #"{"text": "q\#(i) \#($0)"}"# } }.joined(separator: "\n") + "\n"
        try text.write(toFile: dir + "/text.jsonl", atomically: true, encoding: .utf8)
    }

    static let spec = """
        tailor: 1
        name: ppo
        seed: 4
        data:
          train: { file: train.jsonl, format: preference }
          text: { file: text.jsonl, format: text }
        tokenizers:
          bytes: { bytes: true }
        models:
          base:
            arch: gpt2
            size: { layers: 1, width: 32, heads: 2, context: 16 }
            tokenizer: bytes
            pretrain: { data: text, steps: 150, batch: 16, lr: 3e-3 }
          judge:
            from: base
            reward: { pooling: last }
            train: { data: train, steps: 30, batch: 8, lr: 3e-3 }
          policy:
            from: base
            ppo: { reward: judge, max_tokens: 5, epochs: 4, kl: 0.02 }
            train: { data: train, steps: 80, batch: 16, lr: 1e-3 }
        """

    func run(_ text: String, cache: String = ".tailor") throws -> [Executor.Outcome] {
        try text.write(toFile: dir + "/ppo.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: dir + "/ppo.yaml", diagnostics: &diagnostics), "\(diagnostics.items)")
        XCTAssertTrue(Executor.notExecutable(plan.nodes).isEmpty)
        return try Executor(plan: plan, store: try ArtifactStore(root: dir + "/" + cache)).run(plan.nodes)
    }

    func rollouts(_ outcomes: [Executor.Outcome]) throws -> (log: [String: Any], batches: [[String: Double]]) {
        let artifact = try XCTUnwrap(outcomes.first { $0.node.id == "model.policy" }?.artifact)
        let log = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: artifact.path("training.json")))) as! [String: Any]
        return (log, try XCTUnwrap(log["rollouts"] as? [[String: Double]]))
    }

    func mean(_ v: ArraySlice<Double>) -> Double { v.reduce(0, +) / Double(v.count) }

    func testPPORaisesTheRewardModelsScoreWithANonNegativeKL() throws {
        try writePairs()
        let (log, batches) = try rollouts(try run(Self.spec))
        XCTAssertEqual(batches.count, 20, "a batch of rollouts every 4 of the 80 steps")
        let scores = batches.map { $0["objective/scores"]! }
        // The pretrained policy says "good" or "bad" at first; PPO moves it to "good", whose
        // score is the ceiling every batch of only "good" answers reaches.
        XCTAssertGreaterThan(mean(scores.suffix(5)), scores[0] + 0.4, "\(scores)")
        XCTAssertGreaterThan(mean(scores.suffix(5)), scores.max()! - 0.2, "near the ceiling at the end: \(scores)")
        XCTAssertTrue(batches.allSatisfy { $0["objective/kl"]! >= 0 }, "k3 is never negative")
        XCTAssertEqual(batches[0]["objective/kl"]!, 0, accuracy: 1e-4, "the first rollouts are the reference's own")
        XCTAssertGreaterThan(batches.last!["objective/kl"]!, 0)
        for key in ["objective/entropy", "policy/clipfrac", "value/clipfrac", "loss/value", "response_length"] {
            XCTAssertNotNil(batches.last?[key], key)
        }
        XCTAssertEqual(batches.map { $0["objective/kl_coef"]! }, Array(repeating: 0.02, count: 20), "a fixed coefficient")
        XCTAssertGreaterThan(log["response_tokens"] as! Int, 0)
    }

    /// With `target_kl`, the coefficient moves; with LoRA, the base weights are saved unchanged.
    func testAdaptiveKLAndLoRA() throws {
        try writePairs()
        let spec = Self.spec.replacingOccurrences(of: "kl: 0.02 }", with: "kl: 0.02, target_kl: 0.5, horizon: 100, lora: { rank: 4, targets: [all] } }")
            .replacingOccurrences(of: "steps: 80, batch: 16, lr: 1e-3", with: "steps: 20, batch: 16, lr: 1e-2")
        let outcomes = try run(spec)
        let (_, batches) = try rollouts(outcomes)
        let coefficients = batches.map { $0["objective/kl_coef"]! }
        XCTAssertEqual(coefficients.first, 0.02)
        XCTAssertNotEqual(coefficients.last, 0.02, "\(coefficients)")
        let base = try XCTUnwrap(outcomes.first { $0.node.id == "model.base" }?.artifact)
        let policy = try XCTUnwrap(outcomes.first { $0.node.id == "model.policy" }?.artifact)
        XCTAssertEqual(base.files["model.safetensors"], policy.files["model.safetensors"])
        XCTAssertNotNil(policy.files["value_head.safetensors"])
    }

    func testPPOIsBitIdenticalAcrossThreadCounts() throws {
        try writePairs()
        defer { Runtime.setThreads(ProcessInfo.processInfo.activeProcessorCount) }
        var digests: [String] = []
        for threads in [1, 2] {
            Runtime.setThreads(threads)
            let outcomes = try run(Self.spec.replacingOccurrences(of: "steps: 80", with: "steps: 8"), cache: "cache-\(threads)")
            digests.append(try XCTUnwrap(outcomes.first { $0.node.id == "model.policy" }?.artifact.digest))
        }
        XCTAssertEqual(digests[0], digests[1])
    }

    /// `train.eval` and `horizon` without `target_kl` are refused at their lines.
    func testSettingsPPOWouldIgnoreAreRefused() throws {
        try writePairs()
        let spec = Self.spec.replacingOccurrences(of: "kl: 0.02 }", with: "kl: 0.02, horizon: 50 }")
            .replacingOccurrences(of: "steps: 80, batch: 16, lr: 1e-3 }", with: "steps: 80, batch: 16, lr: 1e-3, packing: true, eval: { data: train } }")
        try spec.write(toFile: dir + "/ppo.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        XCTAssertNil(Compiler().plan(file: dir + "/ppo.yaml", diagnostics: &diagnostics))
        let messages = diagnostics.items.map { "\($0.message) @\($0.location?.line ?? 0)" }
        XCTAssertEqual(messages.count, 3, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("'horizon' is for the adaptive KL controller") && $0.hasSuffix("@21") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("'eval' does not apply to a 'ppo' model") && $0.hasSuffix("@22") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("'packing' does not apply to a 'ppo' model") && $0.hasSuffix("@22") }, "\(messages)")
    }
}
