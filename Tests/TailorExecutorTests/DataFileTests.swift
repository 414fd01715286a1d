import Foundation
@testable import TailorEngine
import TailorDiagnostics
import TailorPlan
import XCTest

@testable import TailorExecutor

/// The user's data: every problem named by file, line and field, all of them in one pass.
final class DataFileTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-data-\(getpid())-\(name.hashValue)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func problems(_ name: String, _ text: String, format: String, fields: [String: String] = [:]) -> String {
        try? text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        do {
            _ = try DataFiles.load(dir + "/" + name, shownAs: name, format: format, fields: fields)
            return "no error"
        } catch { return "\(error)" }
    }

    func testJSONLProblemsNameLineAndField() {
        let text = """
            {"question": "ok", "answer": "fine"}
            {"question": "no answer"}
            not json
            {"question": "n", "answer": 42}

            {"question": "last", "answer": "ok"}
            """
        let p = problems("qa.jsonl", text, format: "instruction", fields: ["prompt": "question", "response": "answer"])
        XCTAssertEqual(p, """
            bad data in qa.jsonl:
              1 record lacks 'answer' (mapped to 'response') that instruction records need (line 2)
              1 record is not a JSON object (line 3)
              1 record has a number in 'answer', where text is needed (line 4)
            """)
    }

    /// One line per kind of problem, with a count and the first three places, and the format the
    /// records look like when it is not the one the spec names.
    func testProblemsAreCountedOncePerKindWithTheFormatTheyLookLike() {
        let alpaca = (1...120).map { #"{"instruction": "say \#($0)", "input": "", "output": "\#($0)"}"# }.joined(separator: "\n")
        XCTAssertEqual(problems("a.jsonl", alpaca, format: "instruction"), """
            bad data in a.jsonl:
              120 records lack 'prompt' that instruction records need (lines 1, 2, 3 and 117 more)
              120 records lack 'response' that instruction records need (lines 1, 2, 3 and 117 more)
              these records look like Alpaca (instruction/input/output): write `format: alpaca`
            """)
        let completions = #"{"prompt": "1+1=", "completion": "2"}"#
        XCTAssertTrue(problems("c.jsonl", completions, format: "instruction")
            .hasSuffix("these records look like prompt/completion pairs: write `format: instruction` with `fields: {response: completion}`"))
        XCTAssertFalse(problems("r.jsonl", #"{"prompt": "a", "response": 1}"#, format: "instruction").contains("look like"),
                       "records of the named format with a bad value get no hint")
    }

    /// Every layout of docs/spec.md's Data formats, read from the committed example files.
    func testOtherToolsLayoutsReadIntoTailorsRecords() throws {
        let formats = NodeParametersTests.root.appendingPathComponent("specs/data/formats").path
        func load(_ file: String, _ format: String) throws -> [[String: Any]] {
            try DataFiles.load(formats + "/" + file, shownAs: file, format: format, fields: [:]).records
        }
        let alpaca = try load("alpaca.json", "alpaca")
        XCTAssertEqual(alpaca.count, 3)
        XCTAssertEqual(alpaca[0]["prompt"] as? String, """
            Below is an instruction that describes a task, paired with an input that provides further context. \
            Write a response that appropriately completes the request.

            ### Instruction:
            Add the numbers.

            ### Input:
            12 + 30

            ### Response:

            """)
        XCTAssertEqual(alpaca[0]["response"] as? String, "42")
        for record in alpaca.dropFirst() {  // an empty or absent input: the template without one
            XCTAssertTrue((record["prompt"] as? String)?.hasPrefix("Below is an instruction that describes a task. Write") == true)
            XCTAssertFalse((record["prompt"] as? String)?.contains("### Input:") ?? true)
        }
        func roles(_ record: [String: Any], _ field: String = "messages") -> [String] {
            (record[field] as? [[String: Any]] ?? []).compactMap { $0["role"] as? String }
        }
        let shareGPT = try load("sharegpt.jsonl", "sharegpt")
        XCTAssertEqual(shareGPT.map { roles($0) }, [["system", "user", "assistant"], ["user", "assistant", "user", "assistant"]])
        XCTAssertEqual((shareGPT[0]["messages"] as? [[String: Any]])?.last?["content"] as? String, "4")
        let messages = try load("messages.jsonl", "chat")
        XCTAssertEqual(messages.map { roles($0) }, [["system", "user", "assistant"], ["user", "assistant"]])
        let pairs = try load("preference.jsonl", "preference")
        XCTAssertEqual(pairs.map { [$0["prompt"], $0["chosen"], $0["rejected"]].map { $0 as? String } },
                       [["2 + 2 =", " 4", " 5"], ["Q: 10 - 3 = A:", " 7", " 8"]],
                       "an implicit prompt is what both begin with; the space before the answers goes with them")
        let chatPairs = try load("preference-chat.jsonl", "preference")
        XCTAssertEqual(chatPairs.map { [roles($0, "prompt"), roles($0, "chosen"), roles($0, "rejected")] },
                       [[["user"], ["assistant"], ["assistant"]], [["user"], ["assistant"], ["assistant"]]])
        XCTAssertEqual(((chatPairs[1]["chosen"] as? [[String: Any]])?.first?["content"]) as? String, "9")
    }

    func testCSVQuotingAndColumnCounts() throws {
        let text = "text,label\n\"Hello, world\",positive\n\"She said \"\"hi\"\"\nthen left\",negative\nthree,columns,here\n"
        XCTAssertTrue(problems("l.csv", text, format: "classification").contains("1 record has 3 columns, but the header has 2 (line 5)"))
        try "text,label\n\"Hello, world\",positive\n\"She said \"\"hi\"\"\nthen left\",negative\n".write(toFile: dir + "/ok.csv", atomically: true, encoding: .utf8)
        let data = try DataFiles.load(dir + "/ok.csv", shownAs: "ok.csv", format: "classification", fields: [:])
        XCTAssertEqual(data.records.map { $0["text"] as? String }, ["Hello, world", "She said \"hi\"\nthen left"])
        XCTAssertEqual(data.records.map { $0["label"] as? String }, ["positive", "negative"])
    }

    func testEmptyAndUnknownFiles() {
        XCTAssertTrue(problems("e.jsonl", "\n\n", format: "text").contains("e.jsonl: no records (the dataset is empty)"))
        XCTAssertTrue(problems("x.parquet", "", format: "text").contains("reads .jsonl, .csv and .txt"))
        XCTAssertTrue(problems("p.txt", "one paragraph\nstill one\n\ntwo", format: "text") == "no error")
    }

    func testCommandsRunWithoutAShellOnTheirDeclaredInputs() throws {
        try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
        try "{\"t\": \" a \"}\n{\"t\": \"b\"}\n".write(toFile: dir + "/data/in.jsonl", atomically: true, encoding: .utf8)
        try """
            import json, sys
            rows = [json.loads(l) for l in open(sys.argv[1])]
            open(sys.argv[2], "w").write("".join(json.dumps({"text": r["t"].strip()}) + "\\n" for r in rows))
            """.write(toFile: dir + "/data/prep.py", atomically: true, encoding: .utf8)
        try """
            tailor: 1
            name: cmd
            data:
              prepared:
                command: { run: [python3, data/prep.py, data/in.jsonl, out.jsonl], inputs: [data/prep.py, data/in.jsonl], output: out.jsonl }
                format: text
              broken:
                command: { run: [python3, data/prep.py, data/missing.jsonl, out.jsonl], inputs: [data/prep.py], output: out.jsonl }
                format: text
            """.write(toFile: dir + "/cmd.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: dir + "/cmd.yaml", diagnostics: &diagnostics))
        let executor = Executor(plan: plan, store: try ArtifactStore(root: dir + "/.tailor"))
        let prepared = try executor.run([plan.node("data.prepared")!])
        let out = try Dataset.read(prepared[0].artifact.path("data.jsonl"))
        XCTAssertEqual(out.records.map { $0["text"] as? String }, ["a", "b"])
        XCTAssertThrowsError(try executor.run([plan.node("data.broken")!])) { error in
            XCTAssertTrue("\(error)".contains("failed with exit code 1"), "\(error)")
            XCTAssertTrue("\(error)".contains("No such file or directory"), "the command's own error is shown: \(error)")
        }
        // Editing a declared input changes the key: the command runs again.
        try "{\"t\": \"c\"}\n".write(toFile: dir + "/data/in.jsonl", atomically: true, encoding: .utf8)
        var d2 = DiagnosticBag()
        let replanned = try XCTUnwrap(Compiler().plan(file: dir + "/cmd.yaml", diagnostics: &d2))
        let again = try Executor(plan: replanned, store: try ArtifactStore(root: dir + "/.tailor")).run([replanned.node("data.prepared")!])
        XCTAssertEqual(again[0].status, .ran)
    }
}

final class CommandChainTests: XCTestCase {
    /// Commands that need each other: the output file is where the first command wrote it,
    /// params arrive as environment variables, and an unused param stops at the first command.
    func testCommandsChainThroughNeedsAndParams() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-chain-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try """
            tailor: 1
            name: chain
            data:
              first:
                command: { run: ["mkdir -p out && echo \\"value $TAILOR_PARAM_LR\\" > out/a.txt"], shell: true, output: out/a.txt, params: { lr: "0.1", note: base } }
                format: text
              second:
                command: { run: ["cat out/a.txt out/a.txt > b.txt"], shell: true, needs: [first], output: b.txt }
                format: text
            """.write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        func run(_ sets: [String] = []) throws -> [String: Executor.Outcome] {
            var diagnostics = DiagnosticBag()
            let plan = try XCTUnwrap(Compiler().plan(file: dir + "/c.yaml", sets: sets, diagnostics: &diagnostics), "\(diagnostics.items)")
            let outcomes = try Executor(plan: plan, store: try ArtifactStore(root: dir + "/.tailor")).run(plan.nodes)
            return Dictionary(uniqueKeysWithValues: outcomes.map { ($0.node.id, $0) })
        }
        let first = try run()
        let text = try Dataset.read(first["data.second"]!.artifact.path("data.jsonl")).records.first?["text"] as? String
        XCTAssertEqual(text, "value 0.1\nvalue 0.1")
        let note = try run(["data.first.command.params.note=changed"])
        XCTAssertEqual(note["data.first"]?.status, .ran)
        XCTAssertEqual(note["data.second"]?.status, .cached, "same output: the dependant stays cached")
        let lr = try run(["data.first.command.params.lr=0.2"])
        XCTAssertEqual(lr["data.second"]?.status, .ran)
    }
}

final class JSONTextTests: XCTestCase {
    func testNumbersBoolsAndTextKeepTheirTypes() throws {
        let parsed = try JSONSerialization.jsonObject(with: Data(#"{"zero": 0, "one": 1, "no": false, "half": 0.5, "big": 12345678901}"#.utf8))
        let swift: [String: Any] = ["flag": true, "count": 3, "ratio": 0.25, "whole": 2.0, "text": "a \"q\"\n", "list": [1, "x"] as [Any]]
        XCTAssertEqual(JSONText.render(parsed), """
            {
              "big": 12345678901,
              "half": 0.5,
              "no": false,
              "one": 1,
              "zero": 0
            }

            """)
        let text = JSONText.render(swift)
        for line in ["\"flag\": true", "\"count\": 3", "\"ratio\": 0.25", "\"whole\": 2", "\"text\": \"a \\\"q\\\"\\n\""] {
            XCTAssertTrue(text.contains(line), text)
        }
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(text.utf8)))
    }
}
