import Foundation
import TailorData
import TailorDiagnostics
@testable import TailorEngine
@testable import TailorExecutor
import TailorPlan
import XCTest

/// train.reward and eval.reward through the engine: preference pairs tokenized with their
/// rejected side, a reward model trained on them, and its metrics over a held-out set.
final class RewardModelTests: FolderTestCase {
    /// Pairs in TRL's explicit layout whose chosen answer is always "good" and rejected "bad",
    /// under prompts that differ between the training and the held-out file.
    func writePairs() throws {
        func pairs(_ range: Range<Int>) -> String {
            range.map { #"{"prompt": "q\#($0) ", "chosen": "good", "rejected": "bad"}"# }.joined(separator: "\n") + "\n"
        }
        try pairs(0..<40).write(toFile: dir + "/train.jsonl", atomically: true, encoding: .utf8)
        try pairs(100..<112).write(toFile: dir + "/test.jsonl", atomically: true, encoding: .utf8)
    }

    static let spec = """
        tailor: 1
        name: reward
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
          judge:
            from: base
            reward: { pooling: last }
            train: { data: train, steps: 30, batch: 8, lr: 3e-3, eval: { data: test, every: 30 } }
        evals:
          judge: { models: [judge], data: test, metrics: [reward_accuracy] }
        """

    func run(_ text: String) throws -> [Executor.Outcome] {
        try text.write(toFile: dir + "/reward.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: dir + "/reward.yaml", diagnostics: &diagnostics), "\(diagnostics.items)")
        XCTAssertTrue(Executor.notExecutable(plan.nodes).isEmpty)
        return try Executor(plan: plan, store: try ArtifactStore(root: dir + "/.tailor")).run(plan.nodes)
    }

    func json(_ artifact: Artifact, _ file: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: artifact.path(file)))) as! [String: Any]
    }

    func testARewardModelLearnsThePreferredAnswerAndScoresHeldOutPairs() throws {
        try writePairs()
        let outcomes = try run(Self.spec)
        let tokens = try XCTUnwrap(outcomes.first { $0.node.id == "tokens.train@bytes" }?.artifact)
        XCTAssertNotNil(tokens.files["rejected.bin"], "preference pairs keep their rejected side")
        let judge = try XCTUnwrap(outcomes.first { $0.node.id == "model.judge" }?.artifact)
        XCTAssertEqual(try json(judge, "head.json")["kind"] as? String, "reward")
        let heldOut = try XCTUnwrap(try json(judge, "training.json")["held_out"] as? [String: Any])
        XCTAssertEqual(heldOut["pairs"] as? Int, 12)
        let metrics = try json(try XCTUnwrap(outcomes.first { $0.node.id == "eval.judge.judge" }?.artifact), "metrics.json")
        XCTAssertEqual(metrics["reward_accuracy"] as? Double, 1, "\(metrics)")
        XCTAssertEqual(metrics["examples"] as? Int, 12)
        XCTAssertGreaterThan(metrics["mean_margin"] as? Double ?? 0, 0)
        let chosen = try XCTUnwrap(metrics["chosen_scores"] as? [String: Double]), rejected = try XCTUnwrap(metrics["rejected_scores"] as? [String: Double])
        XCTAssertGreaterThan(chosen["min"]!, rejected["max"]!, "every chosen answer scores above every rejected one")
        // The held-out metrics of training and of the eval are the same pairs, scored alike.
        XCTAssertEqual(heldOut["accuracy"] as? Double, metrics["reward_accuracy"] as? Double)
        XCTAssertEqual(heldOut["mean_margin"] as! Double, metrics["mean_margin"] as! Double, accuracy: 1e-6)
    }

    /// With `reward.lora`, adapters and the head train on the frozen decoder: the saved base
    /// weights are the base's bytes, and the model still learns the preference.
    func testARewardModelWithLoRAKeepsTheBaseAndLearns() throws {
        try writePairs()
        let outcomes = try run(Self.spec.replacingOccurrences(of: "reward: { pooling: last }",
                                                               with: "reward: { pooling: last, lora: { rank: 4, targets: [all] } }"))
        let base = try XCTUnwrap(outcomes.first { $0.node.id == "model.base" }?.artifact)
        let judge = try XCTUnwrap(outcomes.first { $0.node.id == "model.judge" }?.artifact)
        XCTAssertEqual(base.files["model.safetensors"], judge.files["model.safetensors"], "the frozen decoder is saved as it was")
        let log = try json(judge, "training.json")
        XCTAssertLessThan(log["trainable_parameters"] as! Int, 10_000)
        let metrics = try json(try XCTUnwrap(outcomes.first { $0.node.id == "eval.judge.judge" }?.artifact), "metrics.json")
        XCTAssertEqual(metrics["reward_accuracy"] as? Double, 1, "\(metrics)")
    }

    /// `win_rate`: a model taught to answer "good" against one taught "bad", judged by the
    /// reward model that learned to prefer "good", on prompts none of them trained on (as long
    /// as the training prompts: this one-layer model places its answer by position). The
    /// judge prefers the first everywhere, the rule (`answer_check` against "good") agrees, and
    /// a model against itself ties everywhere. Judged by the rule, the win rate is
    /// 0.5 + (answer_check − the baseline's answer_check) / 2, which the counts must give.
    func testWinRateJudgesGeneratedAnswersByTheRewardModelAndByTheRule() throws {
        try writePairs()
        func answers(_ word: String, _ range: Range<Int>) -> String {
            range.map { #"{"prompt": "q\#($0) ", "response": "\#(word)"}"# }.joined(separator: "\n") + "\n"
        }
        try answers("good", 0..<40).write(toFile: dir + "/good.jsonl", atomically: true, encoding: .utf8)
        try answers("bad", 0..<40).write(toFile: dir + "/bad.jsonl", atomically: true, encoding: .utf8)
        try answers("good", 40..<52).write(toFile: dir + "/held.jsonl", atomically: true, encoding: .utf8)
        let spec = Self.spec.replacingOccurrences(of: "  test:  { file: test.jsonl, format: preference }", with: """
              test:  { file: test.jsonl, format: preference }
              good:  { file: good.jsonl, format: instruction }
              bad:   { file: bad.jsonl, format: instruction }
              held:  { file: held.jsonl, format: instruction }
            """).replacingOccurrences(of: "evals:", with: """
              polite: { from: base, finetune: {}, train: { data: good, steps: 60, batch: 8, lr: 3e-3 } }
              rude:   { from: base, finetune: {}, train: { data: bad, steps: 60, batch: 8, lr: 3e-3 } }
            evals:
              wins: { models: [polite, rude], data: held, metrics: [answer_check, win_rate], reward: judge, baseline: rude, max_tokens: 5 }
            """)
        let outcomes = try run(spec)
        let (polite, rude) = (try json(try XCTUnwrap(outcomes.first { $0.node.id == "eval.wins.polite" }?.artifact), "metrics.json"),
                              try json(try XCTUnwrap(outcomes.first { $0.node.id == "eval.wins.rude" }?.artifact), "metrics.json"))
        XCTAssertEqual(polite["answer_check"] as? Double, 1, "\(polite)")
        XCTAssertEqual(rude["answer_check"] as? Double, 0, "\(rude)")
        XCTAssertEqual(polite["win_rate"] as? Double, 1, "\(polite)")
        XCTAssertEqual(polite["win_rate_rule"] as? Double, 1)
        XCTAssertEqual(polite["judge_agreement"] as? Double, 1)
        let detail = try XCTUnwrap(polite["win_rate_detail"] as? [String: Any])
        XCTAssertEqual(detail["rule_decided"] as? Int, 12)
        let first = try XCTUnwrap((detail["samples"] as? [[String: Any]])?.first)
        XCTAssertEqual(first["answer"] as? String, "good")
        XCTAssertEqual(first["baseline_answer"] as? String, "bad")
        XCTAssertGreaterThan(first["score"] as! Double, first["baseline_score"] as! Double)
        XCTAssertEqual(rude["win_rate"] as? Double, 0.5)
        XCTAssertEqual(rude["win_rate_rule"] as? Double, 0.5)
        XCTAssertNil(rude["judge_agreement"], "the rule decides no comparison of a model with itself")
        XCTAssertEqual(((rude["win_rate_detail"] as? [String: Any])?["reward"] as? [String: Any])?["ties"] as? Int, 12)
        for m in [polite, rude] {
            XCTAssertEqual(m["win_rate_rule"] as! Double, 0.5 + (m["answer_check"] as! Double - (rude["answer_check"] as! Double)) / 2, accuracy: 1e-12)
        }
        let report = try String(contentsOfFile: try XCTUnwrap(outcomes.first { $0.node.id == "eval.wins" }?.artifact).path("report.md"), encoding: .utf8)
        XCTAssertTrue(report.hasPrefix("| model | examples | answer_check | win_rate | win_rate_rule | judge_agreement |"), report)
    }

    /// `preferences` with `below: 1` asks the same prompts, record for record, with the wrong
    /// answer under the right one (over it only where it would go below zero), so a reward model
    /// can be probed for "prefer the smaller number".
    func testThePreferencesProbeKeepsThePromptsAndMovesTheWrongAnswer() {
        let above = Generators.make("preferences", count: 300, options: ["digits": 1], seed: 9)
        let below = Generators.make("preferences", count: 300, options: ["digits": 1, "below": 1], seed: 9)
        var under = 0
        for (a, b) in zip(above, below) {
            XCTAssertEqual(a["prompt"] as? String, b["prompt"] as? String)
            XCTAssertEqual(a["chosen"] as? String, b["chosen"] as? String)
            let (right, wrongAbove, wrongBelow) = (Int(a["chosen"] as! String)!, Int(a["rejected"] as! String)!, Int(b["rejected"] as! String)!)
            XCTAssertTrue((1...9).contains(wrongAbove - right))
            if wrongBelow < right { under += 1; XCTAssertTrue((1...9).contains(right - wrongBelow)) } else { XCTAssertEqual(wrongBelow, wrongAbove) }
            XCTAssertGreaterThanOrEqual(wrongBelow, 0)
        }
        XCTAssertGreaterThan(under, 200, "most one-digit sums have room below")
    }

    /// `far: 1` keeps the prompts and draws the wrong answer from every other possible sum;
    /// with `below: 1` as well it is refused at `below`.
    func testFarWrongAnswersCoverEverySumButTheRightOne() throws {
        let near = Generators.make("preferences", count: 400, options: ["digits": 1], seed: 9)
        let far = Generators.make("preferences", count: 400, options: ["digits": 1, "far": 1], seed: 9)
        var distant = 0
        for (a, b) in zip(near, far) {
            XCTAssertEqual(a["prompt"] as? String, b["prompt"] as? String)
            let (right, wrong) = (Int(b["chosen"] as! String)!, Int(b["rejected"] as! String)!)
            XCTAssertNotEqual(wrong, right)
            XCTAssertTrue((0...18).contains(wrong), "\(wrong)")
            if abs(wrong - right) > 9 { distant += 1 }
        }
        XCTAssertGreaterThan(distant, 0)
        XCTAssertEqual(Set(far.map { $0["rejected"] as! String }).count, 19, "every sum of two digits is drawn")
        try """
            tailor: 1
            name: far
            data:
              pairs: { generate: preferences, count: 10, options: { far: 1, below: 1 } }
            """.write(toFile: dir + "/far.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        XCTAssertNil(Compiler().plan(file: dir + "/far.yaml", diagnostics: &diagnostics))
        XCTAssertTrue(diagnostics.items.contains { "\($0.message)" == "'below' and 'far' cannot both be set" && $0.location?.line == 4 }, "\(diagnostics.items)")
    }

    /// `extract_pairs` asks `extract`'s prompts record for record, the right JSON chosen (the
    /// answer `extract` gives) and one of two wrong ones rejected.
    func testExtractPairsKeepThePromptsAndRejectAWrongJSON() {
        let plain = Generators.make("extract", count: 200, options: [:], seed: 3)
        let pairs = Generators.make("extract_pairs", count: 200, options: [:], seed: 3)
        var swapped = 0
        for (a, b) in zip(plain, pairs) {
            XCTAssertEqual(a["prompt"] as? String, b["prompt"] as? String)
            XCTAssertEqual(a["response"] as? String, b["chosen"] as? String)
            let rejected = b["rejected"] as! String
            XCTAssertNotEqual(rejected, b["chosen"] as? String)
            XCTAssertFalse(AnswerCheck.matches(rejected, b["chosen"] as! String))
            if rejected.hasPrefix("{\"person\"") { swapped += 1 } else { XCTAssertTrue(rejected.hasPrefix("{\"name\"")) }
        }
        XCTAssertTrue((60...140).contains(swapped), "both kinds of mistake: \(swapped) of 200 swapped")
        // `trailing: 1` keeps the pairs' prompts and chosen answers and adds a third kind.
        let three = Generators.make("extract_pairs", count: 300, options: ["trailing": 1], seed: 3)
        let first = Generators.make("extract_pairs", count: 300, options: [:], seed: 3)
        var trailing = 0
        for (a, b) in zip(first, three) {
            XCTAssertEqual(a["prompt"] as? String, b["prompt"] as? String)
            XCTAssertEqual(a["chosen"] as? String, b["chosen"] as? String)
            let (chosen, rejected) = (b["chosen"] as! String, b["rejected"] as! String)
            // Right as a value (`answer_check` reads the first JSON object), wrong as an exact answer.
            if rejected.hasPrefix(chosen) { trailing += 1; XCTAssertTrue(rejected.count > chosen.count + 10) }
        }
        XCTAssertTrue((60...140).contains(trailing), "a third trail on: \(trailing) of 300")
    }

    /// Text data without pairs cannot train a reward model: the checker says so at its line.
    func testARewardModelNeedsPairs() throws {
        try writePairs()
        try #"{"text": "a line"}"#.write(toFile: dir + "/text.jsonl", atomically: true, encoding: .utf8)
        let spec = Self.spec.replacingOccurrences(of: "train: { file: train.jsonl, format: preference }", with: "train: { file: text.jsonl, format: text }")
        try spec.write(toFile: dir + "/reward.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        XCTAssertNil(Compiler().plan(file: dir + "/reward.yaml", diagnostics: &diagnostics))
        XCTAssertTrue(diagnostics.items.contains { "\($0.message)".contains("needs 'preference' data") && $0.location?.line == 17 }, "\(diagnostics.items)")
    }

    /// A held-out pair longer than the reward model's context is named, not cut.
    func testPairsLongerThanTheContextAreNamed() throws {
        try writePairs()
        try #"{"prompt": "a long prompt that will not fit", "chosen": "good", "rejected": "bad"}"#.write(toFile: dir + "/test.jsonl", atomically: true, encoding: .utf8)
        let spec = Self.spec.replacingOccurrences(of: ", eval: { data: test, every: 30 }", with: "")
        XCTAssertThrowsError(try run(spec)) { error in
            XCTAssertTrue("\(error)".contains("data.test: record 1 is 36 tokens, longer than the reward model's context of 16"), "\(error)")
        }
    }
}
