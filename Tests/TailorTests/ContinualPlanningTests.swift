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
}
