import Foundation
@testable import TailorEngine
import TailorDiagnostics
import TailorPlan
import TailorModels
import TailorSpec
import XCTest

@testable import TailorExecutor

/// Prompt templates: placeholders, few-shot selection, chain of thought and ChatML wrapping.
final class PromptTests: XCTestCase {
    let pool: [[String: Any]] = [
        ["prompt": "12+34=", "response": "46"], ["prompt": "90+1=", "response": "91"],
        ["prompt": "12+35=", "response": "47"], ["prompt": "5+5=", "response": "10"],
    ]

    func prompt(_ extra: [String: Any] = [:]) -> Prompt {
        var json: [String: Any] = ["template": "Q: {prompt}\nA:", "style": "plain", "k": 0, "select": "random", "seed": 3, "pool": pool as [Any]]
        for (k, v) in extra { json[k] = v }
        return Prompt(json: json)
    }

    func testPlaceholdersChainOfThoughtAndChatML() {
        let record: [String: Any] = ["prompt": "2+2=", "response": "4"]
        XCTAssertEqual(prompt().render(record, index: 0), "Q: 2+2=\nA:")
        XCTAssertEqual(prompt(["chain_of_thought": "Let's think step by step."]).render(record, index: 0), "Q: 2+2=\nA: Let's think step by step.")
        XCTAssertEqual(prompt(["style": "chatml", "system": "Be brief."]).render(record, index: 0),
                       "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nQ: 2+2=\nA:<|im_end|>\n<|im_start|>assistant\n")
    }

    func testFewShotSimilarAndSeededRandom() {
        let query: [String: Any] = ["prompt": "12+36=", "response": "48"]
        let similar = prompt(["k": 2, "select": "similar"]).render(query, index: 0)
        XCTAssertEqual(similar, "Q: 12+34=\nA: 46\n\nQ: 12+35=\nA: 47\n\nQ: 12+36=\nA:")
        let random = prompt(["k": 2])
        XCTAssertEqual(random.render(query, index: 5), random.render(query, index: 5), "seeded")
        XCTAssertEqual(random.shots(for: query, index: 5).count, 2)
        // The record itself is never its own example.
        let own = prompt(["k": 4, "select": "similar"]).shots(for: pool[0], index: 0)
        XCTAssertFalse(own.contains { $0["prompt"] as? String == "12+34=" })
        XCTAssertEqual(own.count, 3)
    }

    /// Plans and runs `spec` in a fresh folder, removed when the test ends, giving each node's outcome.
    func run(_ spec: String, _ name: String) throws -> [Executor.Outcome] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-\(name)-\(getpid())").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try spec.write(toFile: dir + "/t.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: dir + "/t.yaml", diagnostics: &diagnostics), "\(diagnostics.items)")
        return try Executor(plan: plan, store: try ArtifactStore(root: dir + "/.tailor")).run(plan.nodes)
    }

    func testDataTemplateRendersRecordsIntoInstructions() throws {
        let outcomes = try run("""
            tailor: 1
            name: templ
            seed: 2
            data:
              sums: { generate: addition, count: 20, options: { digits: 1 } }
              parts: { from: sums, split: { shots: 0.5, rest: 0.5 } }
              framed: { from: parts.rest, template: few }
            prompts:
              few: { template: "Q: {prompt}\\nA:", few_shot: { from: parts.shots, k: 1, select: similar }, chain_of_thought: true }
            """, "prompt")
        let framed = try Dataset.read(try XCTUnwrap(outcomes.first { $0.node.id == "data.framed" }).artifact.path("data.jsonl"))
        XCTAssertEqual(framed.count, 10)
        let first = try XCTUnwrap(framed.records.first?["prompt"] as? String)
        XCTAssertTrue(first.hasPrefix("Q: ") && first.hasSuffix("A: Let's think step by step."), first)
        XCTAssertEqual(first.components(separatedBy: "Q: ").count - 1, 2, "one example, then the question: \(first)")
    }

    /// KATE: with an encoder, `similar` picks the examples nearest the question by MiniLM's
    /// embeddings, which find a paraphrase that shares no word with the question where
    /// shared words cannot; `closest: last` puts the nearest next to the question. `embed`
    /// without `select: similar` is refused at its line.
    func testSimilarExamplesByEmbeddingPutTheNearestNextToTheQuestion() throws {
        let minilm = URL(fileURLWithPath: ChatTokenizationTests.gguf).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("all-MiniLM-L6-v2").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: minilm), "models/ is fetched by `make models`")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-kate-\(getpid())").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try [#"{"prompt": "Who wrote the play Hamlet?", "response": "Shakespeare"}"#,
             #"{"prompt": "How many legs does a spider have?", "response": "8"}"#,
             #"{"prompt": "What is the boiling point of water?", "response": "100 C"}"#,
             #"{"prompt": "Which planet is the largest?", "response": "Jupiter"}"#].joined(separator: "\n")
            .write(toFile: dir + "/pool.jsonl", atomically: true, encoding: .utf8)
        try #"{"prompt": "At which temperature do kettles start bubbling?", "response": "100 C"}"#
            .write(toFile: dir + "/asked.jsonl", atomically: true, encoding: .utf8)
        func rendered(_ fewShot: String) throws -> String {
            try """
                tailor: 1
                name: kate
                data:
                  pool: { file: pool.jsonl, format: instruction }
                  asked: { file: asked.jsonl, format: instruction }
                  framed: { from: asked, template: few }
                models:
                  minilm: { load: \(minilm) }
                prompts:
                  few: { template: "Q: {prompt}\\nA:", few_shot: { from: pool, k: 2, \(fewShot) } }
                """.write(toFile: dir + "/kate.yaml", atomically: true, encoding: .utf8)
            var diagnostics = DiagnosticBag()
            let plan = try XCTUnwrap(Compiler().plan(file: dir + "/kate.yaml", diagnostics: &diagnostics), "\(diagnostics.items)")
            let outcomes = try Executor(plan: plan, store: try ArtifactStore(root: dir + "/.tailor")).run(plan.nodes)
            let framed = try Dataset.read(try XCTUnwrap(outcomes.first { $0.node.id == "data.framed" }).artifact.path("data.jsonl"))
            return try XCTUnwrap(framed.records.first?["prompt"] as? String)
        }
        let asked = "Q: At which temperature do kettles start bubbling?\nA:"
        XCTAssertEqual(try rendered("select: similar, embed: minilm, closest: last"),
                       "Q: Which planet is the largest?\nA: Jupiter\n\nQ: What is the boiling point of water?\nA: 100 C\n\n" + asked)
        XCTAssertEqual(try rendered("select: similar, embed: minilm"),
                       "Q: What is the boiling point of water?\nA: 100 C\n\nQ: Which planet is the largest?\nA: Jupiter\n\n" + asked)
        XCTAssertFalse(try rendered("select: similar").hasPrefix("Q: What is the boiling point"), "no shared word: shared words miss it")

        try? FileManager.default.removeItem(atPath: dir + "/kate.yaml")
        var diagnostics = DiagnosticBag()
        try """
            tailor: 1
            name: kate
            data:
              pool: { file: pool.jsonl, format: instruction }
            models:
              minilm: { load: \(minilm) }
            prompts:
              few: { template: "Q: {prompt}", few_shot: { from: pool, embed: minilm } }
            """.write(toFile: dir + "/kate.yaml", atomically: true, encoding: .utf8)
        XCTAssertNil(Compiler().plan(file: dir + "/kate.yaml", diagnostics: &diagnostics))
        XCTAssertEqual(diagnostics.items.map { "\($0.message) at \($0.location?.line ?? 0):\($0.location?.column ?? 0)" },
                       ["'embed' only applies together with 'select: similar' at 8:66"])
    }

    /// `repeats` scores a model once per repeat, each repeat drawing its own random examples
    /// (its own node and key); the report shows each repeat and their mean with its range.
    /// A prompt that draws nothing at random makes repeats pointless: refused.
    func testRepeatsDrawTheirOwnExamplesAndTheReportGivesTheirMean() throws {
        let spec = """
            tailor: 1
            name: repeats
            seed: 5
            data:
              sums: { generate: addition, count: 40, options: { digits: 1 } }
              parts: { from: sums, split: { shots: 0.5, test: 0.5 } }
            tokenizers:
              bytes: { bytes: true }
            models:
              base: { arch: gpt2, size: { layers: 1, width: 16, heads: 2, context: 128 }, tokenizer: bytes }
            prompts:
              few: { template: "{prompt}", few_shot: { from: parts.shots, k: 2, select: SELECT } }
            evals:
              sums: { models: [base], data: parts.test, prompt: few, metrics: [exact_match], max_tokens: 2, repeats: 3 }
            """
        let outcomes = try run(spec.replacingOccurrences(of: "SELECT", with: "random"), "repeats")
        let cells = outcomes.filter { $0.node.kind == .evalLM }
        XCTAssertEqual(cells.map(\.node.id), ["eval.sums.base.r1", "eval.sums.base.r2", "eval.sums.base.r3"])
        XCTAssertEqual(Set(cells.map(\.node.key)).count, 3)
        let asked = try cells.map { cell -> String in
            let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cell.artifact.path("metrics.json")))) as! [String: Any]
            return try XCTUnwrap((metrics["samples"] as? [[String: String]])?.first?["asked"])
        }
        XCTAssertEqual(Set(asked).count, 3, "each repeat asks the first question with its own examples: \(asked)")
        let report = try String(contentsOfFile: try XCTUnwrap(outcomes.first { $0.node.kind == .evalReport }).artifact.path("report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("| model.base, repeat 2 | 20 |"), report)
        XCTAssertTrue(report.contains("| model.base, mean of 3 repeats | 20 | "), report)

        var diagnostics = DiagnosticBag()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-repeats-similar-\(getpid())").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try spec.replacingOccurrences(of: "SELECT", with: "similar").write(toFile: dir + "/t.yaml", atomically: true, encoding: .utf8)
        XCTAssertNil(Compiler().plan(file: dir + "/t.yaml", diagnostics: &diagnostics))
        XCTAssertEqual(diagnostics.items.map { "\($0.message)" }, ["'repeats' needs a prompt whose few-shot examples are drawn at random"])
    }

    /// A prompt over preference pairs keeps them pairs (still `preference` data for DPO or a
    /// reward model): a ChatML prompt makes TRL's conversational layout, another the rendered
    /// prompt with both answers.
    func testDataTemplateKeepsPreferencePairs() throws {
        // A reward model takes the templated pairs: they plan as `preference` data.
        let outcomes = try run("""
            tailor: 1
            name: templ
            seed: 2
            data:
              pairs: { generate: preferences, count: 6, options: { digits: 1 } }
              chats: { from: pairs, template: chat }
              framed: { from: pairs, template: plain }
            tokenizers:
              bytes: { bytes: true }
            prompts:
              chat: { template: "{prompt}", style: chatml, system: "Add." }
              plain: { template: "Q: {prompt}" }
            models:
              base: { arch: gpt2, size: { layers: 1, width: 16, heads: 2, context: 64 }, tokenizer: bytes }
              judge: { from: base, reward: {}, train: { data: chats, steps: 1 } }
            """, "prompt-pairs")
        func records(_ id: String) throws -> [[String: Any]] {
            try Dataset.read(try XCTUnwrap(outcomes.first { $0.node.id == id }).artifact.path("data.jsonl")).records
        }
        let (source, chat, framed) = (try records("data.pairs")[0], try records("data.chats")[0], try records("data.framed")[0])
        XCTAssertEqual(chat["prompt"] as? [[String: String]], [["role": "system", "content": "Add."], ["role": "user", "content": source["prompt"] as! String]])
        XCTAssertEqual(chat["chosen"] as? [[String: String]], [["role": "assistant", "content": source["chosen"] as! String]])
        XCTAssertEqual(chat["rejected"] as? [[String: String]], [["role": "assistant", "content": source["rejected"] as! String]])
        XCTAssertEqual(framed["prompt"] as? String, "Q: " + (source["prompt"] as! String))
        XCTAssertEqual(framed["rejected"] as? String, source["rejected"] as? String)
    }
}

final class ChatTokenizationTests: XCTestCase {
    static let gguf = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf").path

    /// Through the model's own template (SmolLM2's, from its GGUF file, which adds its default
    /// system message), only what each assistant turn adds is a target: its words and the
    /// `<|im_end|>` and newline the template writes after them.
    func testAssistantTurnsOfTheModelsTemplateAreTheTargets() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.gguf), "models/ is fetched by `make models`")
        let file = try GGUFFile(path: Self.gguf)
        let tokenizer = try file.bpeTokenizer()
        let template = try ChatTemplate(jinja: file.string("tokenizer.chat_template"))
        let chat: [[String: Any]] = [["role": "user", "content": "2+2?"], ["role": "assistant", "content": "4"],
                                     ["role": "user", "content": "And 3+3?"], ["role": "assistant", "content": "6"]]
        let (ids, mask) = try TokenizerRunners.templated(chat, template, tokenizer)
        XCTAssertEqual(tokenizer.decode(ids), "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                       + "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n"
                       + "<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n6<|im_end|>\n")
        let targets = zip(ids, mask).filter { $0.1 == 1 }.map(\.0)
        XCTAssertEqual(tokenizer.decode(targets), "4<|im_end|>\n6<|im_end|>\n")
        XCTAssertEqual(ids.filter { $0 == tokenizer.specialTokens["<|im_start|>"] }.count, 5, "markers are special tokens, not text")
    }

    /// A conversational preference pair (TRL's layout) is one chat per side through the
    /// model's template: the prompt's turns, then the answer, whose assistant turn alone is a
    /// target, also when the prompt holds an earlier assistant turn.
    func testConversationalPairsGoThroughTheTemplateWithTheAnswerAloneAsTarget() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.gguf), "models/ is fetched by `make models`")
        let file = try GGUFFile(path: Self.gguf)
        let tokenizer = try file.bpeTokenizer()
        let jinja = try file.string("tokenizer.chat_template")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-pair-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: ["chat_template": jinja]).write(to: URL(fileURLWithPath: dir + "/tokenizer_config.json"))
        var template = ArtifactTokenizer.LazyChatTemplate(Artifact(key: "k", folder: dir, files: ["tokenizer_config.json": "d"], kind: "model"))
        let record: [String: Any] = [
            "prompt": [["role": "user", "content": "2+2?"], ["role": "assistant", "content": "4"], ["role": "user", "content": "And 3+3?"]],
            "chosen": [["role": "assistant", "content": "6"]], "rejected": [["role": "assistant", "content": "7"]],
        ]
        let eos = try XCTUnwrap(tokenizer.eos)
        for (rejected, answer) in [(false, "6"), (true, "7")] {
            let (ids, mask) = try TokenizerRunners.pairSide(record, 0, rejected: rejected, tokenizer, eos: eos, template: &template, source: "pairs")
            XCTAssertTrue(tokenizer.decode(ids).hasSuffix("<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n\(answer)<|im_end|>\n"))
            XCTAssertEqual(tokenizer.decode(zip(ids, mask).filter { $0.1 == 1 }.map(\.0)), "\(answer)<|im_end|>\n", "the prompt's answer is context")
        }
        // A text pair is the prompt, the answer and end of text.
        let text = try TokenizerRunners.pairSide(["prompt": "1+1=", "chosen": "2", "rejected": "3"], 0, rejected: true, tokenizer, eos: eos,
                                                 template: &template, source: "pairs")
        XCTAssertEqual(text.ids, tokenizer.encode("1+1=", specials: false) + tokenizer.encode("3", specials: false) + [eos])
    }

    /// With ChatML tokens in the vocabulary, only the assistant's words (and their end marker) are targets.
    func testChatMLMasksEverythingButTheAssistant() throws {
        let tokenizer = try BPETrainer(vocabSize: 0, specialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]).train([String]())
        let messages: [[String: Any]] = [["role": "user", "content": "hi"], ["role": "assistant", "content": "yo"]]
        let chat = try XCTUnwrap(TokenizerRunners.chatML(messages, tokenizer))
        XCTAssertEqual(tokenizer.decode(chat.ids), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n")
        let learned = zip(chat.ids, chat.mask).filter { $0.1 == 1 }.map(\.0)
        XCTAssertEqual(tokenizer.decode(learned), "yo<|im_end|>")
        let plain = try BPETrainer(vocabSize: 0).train([String]())
        XCTAssertNil(TokenizerRunners.chatML(messages, plain), "no ChatML tokens: the plain rendering is used")
    }
}

/// `answer_check`: answers right as values, whatever their spelling.
final class AnswerCheckTests: XCTestCase {
    func testValuesNotStrings() {
        XCTAssertTrue(AnswerCheck.matches(#"{"city": "Oslo", "person": "Ada"}"#, #"{"person": "Ada", "city": "Oslo"}"#))
        XCTAssertTrue(AnswerCheck.matches(#"Sure: {"person":"Ada","city":"Oslo"}"#, #"{"person": "Ada", "city": "Oslo"}"#))
        XCTAssertFalse(AnswerCheck.matches(#"{"person": "Ada", "city": "Lima"}"#, #"{"person": "Ada", "city": "Oslo"}"#))
        XCTAssertFalse(AnswerCheck.matches("not json", #"{"person": "Ada"}"#))
        XCTAssertTrue(AnswerCheck.matches("85.", "85"))
        XCTAssertTrue(AnswerCheck.matches("The answer is 85", "85"))
        XCTAssertFalse(AnswerCheck.matches("47+38=85", "85"), "other numbers make it a different answer")
        XCTAssertFalse(AnswerCheck.matches("58", "85"))
        XCTAssertTrue(AnswerCheck.matches("3, 12, 47", "3 12 47"))
        XCTAssertFalse(AnswerCheck.matches("3 47 12", "3 12 47"), "order matters in a sorted list")
        XCTAssertTrue(AnswerCheck.matches("  Paris. ", "paris"))
        XCTAssertFalse(AnswerCheck.matches("Lyon", "Paris"))
        XCTAssertEqual(AnswerCheck.numbers("-3 and 4.5, then 7."), [-3, 4.5, 7])
    }

    /// `final_number`: the last number of a reasoned answer, against a numeric reference only.
    func testTheFinalNumberIsTheAnswerOfReasoning() {
        XCTAssertTrue(AnswerCheck.passes("final_number", "55 + 81: 50 + 80 = 130, 5 + 1 = 6, so 136.", "136"))
        XCTAssertFalse(AnswerCheck.passes("final_number", "136 is wrong; the answer is 135", "136"), "only the last number counts")
        XCTAssertFalse(AnswerCheck.passes("final_number", "no number at all", "136"))
        XCTAssertFalse(AnswerCheck.passes("final_number", "Paris", "Paris"), "a reference that is not a number never passes")
        XCTAssertFalse(AnswerCheck.passes("final_number", "3 12 47", "3 12 47"), "nor a list of numbers")
        XCTAssertTrue(AnswerCheck.passes("final_number", "It is -4.5.", "-4.5"))
    }
}
