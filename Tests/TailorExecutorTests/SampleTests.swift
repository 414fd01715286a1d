import Foundation
import TailorDiagnostics
@testable import TailorEngine
@testable import TailorExecutor
import TailorPlan
import XCTest

/// data.sample and data.label: a model's own answers, seeded, and the preference pairs a rule
/// makes of them, with the prompts that gave none counted.
final class SampleTests: FolderTestCase {
    /// An untrained model's answers are noise: some hold a small letter, some do not.
    static func spec(seed: Int = 2, label: String = "{ pattern: \"[a-z]\" }") -> String {
        """
        tailor: 1
        name: sampling
        seed: \(seed)
        data:
          questions: { file: questions.jsonl, format: instruction }
          answers:   { from: questions, sample: { model: base, n: 4, temperature: 1.5, max_tokens: 4 } }
          pairs:     { from: answers, label: \(label) }
        tokenizers:
          bytes: { bytes: true }
        models:
          base:
            arch: gpt2
            size: { layers: 1, width: 32, heads: 2, context: 16 }
            tokenizer: bytes
        """
    }

    func run(_ text: String, store: String = "/.tailor") throws -> [Executor.Outcome] {
        try (0..<12).map { #"{"prompt": "q\#($0)=", "response": "\#($0 % 3)"}"# }.joined(separator: "\n")
            .write(toFile: dir + "/questions.jsonl", atomically: true, encoding: .utf8)
        try text.write(toFile: dir + "/sampling.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: dir + "/sampling.yaml", diagnostics: &diagnostics), "\(diagnostics.items)")
        XCTAssertTrue(Executor.notExecutable(plan.nodes).isEmpty)
        return try Executor(plan: plan, store: try ArtifactStore(root: dir + store)).run(plan.nodes)
    }

    func records(_ outcomes: [Executor.Outcome], _ id: String) throws -> [[String: Any]] {
        let artifact = try XCTUnwrap(outcomes.first { $0.node.id == id }?.artifact, "no node \(id)")
        return try Dataset.read(artifact.path("data.jsonl")).records
    }

    func testSamplesAreSeededAndEachPromptsAnswersAreNumbered() throws {
        let outcomes = try run(Self.spec())
        let answers = try records(outcomes, "data.answers")
        XCTAssertEqual(answers.count, 48, "4 answers to each of 12 prompts")
        XCTAssertEqual(answers.map { $0["sample"] as? Int }, (0..<48).map { $0 % 4 })
        XCTAssertEqual(answers.map { $0["prompt"] as? String }, (0..<48).map { "q\($0 / 4)=" })
        XCTAssertEqual(answers.map { $0["reference"] as? String }, (0..<48).map { "\($0 / 4 % 3)" })
        let texts = answers.map { $0["response"] as! String }
        XCTAssertGreaterThan(Set(texts).count, 24, "temperature 1.5 over noise: the answers differ")
        // The same spec and seed give the same bytes from an empty cache; another seed, other answers.
        let again = try run(Self.spec(), store: "/.again")
        XCTAssertEqual(outcomes.first { $0.node.id == "data.answers" }?.artifact.files, again.first { $0.node.id == "data.answers" }?.artifact.files)
        let other = try records(try run(Self.spec(seed: 3), store: "/.other"), "data.answers")
        XCTAssertNotEqual(other.map { $0["response"] as! String }, texts)
    }

    func testLabelPairsAPassingAnswerWithAFailingOneAndCountsThePromptsWithout() throws {
        let outcomes = try run(Self.spec())
        let answers = try records(outcomes, "data.answers"), pairs = try records(outcomes, "data.pairs")
        var expected = 0, allPassed = 0, allFailed = 0
        for i in 0..<12 {
            let group = answers[(4 * i)..<(4 * i + 4)].map { $0["response"] as! String }
                .filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
            let small = { (s: String) in s.unicodeScalars.contains { ("a"..."z").contains($0) } }
            let passing = group.filter(small), failing = group.filter { !small($0) }
            guard let chosen = passing.first, let rejected = failing.first else {
                if failing.isEmpty, !passing.isEmpty { allPassed += 1 } else { allFailed += 1 }
                continue
            }
            // The first passing and the first failing answer, in sample order.
            let pair = try XCTUnwrap(pairs.first { $0["prompt"] as? String == "q\(i)=" })
            XCTAssertEqual(pair["chosen"] as? String, chosen)
            XCTAssertEqual(pair["rejected"] as? String, rejected)
            expected += 1
        }
        XCTAssertEqual(pairs.count, expected)
        XCTAssertGreaterThan(expected, 0)
        let artifact = try XCTUnwrap(outcomes.first { $0.node.id == "data.pairs" }?.artifact)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: artifact.path("label.json")))) as! [String: Any]
        XCTAssertEqual(summary["prompts"] as? Int, 12)
        XCTAssertEqual(summary["pairs"] as? Int, expected)
        XCTAssertEqual(summary["all_passed"] as? Int, allPassed)
        XCTAssertEqual(summary["all_failed"] as? Int, allFailed)
    }

    /// A rule no answer passes gives no pair at all: an error that says what to change, not an
    /// empty dataset for DPO to fail on later.
    func testARuleNoAnswerPassesIsAnErrorThatSaysWhy() throws {
        XCTAssertThrowsError(try run(Self.spec(label: "{ rule: exact_match }"))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("no prompt gave a preference pair: of 12 prompts, every answer passed the rule for 0 and failed it for 12"), text)
            XCTAssertTrue(text.contains("higher `temperature`"), text)
        }
    }
}
