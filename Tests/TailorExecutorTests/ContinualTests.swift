import Foundation
import TailorDiagnostics
@testable import TailorEngine
@testable import TailorExecutor
import TailorModels
import TailorPlan
import TailorRuntime
import TailorTraining
import XCTest

/// train.continual and eval.continual through the engine: stages trained in order, the first
/// shared, replay read from the earlier tasks, and the matrix gathered from its cells.
final class ContinualTests: FolderTestCase {
    static let spec = """
        tailor: 1
        name: continual
        seed: 3
        data:
          a: { generate: addition, count: 80 }
          b: { generate: reverse, count: 80 }
          a-parts: { from: a, split: { train: 0.75, test: 0.25 } }
          b-parts: { from: b, split: { train: 0.75, test: 0.25 } }
          general: { generate: uppercase, count: 12 }
        tokenizers:
          bytes: { bytes: true }
        models:
          base:
            arch: gpt2
            size: { layers: 1, width: 32, heads: 2, context: 64 }
            tokenizer: bytes
          naive:
            from: base
            continual: { tasks: [a-parts.train, b-parts.train] }
            train: { steps: 6, batch: 8, lr: 3e-3 }
          replayed:
            from: base
            continual: { tasks: [a-parts.train, b-parts.train], mitigation: { replay: 0.5 } }
            train: { steps: 6, batch: 8, lr: 3e-3 }
          consolidated:
            from: base
            continual: { tasks: [a-parts.train, b-parts.train], mitigation: { ewc: 50 } }
            train: { steps: 6, batch: 8, lr: 3e-3 }
          distilled:
            from: base
            continual: { tasks: [a-parts.train, b-parts.train], mitigation: { lwf: { weight: 1, temperature: 2 } } }
            train: { steps: 6, batch: 8, lr: 3e-3 }
          combined:
            from: base
            continual: { tasks: [a-parts.train, b-parts.train], mitigation: { replay_examples: 24, ewc: 50, lwf: { weight: 1, temperature: 2 } } }
            train: { steps: 6, batch: 8, lr: 3e-3 }
        evals:
          forgetting:
            models: [naive, replayed, consolidated]
            tasks: [a-parts.test, b-parts.test]
            data: general
            metrics: [forgetting]
            max_tokens: 6
        """

    func testStagesTrainInOrderAndTheMatrixGathersEveryCell() throws {
        try Self.spec.write(toFile: dir + "/continual.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: dir + "/continual.yaml", diagnostics: &diagnostics), "\(diagnostics.items)")
        XCTAssertTrue(Executor.notExecutable(plan.nodes).isEmpty)
        let outcomes = try Executor(plan: plan, store: try ArtifactStore(root: dir + "/.tailor")).run(plan.nodes)
        func outcome(_ id: String) throws -> Executor.Outcome { try XCTUnwrap(outcomes.first { $0.node.id == id }, id) }
        func json(_ id: String, _ file: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: try outcome(id).artifact.path(file)))) as! [String: Any]
        }
        // One first stage for both models: the second finds it in the cache.
        XCTAssertEqual(try outcome("model.naive.stage1").node.key, try outcome("model.replayed.stage1").node.key)
        XCTAssertEqual(try outcome("model.replayed.stage1").status, .cached)
        XCTAssertEqual(try json("model.naive", "training.json")["replayed_examples"] as? Int, 0)
        let replayed = try json("model.replayed", "training.json")
        XCTAssertEqual(replayed["replayed_examples"] as? Int, 60, "as many of the first task's 60 examples as the second's")
        XCTAssertEqual(replayed["examples"] as? Int, 120)
        // EWC: the first stage's Fisher over its task's 60 examples, then a second stage that
        // moves the weights less than naive's from where they started.
        XCTAssertEqual(try json("model.consolidated.stage1.fisher", "fisher.json")["examples"] as? Int, 60)
        XCTAssertGreaterThan(try json("model.consolidated.stage1.fisher", "fisher.json")["trace"] as! Double, 0)
        XCTAssertNotEqual(try outcome("model.consolidated").artifact.digest, try outcome("model.naive").artifact.digest)
        XCTAssertEqual(try outcome("model.distilled.stage1").node.key, try outcome("model.naive.stage1").node.key)
        XCTAssertNotEqual(try outcome("model.distilled").artifact.digest, try outcome("model.naive").artifact.digest)
        // Replay (a count of examples), EWC and LwF together: the replayed examples, the Fisher
        // node EWC alone made (read from the cache), and weights unlike any of the three alone.
        let combined = try outcome("model.combined")
        XCTAssertEqual(combined.node.inputs.map(\.role), [.stage, .data, .task, .fisher])
        XCTAssertEqual(try outcome("model.combined.stage1.fisher").node.key, try outcome("model.consolidated.stage1.fisher").node.key)
        XCTAssertEqual(try outcome("model.combined.stage1.fisher").status, .cached)
        XCTAssertEqual(try json("model.combined", "training.json")["replayed_examples"] as? Int, 24)
        XCTAssertEqual(try json("model.combined", "training.json")["examples"] as? Int, 84)
        for alone in ["model.replayed", "model.consolidated", "model.distilled"] {
            XCTAssertNotEqual(combined.artifact.digest, try outcome(alone).artifact.digest, alone)
        }
        // The matrix: the base and two stages, by each task's test set and the general set.
        let naive = try json("eval.forgetting.naive", "metrics.json")
        let matrix = try XCTUnwrap(naive["matrix"] as? [String: Any])
        XCTAssertEqual(matrix["columns"] as? [String], ["a-parts.test", "b-parts.test", "general"])
        let scores = try XCTUnwrap(matrix["scores"] as? [[Double]])
        XCTAssertEqual(scores.count, 3)
        for (i, row) in scores.enumerated() {
            for (j, column) in ["a-parts.test", "b-parts.test", "general"].enumerated() {
                let cell = try json("eval.forgetting.naive.stage\(i).\(column)", "metrics.json")
                XCTAssertEqual(row[j], cell["exact_match"] as? Double, "R[\(i)][\(j)]")
            }
        }
        let m = AccuracyMatrix(scores, tasks: 2)
        XCTAssertEqual(naive["average_accuracy"] as? Double, m.averageAccuracy)
        XCTAssertEqual(naive["backward_transfer"] as? Double, m.backwardTransfer)
        XCTAssertEqual(naive["forward_transfer"] as? Double, m.forwardTransfer)
        XCTAssertEqual(naive["forgetting"] as? Double, m.averageForgetting)
        XCTAssertEqual(naive["model"] as? String, "model.naive")
        let report = try String(contentsOfFile: try outcome("eval.forgetting").artifact.path("report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("| model | examples | average_accuracy | backward_transfer | forward_transfer | forgetting |"), report)
        XCTAssertTrue(report.contains("model.replayed: score (exact match) on each task after each stage"), report)
        // report.html: the summary columns, and a heat map per model with a cell per score.
        let html = ReportHTML.render(plan: plan, outcomes: outcomes, seconds: 1)
        XCTAssertTrue(html.contains("<th>backward_transfer</th>"), html)
        for model in ["naive", "replayed", "consolidated"] { XCTAssertTrue(html.contains("<h3>Forgetting matrix: model.\(model)</h3>"), model) }
        let heat = try XCTUnwrap(html.components(separatedBy: "<h3>Forgetting matrix: model.naive</h3>").last?.components(separatedBy: "</table>").first)
        XCTAssertEqual(heat.components(separatedBy: "style=\"background: hsl(").count - 1, 9, "3 stages × 3 columns")
        XCTAssertTrue(heat.contains(String(format: "%.4f", scores[1][0])), heat)
    }

    static let adapterSpec = """
        tailor: 1
        name: continual-adapters
        seed: 3
        data:
          a: { generate: addition, count: 80 }
          b: { generate: reverse, count: 80 }
          a-parts: { from: a, split: { train: 0.75, test: 0.25 } }
          b-parts: { from: b, split: { train: 0.75, test: 0.25 } }
        tokenizers:
          bytes: { bytes: true }
        models:
          base:
            arch: gpt2
            size: { layers: 1, width: 32, heads: 2, context: 64 }
            tokenizer: bytes
          routed:
            from: base
            continual: { tasks: [a-parts.train, b-parts.train], mitigation: { adapters: { rank: 2 } } }
            train: { steps: 6, batch: 8, lr: 3e-3 }
          merged:
            from: base
            continual: { tasks: [a-parts.train, b-parts.train], mitigation: { adapters: { rank: 2, merge: true } } }
            train: { steps: 6, batch: 8, lr: 3e-3 }
          shared:
            from: base
            continual: { tasks: [a-parts.train, b-parts.train], lora: { rank: 2 }, mitigation: { ewc: 50 } }
            train: { steps: 6, batch: 8, lr: 3e-3 }
        evals:
          forgetting:
            models: [routed, merged, shared]
            tasks: [a-parts.test, b-parts.test]
            metrics: [forgetting]
            max_tokens: 6
        """

    /// Adapters per task leave the base's weights as they are and score each task with its own
    /// adapter, so nothing is forgotten; merged, the last stage is the base plus both tasks'
    /// updates; one adapter through every stage goes on training the first stage's.
    func testAdaptersPerTaskMergedAndOneAdapterThroughEveryStage() throws {
        try Self.adapterSpec.write(toFile: dir + "/adapters.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: dir + "/adapters.yaml", diagnostics: &diagnostics), "\(diagnostics.items)")
        XCTAssertTrue(Executor.notExecutable(plan.nodes).isEmpty)
        let outcomes = try Executor(plan: plan, store: try ArtifactStore(root: dir + "/.tailor")).run(plan.nodes)
        func artifact(_ id: String) throws -> Artifact { try XCTUnwrap(outcomes.first { $0.node.id == id }, id).artifact }
        func json(_ id: String, _ file: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: try artifact(id).path(file)))) as! [String: Any]
        }
        let baseWeights = try artifact("model.base").files["model.safetensors"]
        for id in ["model.routed.stage1", "model.routed", "model.shared.stage1", "model.shared"] {
            XCTAssertEqual(try artifact(id).files["model.safetensors"], baseWeights, "\(id): the base's weights unchanged")
            XCTAssertNotNil(try artifact(id).files["adapter_model.safetensors"], id)
        }
        XCTAssertNotEqual(try artifact("model.shared").files["adapter_model.safetensors"], try artifact("model.shared.stage1").files["adapter_model.safetensors"])
        let routed = try json("eval.forgetting.routed", "metrics.json")
        XCTAssertEqual(routed["backward_transfer"] as? Double, 0, "each task keeps its own adapter")
        XCTAssertEqual(routed["forgetting"] as? Double, 0)
        XCTAssertEqual(routed["forward_transfer"] as? Double, 0, "a task not yet trained is scored on the base")

        // Merged: W_base + Δ1 + Δ2, each Δ the update of the routed model's adapter for that task
        // (the same training: an adapter per task sees only the base and its task).
        XCTAssertNil(try artifact("model.merged").files["adapter_model.safetensors"])
        func weights(_ id: String) throws -> [String: [Float]] {
            let (model, _) = try ModelRunners.load(try artifact(id))
            (model as? Adaptable)?.mergeAdapters()
            return Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.0, $0.1.scalars) })
        }
        let base = try weights("model.base"), first = try weights("model.routed.stage1"), second = try weights("model.routed")
        let merged = try weights("model.merged")
        var changed = 0
        for (name, w) in base {
            let expected = zip(w, zip(first[name]!, second[name]!)).map { b, ab in ab.0 + ab.1 - b }
            for (x, y) in zip(merged[name]!, expected) { XCTAssertEqual(x, y, accuracy: 1e-5, name) }
            if merged[name]! != w { changed += 1 }
        }
        XCTAssertGreaterThan(changed, 0)
        // EWC on one adapter: the Fisher of the first stage's adapter weights only.
        let fisher = try Safetensors.read(path: try artifact("model.shared.stage1.fisher").path("fisher.safetensors")).tensors
        XCTAssertEqual(Set(fisher.keys), ["layers.0.attn.q.lora_a", "layers.0.attn.q.lora_b", "layers.0.attn.v.lora_a", "layers.0.attn.v.lora_b"])
        XCTAssertGreaterThan(try json("model.shared.stage1.fisher", "fisher.json")["trace"] as! Double, 0)
    }
}
