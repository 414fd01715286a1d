import Foundation
import TailorDiagnostics
@testable import TailorPlan
import XCTest

/// A continual model plans one node per stage, so the cache reuses what a change leaves alone.
final class ContinualPlanningTests: SpecFolderTestCase {
    func spec(tasks: [String], mitigation: String = "") -> String {
        """
        tailor: 1
        name: stages
        data:
          a: { generate: addition, count: 60 }
          b: { generate: reverse, count: 60 }
          c: { generate: uppercase, count: 60 }
          d: { generate: sorting, count: 60 }
          e: { generate: addition, count: 70 }
        tokenizers:
          bytes: { bytes: true }
        models:
          base:
            arch: gpt2
            size: { layers: 1, width: 32, heads: 2, context: 64 }
            tokenizer: bytes
          seq:
            from: base
            continual: { tasks: [\(tasks.joined(separator: ", "))]\(mitigation) }
            train: { steps: 5 }
        """
    }

    func keys(_ text: String) throws -> [String: String] {
        var d = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: write("stages.yaml", text), diagnostics: &d), "\(d.items)")
        return Dictionary(uniqueKeysWithValues: plan.nodes.filter { $0.kind == .trainContinual }.map { ($0.id, $0.key) })
    }

    func testAppendingATaskReusesEveryEarlierStage() throws {
        let three = try keys(spec(tasks: ["a", "b", "c"])), four = try keys(spec(tasks: ["a", "b", "c", "d"]))
        XCTAssertEqual(Set(three.keys), ["model.seq.stage1", "model.seq.stage2", "model.seq"])
        XCTAssertEqual(four["model.seq.stage1"], three["model.seq.stage1"])
        XCTAssertEqual(four["model.seq.stage2"], three["model.seq.stage2"])
        XCTAssertEqual(four["model.seq.stage3"], three["model.seq"], "the third stage, now not the last, keeps its key")
    }

    func testChangingATaskRerunsThatStageAndTheOnesAfter() throws {
        let before = try keys(spec(tasks: ["a", "b", "c"])), after = try keys(spec(tasks: ["a", "e", "c"]))
        XCTAssertEqual(after["model.seq.stage1"], before["model.seq.stage1"])
        XCTAssertNotEqual(after["model.seq.stage2"], before["model.seq.stage2"])
        XCTAssertNotEqual(after["model.seq"], before["model.seq"], "the same third task, after another second stage")
    }

    /// The first stage protects nothing, so a mitigation leaves it shared with naive training;
    /// every later stage differs.
    func testMitigationStartsAtTheSecondStage() throws {
        let naive = try keys(spec(tasks: ["a", "b", "c"]))
        for mitigation in [", mitigation: { replay: 0.2 }", ", mitigation: { l2: 0.1 }", ", mitigation: { ewc: 10 }"] {
            let mitigated = try keys(spec(tasks: ["a", "b", "c"], mitigation: mitigation))
            XCTAssertEqual(mitigated["model.seq.stage1"], naive["model.seq.stage1"], mitigation)
            XCTAssertNotEqual(mitigated["model.seq.stage2"], naive["model.seq.stage2"], mitigation)
            XCTAssertNotEqual(mitigated["model.seq"], naive["model.seq"], mitigation)
        }
    }

    /// EWC's Fisher information is a node per earlier stage, keyed by that stage and its task
    /// only: a sweep over λ computes it once, and each later stage reads every earlier one.
    func testEWCReadsEachEarlierStagesFisherWhichALambdaSweepShares() throws {
        var d = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: write("stages.yaml", spec(tasks: ["a", "b", "c"], mitigation: ", mitigation: { ewc: 10 }")),
                                                 diagnostics: &d), "\(d.items)")
        let fishers = plan.nodes.filter { $0.kind == .ewcFisher }
        XCTAssertEqual(fishers.map(\.id), ["model.seq.stage1.fisher", "model.seq.stage2.fisher"])
        XCTAssertEqual(plan.nodes.first { $0.id == "model.seq" }?.inputs.filter { $0.role == .fisher }.map(\.node),
                       ["model.seq.stage1.fisher", "model.seq.stage2.fisher"])
        let other = try XCTUnwrap(Compiler().plan(file: write("stages.yaml", spec(tasks: ["a", "b", "c"], mitigation: ", mitigation: { ewc: 100 }")),
                                                  diagnostics: &d))
        XCTAssertEqual(other.nodes.first { $0.id == "model.seq.stage1.fisher" }?.key, fishers[0].key)
        XCTAssertNotEqual(other.nodes.first { $0.id == "model.seq.stage2" }?.key, plan.nodes.first { $0.id == "model.seq.stage2" }?.key)
    }

    func plan(_ text: String) throws -> Plan {
        var d = DiagnosticBag()
        return try XCTUnwrap(Compiler().plan(file: write("stages.yaml", text), diagnostics: &d), "\(d.items)")
    }

    /// An adapter per task trains on the base alone: no stage reads another, so changing the
    /// first task leaves the later stages' keys alone; merged, each stage folds into the one before.
    func testAnAdapterPerTaskReadsTheBaseAndOnlyMergingReadsTheStageBefore() throws {
        let adapters = ", mitigation: { adapters: { rank: 2 } }"
        let routed = try plan(spec(tasks: ["a", "b", "c"], mitigation: adapters))
        let stages = routed.nodes.filter { $0.kind == .trainContinual }
        XCTAssertEqual(stages.map { $0.inputs.map(\.role) }, Array(repeating: [.base, .data], count: 3))
        XCTAssertEqual(Set(stages.flatMap { $0.inputs.filter { $0.role == .base }.map(\.node) }), ["model.base"])
        let changed = try keys(spec(tasks: ["e", "b", "c"], mitigation: adapters))
        XCTAssertNotEqual(changed["model.seq.stage1"], stages[0].key)
        XCTAssertEqual(changed["model.seq.stage2"], stages[1].key, "an adapter for task b does not depend on task a")
        XCTAssertEqual(changed["model.seq"], stages[2].key)

        let merged = try plan(spec(tasks: ["a", "b", "c"], mitigation: ", mitigation: { adapters: { rank: 2, merge: true } }"))
        XCTAssertEqual(merged.nodes.filter { $0.kind == .trainContinual }.map { $0.inputs.filter { $0.role == .stage }.map(\.node) },
                       [[], ["model.seq.stage1"], ["model.seq.stage2"]])
        XCTAssertNotEqual(merged.nodes.first { $0.id == "model.seq.stage1" }?.key, stages[0].key, "the merged first stage folds its adapter in")
        let trainable = try XCTUnwrap(stages[0].estimate.trainable), all = try XCTUnwrap(stages[0].estimate.parameters)
        XCTAssertLessThan(trainable, all / 4, "only the adapter trains")
    }

    /// Scored with adapters chosen by task, task j's column reads the base until stage j and
    /// stage j's adapter from then on; the general column reads the base. Cells that read the
    /// same model on the same set are one node.
    func testTheForgettingMatrixOfAdaptersPerTaskChoosesEachTasksAdapter() throws {
        let text = spec(tasks: ["a", "b"], mitigation: ", mitigation: { adapters: { rank: 2 } }") + """

          merged:
            from: base
            continual: { tasks: [a, b], mitigation: { adapters: { rank: 2, merge: true } } }
            train: { steps: 5 }
        evals:
          f:
            models: [seq, merged]
            tasks: [a, b]
            data: c
            metrics: [forgetting]
        """
        let p = try plan(text)
        func cells(_ model: String) -> [String] {
            (p.nodes.first { $0.id == "eval.f.\(model)" }?.inputs.map(\.node) ?? []).map { id in
                p.nodes.first { $0.id == id }?.inputs.first { $0.role == .model }?.node ?? "?"
            }
        }
        XCTAssertEqual(cells("seq"), ["model.base", "model.base", "model.base",
                                      "model.seq.stage1", "model.base", "model.base",
                                      "model.seq.stage1", "model.seq", "model.base"])
        XCTAssertEqual(cells("merged"), ["model.base", "model.base", "model.base",
                                         "model.merged.stage1", "model.merged.stage1", "model.merged.stage1",
                                         "model.merged", "model.merged", "model.merged"])
        XCTAssertEqual(Set(p.nodes.first { $0.id == "eval.f.seq" }!.inputs.map(\.node)).count, 5, "nine cells, five distinct evals")
    }

    /// An eval of a continual model with another metric (a general set beside the matrix)
    /// scores its last stage as any language model's eval does.
    func testAnEvalOutsideTheMatrixScoresTheLastStage() throws {
        let p = try plan(spec(tasks: ["a", "b"]) + """

        evals:
          general: { models: [seq], data: c, metrics: [exact_match] }
        """)
        let node = try XCTUnwrap(p.nodes.first { $0.id == "eval.general.seq" })
        XCTAssertEqual(node.kind, .evalLM)
        XCTAssertEqual(node.inputs.first { $0.role == .model }?.node, "model.seq")
    }

    /// With `lora`, every stage trains the adapter (the first a fresh one on the base, each
    /// later one the adapter the stage before left), and EWC's Fisher weighs the adapter only.
    func testOneAdapterThroughEveryStage() throws {
        let p = try plan(spec(tasks: ["a", "b", "c"], mitigation: ", lora: { rank: 2 }, mitigation: { ewc: 1 }"))
        let stages = p.nodes.filter { $0.kind == .trainContinual }
        XCTAssertEqual(stages.map { $0.inputs.first?.role }, [.base, .stage, .stage])
        XCTAssertTrue(stages.allSatisfy { $0.params["continual"]?["lora"]?["rank"]?.int == 2 }, "the first stage trains the adapter too")
        XCTAssertTrue(p.nodes.filter { $0.kind == .ewcFisher }.allSatisfy { $0.params["adapters"]?.bool == true })
        XCTAssertNotEqual(stages[0].key, try keys(spec(tasks: ["a", "b", "c"]))["model.seq.stage1"])
    }
}
