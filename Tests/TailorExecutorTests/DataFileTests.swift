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
        XCTAssertTrue(p.contains("qa.jsonl:2: missing field 'answer' (mapped to 'response') that instruction records need"), p)
        XCTAssertTrue(p.contains("qa.jsonl:3: not a JSON object"), p)
        XCTAssertTrue(p.contains("qa.jsonl:4: field 'answer' must be text, not a number"), p)
        XCTAssertFalse(p.contains(":6:"), p)
    }

    func testCSVQuotingAndColumnCounts() throws {
        let text = "text,label\n\"Hello, world\",positive\n\"She said \"\"hi\"\"\nthen left\",negative\nthree,columns,here\n"
        XCTAssertTrue(problems("l.csv", text, format: "classification").contains("l.csv:5: 3 columns, but the header has 2"))
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
