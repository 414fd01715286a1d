import Foundation
import TailorDiagnostics
@testable import TailorEngine
@testable import TailorExecutor
import TailorPlan
import TailorRuntime
import XCTest

/// dpo.reference and train.dpo through the engine: the reference's log-probabilities as their
/// own cached node, full and LoRA policies trained against them, and TRL's metrics in the log.
final class DPOTests: FolderTestCase {
    /// The chosen answer is always "good", the rejected "bad"; held-out prompts are new.
    func writePairs() throws {
        func pairs(_ range: Range<Int>) -> String {
            range.map { #"{"prompt": "q\#($0) ", "chosen": "good", "rejected": "bad"}"# }.joined(separator: "\n") + "\n"
        }
        try pairs(0..<40).write(toFile: dir + "/train.jsonl", atomically: true, encoding: .utf8)
        try pairs(100..<112).write(toFile: dir + "/test.jsonl", atomically: true, encoding: .utf8)
    }

    static let spec = """
        tailor: 1
        name: dpo
        seed: 4
        data:
          train: { file: train.jsonl, format: preference }
          test:  { file: test.jsonl, format: preference }
        tokenizers:
          bytes: { bytes: true }
        models:
          base:
            arch: gpt2
            size: { layers: 1, width: 32, heads: 2, context: 16 }
            tokenizer: bytes
          aligned:
            from: base
            dpo: { beta: 0.5 }
            train: { data: train, steps: 20, batch: 8, lr: 3e-3, eval: { data: test, every: 10 } }
        """

    func plan(_ text: String) throws -> Plan {
        try text.write(toFile: dir + "/dpo.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        return try XCTUnwrap(Compiler().plan(file: dir + "/dpo.yaml", diagnostics: &diagnostics), "\(diagnostics.items)")
    }

    func run(_ text: String) throws -> [Executor.Outcome] {
        let plan = try plan(text)
        XCTAssertTrue(Executor.notExecutable(plan.nodes).isEmpty)
        return try Executor(plan: plan, store: try ArtifactStore(root: dir + "/.tailor")).run(plan.nodes)
    }

    func json(_ artifact: Artifact, _ file: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: artifact.path(file)))) as! [String: Any]
    }

    func outcome(_ outcomes: [Executor.Outcome], _ id: String) throws -> Executor.Outcome {
        try XCTUnwrap(outcomes.first { $0.node.id == id }, "no node \(id)")
    }

    func testDPOLearnsThePreferenceAndLogsTRLsMetricsOverTheHeldOutSet() throws {
        try writePairs()
        let outcomes = try run(Self.spec)
        let reference = try outcome(outcomes, "model.aligned.reference").artifact
        let scores = try Safetensors.read(path: reference.path("reference.safetensors")).tensors
        XCTAssertEqual(scores["data.chosen"]?.shape, [40])
        XCTAssertEqual(scores["held_out.rejected"]?.shape, [12])
        XCTAssertTrue(scores.values.allSatisfy { $0.scalars.allSatisfy { $0 < 0 && $0.isFinite } }, "log-probabilities of whole answers")
        let log = try json(try outcome(outcomes, "model.aligned").artifact, "training.json")
        let evals = try XCTUnwrap(log["eval"] as? [[String: Any]])
        XCTAssertEqual(evals.map { $0["step"] as? Int }, [10, 20])
        let heldOut = try XCTUnwrap(log["held_out"] as? [String: Any])
        XCTAssertEqual(heldOut["pairs"] as? Int, 12)
        XCTAssertEqual(heldOut["rewards/accuracies"] as? Double, 1, "\(heldOut)")
        let (chosen, rejected) = (heldOut["rewards/chosen"] as! Double, heldOut["rewards/rejected"] as! Double)
        XCTAssertEqual(heldOut["rewards/margins"] as! Double, chosen - rejected, accuracy: 1e-9)
        XCTAssertLessThan(heldOut["loss"] as! Double, 0.5, "below log 2: the policy prefers the chosen answers")
        // The last eval is the end of training: its metrics are the final ones.
        XCTAssertEqual(evals.last?["rewards/accuracies"] as? Double, 1)
        XCTAssertEqual(evals.last?["rewards/margins"] as! Double, heldOut["rewards/margins"] as! Double, accuracy: 1e-9)
    }

    /// A sweep over β trains two policies against one reference node: the reference's
    /// log-probabilities are computed once, and changing β later reruns training only.
    func testAnotherBetaReusesTheReferenceScores() throws {
        try writePairs()
        let first = try run(Self.spec)
        XCTAssertEqual(try outcome(first, "model.aligned.reference").status, .ran)
        let swept = try run(Self.spec + "\nsweep:\n  models.aligned.dpo.beta: [0.5, 0.1]\n")
        let references = swept.filter { $0.node.kind == .dpoReference }
        XCTAssertEqual(references.count, 1, "one reference node for both β: \(references.map(\.node.id))")
        XCTAssertEqual(references.first?.status, .cached)
        let policies = swept.filter { $0.node.kind == .trainDPO }
        XCTAssertEqual(policies.map(\.status).sorted { "\($0)" < "\($1)" }, [.cached, .ran].sorted { "\($0)" < "\($1)" })
    }

    /// With `lora`, only adapters train and the saved base weights are the base's own bytes;
    /// the reference is the base itself (no second model).
    func testDPOWithLoRATrainsAdaptersOnly() throws {
        try writePairs()
        let spec = Self.spec.replacingOccurrences(of: "dpo: { beta: 0.5 }", with: "dpo: { beta: 0.5, lora: { rank: 4, targets: [all] } }")
            .replacingOccurrences(of: "lr: 3e-3", with: "lr: 1e-2")
        let outcomes = try run(spec)
        let base = try outcome(outcomes, "model.base").artifact, aligned = try outcome(outcomes, "model.aligned").artifact
        XCTAssertEqual(base.files["model.safetensors"], aligned.files["model.safetensors"], "the frozen base is saved as it was")
        XCTAssertFalse(aligned.files.keys.filter { $0.contains("adapter") }.isEmpty, "\(aligned.files.keys)")
        let log = try json(aligned, "training.json")
        XCTAssertLessThan(log["trainable_parameters"] as! Int, 10_000)
        XCTAssertEqual((log["held_out"] as? [String: Any])?["rewards/accuracies"] as? Double, 1, "\(log)")
        XCTAssertEqual(try outcome(outcomes, "model.aligned.reference").node.inputs.first?.node, "model.base")
    }

    /// The same spec and seed give the same reference scores and the same policy, bit for bit,
    /// with one thread or two.
    func testDPOIsBitIdenticalAcrossThreadCounts() throws {
        try writePairs()
        defer { Runtime.setThreads(ProcessInfo.processInfo.activeProcessorCount) }
        var digests: [[String]] = []
        for threads in [1, 2] {
            Runtime.setThreads(threads)
            let plan = try plan(Self.spec)
            let outcomes = try Executor(plan: plan, store: try ArtifactStore(root: dir + "/cache-\(threads)")).run(plan.nodes)
            XCTAssertTrue(outcomes.allSatisfy { $0.status == .ran })
            digests.append(try ["model.aligned.reference", "model.aligned"].map { try outcome(outcomes, $0).artifact.digest })
        }
        XCTAssertEqual(digests[0], digests[1])
    }

    /// IPO's loss starts at (1/(2β))² with the policy equal to its reference, and falls.
    func testIPOStartsAtItsTargetAndFalls() throws {
        try writePairs()
        let outcomes = try run(Self.spec.replacingOccurrences(of: "dpo: { beta: 0.5 }", with: "dpo: { beta: 0.5, loss: ipo }"))
        let log = try json(try outcome(outcomes, "model.aligned").artifact, "training.json")
        let losses = try XCTUnwrap(log["loss"] as? [Double])
        XCTAssertEqual(losses[0], 1, accuracy: 1e-3, "(1 / (2 × 0.5))² = 1 before the first update")
        XCTAssertLessThan(losses.last!, 0.5)
    }

    /// Label smoothing belongs to the sigmoid loss: with IPO the checker refuses it at its line.
    func testLabelSmoothingWithIPOIsRefused() throws {
        try writePairs()
        let spec = Self.spec.replacingOccurrences(of: "dpo: { beta: 0.5 }", with: "dpo: { beta: 0.5, loss: ipo, label_smoothing: 0.1 }")
        try spec.write(toFile: dir + "/dpo.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        XCTAssertNil(Compiler().plan(file: dir + "/dpo.yaml", diagnostics: &diagnostics))
        XCTAssertEqual(diagnostics.items.count, 1, "\(diagnostics.items)")
        XCTAssertTrue(diagnostics.items.contains { "\($0.message)".contains("IPO has no label smoothing") && $0.location?.line == 16 },
                      "\(diagnostics.items)")
    }

    /// Pairs too long for the context are counted in one error naming the first.
    func testPairsLongerThanTheContextAreCounted() throws {
        try writePairs()
        let long = (0..<3).map { _ in #"{"prompt": "a long prompt that will not fit", "chosen": "good", "rejected": "bad"}"# }
        try (long.joined(separator: "\n") + "\n").write(toFile: dir + "/train.jsonl", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try run(Self.spec)) { error in
            XCTAssertTrue("\(error)".contains("3 of the 3 preference pairs in the training data are longer than the model's context of 16 tokens"),
                          "\(error)")
        }
    }
}
