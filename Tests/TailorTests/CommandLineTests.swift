import Foundation
import XCTest

/// The `tailor` binary's exit codes and streams, run as a user would.
final class CommandLineTests: XCTestCase {
    /// The built binary in the build folder of the tests (`.build/<triple>/debug/tailor`);
    /// the test target depends on `tailor`, so `swift test` always builds it.
    var binary: URL {
        let bundle = Bundle(for: Self.self).bundleURL
        let candidates = [bundle.appendingPathComponent("tailor"), bundle.deletingLastPathComponent().appendingPathComponent("tailor")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    func run(_ args: [String], environment extra: [String: String] = [:], in folder: URL = Golden.root) throws -> (code: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.currentDirectoryURL = folder
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env.merge(extra) { _, new in new }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// What a user sees when their data is bad, for each spec in `specs/bad-data/`: exit 1 and
    /// the error in `golden/bad-data/NAME.txt` (one line per kind of problem, with a count).
    func testBadDataErrorsAreGolden() throws {
        let specs = Golden.specs(in: "specs/bad-data")
        XCTAssertGreaterThanOrEqual(specs.count, 5)
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-bad-data-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: cache) }
        for spec in specs {
            let result = try run(["run", spec, "--cache", cache, "--quiet"])
            XCTAssertEqual(result.code, 1, spec)
            let name = (spec as NSString).lastPathComponent.replacingOccurrences(of: ".yaml", with: "")
            Golden.assertMatches(result.err, file: "bad-data/\(name).txt")
        }
    }

    func testExitCodes() throws {
        let ok = try run(["check", "specs/quickstart.yaml"])
        XCTAssertEqual(ok.code, 0)
        XCTAssertEqual(ok.out, "specs/quickstart.yaml: ok\n")

        let bad = try run(["check", "specs/invalid/unknown-key.yaml"])
        XCTAssertEqual(bad.code, 1)
        XCTAssertTrue(bad.err.hasPrefix("specs/invalid/unknown-key.yaml:5:31: error: unknown key 'cout' in dataset\n"))

        let usage = try run(["plan", "--no-such-flag", "specs/quickstart.yaml"])
        XCTAssertEqual(usage.code, 2)
        let missing = try run(["plan", "specs/nowhere.yaml"])
        XCTAssertEqual(missing.code, 1)
        XCTAssertTrue(missing.err.contains("cannot read 'specs/nowhere.yaml'"))
    }

    func testPlanJSONAndGraph() throws {
        let plan = try run(["plan", "specs/quickstart.yaml", "--json"])
        XCTAssertEqual(plan.code, 0)
        let json = try JSONSerialization.jsonObject(with: Data(plan.out.utf8)) as? [String: Any]
        XCTAssertEqual((json?["nodes"] as? [Any])?.count, 11)
        let dot = try run(["graph", "specs/quickstart.yaml", "--format", "dot"])
        XCTAssertTrue(dot.out.contains("\"model.base.init\" -> \"model.base\";"))
        let diag = try run(["check", "specs/invalid/cycle.yaml", "--diagnostics-format", "json"])
        XCTAssertEqual(diag.code, 1)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(diag.err.utf8)))
    }

    /// `plan --explain-data` tokenizes (never trains) and marks the tokens the loss is on.
    func testExplainDataShowsTheLossMask() throws {
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-explain-\(getpid())")
        defer { try? FileManager.default.removeItem(at: cache) }
        let result = try run(["plan", "specs/quickstart.yaml", "--explain-data", "--examples", "2", "--cache", cache.path])
        XCTAssertEqual(result.code, 0, result.err)
        let preview = result.out.components(separatedBy: "data as training sees it (loss on «…»):\n").last ?? ""
        XCTAssertTrue(preview.hasPrefix("tokens.split.train@bpe: 3600 examples,"), preview)
        XCTAssertTrue(preview.contains("read by model.base, model.tuned"), preview)
        // Addition prompts: "a+b=" is context, the sum and end of text are learned.
        let texts = preview.split(separator: "\n").filter { $0.hasPrefix("    text:   ") }
        XCTAssertEqual(texts.count, 4)
        for line in texts { XCTAssertNotNil(line.range(of: #"^    text:   \d+\+\d+=«\d+<\|endoftext\|>»$"#, options: .regularExpression), String(line)) }
        let artifacts = try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("artifacts").path)
        XCTAssertFalse(artifacts.isEmpty)
        XCTAssertEqual(try run(["plan", "specs/quickstart.yaml", "--explain-data", "--json"]).code, 2)
    }

    /// The model commands on the tiny checkpoints kept with the model tests (no download needed).
    func testModelCommands() throws {
        let tiny = "Tests/TailorModelsTests/Fixtures/tiny-llama"
        let inspect = try run(["inspect", tiny])
        XCTAssertEqual(inspect.code, 0, inspect.err)
        XCTAssertTrue(inspect.out.contains("architecture: llama (decoder)"), inspect.out)
        XCTAssertTrue(inspect.out.contains("parameters: 19616"), inspect.out)
        // The folder has no tokenizer: generating is a usage error, named.
        let noTokenizer = try run(["generate", tiny, "--prompt", "hi"])
        XCTAssertEqual(noTokenizer.code, 2)
        XCTAssertTrue(noTokenizer.err.contains("has no tokenizer.json"), noTokenizer.err)
        let missing = try run(["generate", "models/none.gguf", "--prompt", "hi"])
        XCTAssertEqual(missing.code, 1)
        XCTAssertEqual(missing.err, "error: models/none.gguf: does not exist\n")
        let badOption = try run(["generate", tiny, "--prompt", "hi", "--top-p", "0"])
        XCTAssertEqual(badOption.code, 2)
        // A truncated GGUF is a plain error with exit 1, not a crash.
        let cut = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-cut-\(getpid()).gguf")
        defer { try? FileManager.default.removeItem(at: cut) }
        try Data("GGUF".utf8 + [3, 0, 0, 0, 1, 0]).write(to: cut)
        let truncated = try run(["inspect", cut.path])
        XCTAssertEqual(truncated.code, 1)
        XCTAssertTrue(truncated.err.contains("it is truncated"), truncated.err)
        // convert writes a folder that reads back.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-convert-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        let convert = try run(["convert", tiny, out.path])
        XCTAssertEqual(convert.code, 0, convert.err)
        XCTAssertEqual(try run(["inspect", out.path]).out.replacingOccurrences(of: out.path, with: tiny), inspect.out)
    }

    /// `tailor run` as a user meets it: a first run, a cached rerun, --only, and a refusal
    /// that names the node a later version executes, at its place in the spec.
    func testRunCommand() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-run-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let spec = try writeTinySpec(in: dir)
        let first = try run(["run", spec, "--lock"])
        XCTAssertEqual(first.code, 0, first.err)
        XCTAssertTrue(first.out.contains("tiny: 8 nodes, 8 ran, 0 cached"), first.out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("tiny.lock").path))
        let runs = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs/tiny").path)
        XCTAssertEqual(runs.count, 1)
        let record = dir.appendingPathComponent("runs/tiny/\(runs[0])")
        for file in ["lock.json", "plan.json", "spec.yaml", "run.json", "metrics.json", "report.md", "report.html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: record.appendingPathComponent(file).path), file)
        }
        // The lock reproduces in a fresh cache; a lock that disagrees fails, naming the node.
        let repro = try run(["repro", spec])
        XCTAssertEqual(repro.code, 0, repro.err + repro.out)
        XCTAssertTrue(repro.out.contains("reproduced: all 8 artifacts match the lock"), repro.out)
        let lockPath = dir.appendingPathComponent("tiny.lock").path
        let lockText = try String(contentsOfFile: lockPath, encoding: .utf8)
        var lock = try JSONSerialization.jsonObject(with: Data(lockText.utf8)) as! [String: Any]
        var nodes = lock["nodes"] as! [[String: Any]]
        nodes[2]["digest"] = "sha256:" + String(repeating: "0", count: 64)
        lock["nodes"] = nodes
        try JSONSerialization.data(withJSONObject: lock).write(to: URL(fileURLWithPath: lockPath))
        let mismatch = try run(["repro", spec])
        XCTAssertEqual(mismatch.code, 1)
        XCTAssertTrue(mismatch.out.contains("tokenizer.bpe") && mismatch.out.contains("NO"), mismatch.out)
        XCTAssertTrue(mismatch.out.contains("1 of 8 artifacts differ from the lock"), mismatch.out)

        let html = try String(contentsOf: record.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("<svg") && html.contains("Training loss: model.base") && html.contains("Eval: eval.check"), html)
        XCTAssertEqual(html.components(separatedBy: "<rect").count - 1, 8, "one box per node in the graph")
        // Events for programs: one JSON object per line, ending with a summary.
        let events = try run(["run", spec, "--events", "json"])
        let objects = try events.out.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(objects.filter { $0["event"] as? String == "finished" }.count, 8)
        XCTAssertEqual(objects.last?["event"] as? String, "summary")
        XCTAssertEqual(objects.last?["cached"] as? Int, 8)

        let second = try run(["run", spec, "--quiet"])
        XCTAssertTrue(second.out.contains("0 ran, 8 cached"), second.out)
        let only = try run(["run", spec, "--only", "tokenizer.bpe", "--quiet"])
        XCTAssertTrue(only.out.contains("tiny: 3 nodes, 0 ran, 3 cached"), only.out)
        let unknown = try run(["run", spec, "--only", "model.nope"])
        XCTAssertEqual(unknown.code, 2)

        // A server is not a node `tailor run` runs: refused before anything runs, at its place,
        // naming the command that starts it.
        try (try String(contentsOfFile: spec, encoding: .utf8) + "\nserve:\n  models: [base]\n").write(toFile: spec, atomically: true, encoding: .utf8)
        let refused = try run(["run", spec])
        XCTAssertEqual(refused.code, 1)
        XCTAssertTrue(refused.err.contains("tiny.yaml:17:3:"), refused.err)
        XCTAssertTrue(refused.err.contains("'serve' is a server, which `tailor run` does not start: start it with `tailor serve SPEC`"), refused.err)
        XCTAssertTrue(refused.out.isEmpty, "nothing ran: \(refused.out)")

        // `tailor serve SPEC` serves the section's models from the cache the run filled.
        let (server, said) = try serve([spec, "--port", "0"])
        defer { if server.isRunning { server.terminate() } }
        XCTAssertTrue(said.contains("serving 'base' on http://127.0.0.1:"), said)
        let (status, printed) = try python(["-c", """
            import json, sys, urllib.request
            body = json.dumps({"model": "base", "prompt": "ab", "max_tokens": 3, "temperature": 0}).encode()
            answer = json.load(urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/completions", body, {"Content-Type": "application/json"})))
            print(answer["object"], answer["usage"]["completion_tokens"])
            """, try address(said)])
        XCTAssertEqual(status, 0, printed)
        XCTAssertEqual(printed, "text_completion 3\n")
    }

    /// A small runnable spec (reversed words, BPE, a one-layer GPT-2, a loss eval) in `dir`.
    func writeTinySpec(in dir: URL) throws -> String {
        let spec = dir.appendingPathComponent("tiny.yaml").path
        try """
            tailor: 1
            name: tiny
            data:
              words: { generate: reverse, count: 200 }
              split: { from: words, split: { train: 0.9, test: 0.1 } }
            tokenizers:
              bpe: { train: { from: split.train, vocab: 300 } }
            models:
              base:
                arch: gpt2
                size: { layers: 1, width: 32, heads: 2, context: 32 }
                tokenizer: bpe
                pretrain: { data: split.train, steps: 3, batch: 4 }
            evals:
              check: { models: [base], data: split.test, metrics: [loss] }
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        return spec
    }

    /// `tailor ARGS` started in the background, its output discarded.
    func start(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// The digest of `model.base` in the lock of the run record that `tailor run` printed.
    func modelDigest(_ output: String, node: String = "model.base") throws -> String {
        let summary = try XCTUnwrap(output.split(separator: "\n").first { $0.contains("; record ") })
        let record = String(summary.split(separator: " ").last!)
        let lock = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: record + "/lock.json"))) as! [String: Any]
        return (lock["nodes"] as! [[String: Any]]).first { $0["id"] as? String == node }!["digest"] as! String
    }

    /// `tailor serve ARGS` started, and what it said up to the line naming its address:
    /// `serving 'NAME' on http://127.0.0.1:PORT/v1` (`tailor label`: `labelling … on URL`).
    func serve(_ args: [String], command: String = "serve", ready: String = "serving") throws -> (Process, said: String) {
        let server = Process(), err = Pipe()
        server.executableURL = binary
        server.arguments = [command] + args
        server.currentDirectoryURL = Golden.root
        server.standardOutput = FileHandle.nullDevice
        server.standardError = err
        try server.run()
        var said = ""
        while !said.contains(ready), server.isRunning {
            let data = err.fileHandleForReading.availableData
            if data.isEmpty { break }
            said += String(decoding: data, as: UTF8.self)
        }
        return (server, said)
    }

    /// The server's base URL in what `serve` said.
    func address(_ said: String) throws -> String {
        try XCTUnwrap(said.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("http://") }.map(String.init), said)
    }

    /// `python3 ARGS`: its exit status and everything it printed.
    func python(_ args: [String]) throws -> (status: Int32, printed: String) {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + args
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, printed)
    }

    /// `tailor label`'s page in headless Chromium (Tests/Label/label_page.py): three pairs labelled
    /// with a click, a key and a tie key land in the labels files as chosen; a run's report.html
    /// renders its graph. Killed and started again, the server has nothing left to label; the labels
    /// train `dpo:`; a pairs file with broken lines is refused with one line per kind of problem.
    func testLabelPageInHeadlessChromium() throws {
        let inCI = ProcessInfo.processInfo.environment["CI"] != nil
        guard try python(["-c", "import shutil, websocket; assert shutil.which('chromium')"]).status == 0 else {
            if inCI { XCTFail("chromium or websocket-client is missing: `make test` installs them") }
            throw XCTSkip("apt-get install chromium; pip install websocket-client")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-label-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let pairs = dir.appendingPathComponent("pairs.jsonl").path, labels = dir.appendingPathComponent("labels.jsonl").path
        try """
            {"prompt": "What is 2+2?", "responses": ["4", "5"]}
            {"prompt": "Name a colour.", "responses": ["Blue.", "Table."], "id": "colour"}
            {"prompt": "The capital of France?", "responses": ["Paris", "Lyon"]}
            """.write(toFile: pairs, atomically: true, encoding: .utf8)
        let spec = try writeTinySpec(in: dir)
        let ran = try run(["run", spec, "--quiet"])
        XCTAssertEqual(ran.code, 0, ran.err)
        let record = try XCTUnwrap(ran.out.split(separator: "\n").first { $0.contains("; record ") }?.split(separator: " ").last.map(String.init))

        var (server, said) = try serve([pairs, "--out", labels, "--port", "0"], command: "label", ready: "labelling")
        defer { if server.isRunning { server.terminate() } }
        XCTAssertTrue(said.contains("labelling 3 of 3 pairs into \(labels) on http://127.0.0.1:"), said)
        let url = try address(said)
        let screenshots = ProcessInfo.processInfo.environment["TAILOR_SCREENSHOTS"].map { ["--screenshots", $0] } ?? []
        let (status, printed) = try python([Golden.root.appendingPathComponent("Tests/Label/label_page.py").path, url, labels,
                                            "--report", record + "/report.html"] + screenshots)
        XCTAssertEqual(status, 0, printed)
        XCTAssertEqual(printed, "labels checked: 3\nreport checked: 8 boxes\n")
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        (server, said) = try serve([pairs, "--out", labels, "--port", "0"], command: "label", ready: "labelling")
        XCTAssertTrue(said.contains("labelling 0 of 3 pairs"), said)
        let next = try python(["-c", "import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1] + 'api/next'))['done'])", try address(said)])
        XCTAssertEqual(next.printed, "True\n")
        server.terminate()

        // The labels are preference data as `dpo:` reads them.
        let dpo = dir.appendingPathComponent("dpo.yaml").path
        try """
            tailor: 1
            name: from-labels
            data:
              prefs: { file: labels.jsonl, format: preference }
            tokenizers:
              bytes: { bytes: true }
            models:
              base: { arch: gpt2, size: { layers: 1, width: 16, heads: 2, context: 64 }, tokenizer: bytes }
              aligned: { from: base, dpo: { beta: 0.1 }, train: { data: prefs, steps: 2, batch: 2 } }
            """.write(toFile: dpo, atomically: true, encoding: .utf8)
        let trained = try run(["run", dpo, "--quiet"])
        XCTAssertEqual(trained.code, 0, trained.err)

        try "{\"prompt\": \"a\"}\nnot json\n{\"prompt\": \"b\", \"responses\": [\"x\"]}\n".write(toFile: pairs, atomically: true, encoding: .utf8)
        let refused = try run(["label", pairs, "--out", labels])
        XCTAssertEqual(refused.code, 1)
        XCTAssertEqual(refused.err, """
            error: \(pairs):1: lacks a text 'prompt' and 'responses' (a list of two texts) (2 lines, the first here)
            \(pairs):2: not a JSON object (1 line)

            """)
    }

    /// `tailor serve SPEC` serves a LoRA model of a served base as an adapter over the base's one
    /// copy of the weights: listed with the base as its parent, and answering.
    func testServeSpecServesLoRAModelsOverTheirBase() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-serve-spec-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let spec = try writeTinySpec(in: dir)
        var text = try String(contentsOfFile: spec, encoding: .utf8).replacingOccurrences(of: "evals:", with: """
              tuned:
                from: base
                lora: { rank: 4, alpha: 8, targets: [attn.q, attn.v] }
                train: { data: split.train, steps: 3, batch: 4 }
            evals:
            """)
        text += "\nserve:\n  models: [tuned, base]\n"
        try text.write(toFile: spec, atomically: true, encoding: .utf8)
        let (server, said) = try serve([spec, "--port", "0"])
        defer { if server.isRunning { server.terminate() } }
        XCTAssertTrue(said.contains("serving 'base', 'tuned' on http://127.0.0.1:"), said)
        let (status, printed) = try python(["-c", """
            import json, sys, urllib.request
            models = json.load(urllib.request.urlopen(sys.argv[1] + "/models"))["data"]
            print([(m["id"], m.get("parent"), m["root"]) for m in models])
            for name in ("base", "tuned"):
                body = json.dumps({"model": name, "prompt": "ab", "max_tokens": 3, "temperature": 0}).encode()
                answer = json.load(urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/completions", body, {"Content-Type": "application/json"})))
                print(name, answer["usage"]["completion_tokens"])
            """, try address(said)])
        XCTAssertEqual(status, 0, printed)
        XCTAssertEqual(printed, "[('base', None, 'base'), ('tuned', 'base', 'model.tuned')]\nbase 3\ntuned 3\n")
    }

    /// `tailor serve SPEC` serves a RAG pipeline as a model: SmolLM2 answers from the passages
    /// MiniLM retrieves, which are the passages `tailor retrieve` ranks first for the same
    /// question; a chat of more than one message is refused, and the generator is not listed.
    func testServeSpecServesARAGPipeline() throws {
        let models = Golden.root.appendingPathComponent("models").path
        guard FileManager.default.fileExists(atPath: models + "/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
              FileManager.default.fileExists(atPath: models + "/all-MiniLM-L6-v2/model.safetensors") else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("models/ is missing: CI must run `make models`") }
            throw XCTSkip("models/ is fetched by `make models`")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-serve-rag-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let spec = dir.appendingPathComponent("rag.yaml").path
        try """
            tailor: 1
            name: served-rag
            seed: 3
            data:
              docs: { generate: documents, count: 20, options: { facts: 3 } }
            models:
              smol: { load: \(models)/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf }
              minilm: { load: \(models)/all-MiniLM-L6-v2 }
            prompts:
              with-context:
                template: "Answer the question in a few words, using the context.\\n\\nContext:\\n{context}\\n\\nQuestion: {question}"
                style: chatml
                system: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
            rag:
              facts: { documents: docs, chunk: { size: 2, overlap: 0, unit: sentences }, embed: minilm, top_k: 2, generator: smol, prompt: with-context }
            serve:
              rag: [facts]
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let question = "In which town was the person born?"
        let queries = dir.appendingPathComponent("q.jsonl").path
        try #"{"id": "q", "text": "\#(question)"}"#.write(toFile: queries, atomically: true, encoding: .utf8)
        let retrieve = try run(["retrieve", spec, "--rag", "facts", "--queries", queries, "-k", "1"])
        XCTAssertEqual(retrieve.code, 0, retrieve.err)
        let first = try XCTUnwrap(retrieve.out.split(separator: "\n").first?.split(separator: " ").dropFirst(2).first.map(String.init))

        let (server, said) = try serve([spec, "--port", "0"])
        defer { if server.isRunning { server.terminate() } }
        XCTAssertTrue(said.contains("serving 'facts' on http://127.0.0.1:"), said)
        let (status, printed) = try python(["-c", """
            import json, sys, urllib.error, urllib.request
            def post(path, body):
                request = urllib.request.Request(sys.argv[1] + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
                try:
                    return 200, json.load(urllib.request.urlopen(request))
                except urllib.error.HTTPError as e:
                    return e.code, json.load(e)
            print([(m["id"], m.get("parent"), m["root"]) for m in json.load(urllib.request.urlopen(sys.argv[1] + "/models"))["data"]])
            status, answer = post("/chat/completions", {"model": "facts", "messages": [{"role": "user", "content": sys.argv[2]}], "max_tokens": 12, "temperature": 0})
            print(status, len(answer["retrieved"]), answer["retrieved"][0].split("#")[0], answer["usage"]["completion_tokens"] > 0)
            status, answer = post("/chat/completions", {"model": "facts", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": sys.argv[2]}]})
            print(status, answer["error"]["param"])
            """, try address(said), question])
        XCTAssertEqual(status, 0, printed)
        XCTAssertEqual(printed, "[('facts', 'smol', 'rag.facts')]\n200 2 \(first) True\n400 messages\n")
    }

    /// `tailor serve` answers the official `openai` Python client (Tests/Serve/openai_client.py):
    /// models, chat (plain and streamed to the same text), text completions, and its errors for
    /// an unknown model, a wrong key and a bad setting; and, serving MiniLM, embeddings as the
    /// client asks for them (Tests/Serve/openai_embeddings.py). SIGTERM then stops it with exit 0.
    func testServeAnswersTheOfficialOpenAIClient() throws {
        let inCI = ProcessInfo.processInfo.environment["CI"] != nil
        guard try python(["-c", "import openai"]).status == 0 else {
            if inCI { XCTFail("the openai client is missing: `make test` installs it") }
            throw XCTSkip("pip install openai")
        }
        for (model, script, expected) in [("models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "openai_client.py", "wrong key refused: 401"),
                                          ("models/all-MiniLM-L6-v2", "openai_embeddings.py", "embeddings 3")] {
            let path = Golden.root.appendingPathComponent(model).path
            guard FileManager.default.fileExists(atPath: path) else {
                if inCI { XCTFail("\(path) is missing: CI must run `make models`") }
                throw XCTSkip("models/ is fetched by `make models`")
            }
            let (server, said) = try serve([path, "--port", "0", "--name", "served", "--api-key", "sk-test"])
            defer { if server.isRunning { server.terminate() } }
            let (status, printed) = try python([Golden.root.appendingPathComponent("Tests/Serve/" + script).path, try address(said), "sk-test", "served"])
            XCTAssertEqual(status, 0, printed)
            XCTAssertTrue(printed.contains(expected), printed)
            server.terminate()  // SIGTERM
            server.waitUntilExit()
            XCTAssertEqual(server.terminationStatus, 0, "a SIGTERM is a clean stop")
        }
    }

    /// `tailor retrieve SPEC --rag NAME --queries FILE -k N` builds the pipeline's index and
    /// prints a TREC run: k documents a query, ranks counting up, scores descending. A bad
    /// queries file is a data error naming its lines; a pipeline the spec lacks is a usage error.
    func testRetrievePrintsATrecRunForQueries() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-retrieve-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let spec = dir.appendingPathComponent("rag.yaml").path
        try """
            tailor: 1
            name: retrieve
            seed: 4
            data:
              docs: { generate: documents, count: 8, options: { facts: 2 } }
            tokenizers:
              bytes: { bytes: true }
            models:
              encoder: { arch: bert, size: { layers: 1, width: 16, heads: 2, context: 128 }, tokenizer: bytes }
            rag:
              facts: { documents: docs, embed: encoder, metric: dot, chunk: { size: 24, overlap: 6, unit: tokens } }
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let queries = dir.appendingPathComponent("queries.jsonl")
        try #"{"id": "a", "text": "Where was she born?"}\#n{"id": 7, "text": "Who plays the cello?"}\#n"#.write(to: queries, atomically: true, encoding: .utf8)
        let r = try run(["retrieve", spec, "--rag", "facts", "--queries", queries.path, "-k", "3"])
        XCTAssertEqual(r.code, 0, r.err)
        let lines = r.out.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(lines.map { $0[0] }, ["a", "a", "a", "7", "7", "7"])
        XCTAssertEqual(lines.map { $0[3] }, ["1", "2", "3", "1", "2", "3"])
        XCTAssertTrue(lines.allSatisfy { $0.count == 6 && $0[1] == "Q0" && $0[5] == "tailor" })
        for q in [lines[0..<3], lines[3..<6]] {
            let scores = q.map { Float($0[4])! }
            XCTAssertEqual(scores, scores.sorted(by: >), "scores descend")
        }
        XCTAssertEqual(try run(["retrieve", spec, "--rag", "nope", "--queries", queries.path]).code, 2)
        try "{\"id\": 1}\nnot json\n".write(to: queries, atomically: true, encoding: .utf8)
        let bad = try run(["retrieve", spec, "--rag", "facts", "--queries", queries.path])
        XCTAssertEqual(bad.code, 1)
        XCTAssertTrue(bad.err.contains("2 lines are not a query"), bad.err)
    }

    /// `tailor score SPEC --model NAME` builds the spec's reward model (from the cache the
    /// second time) and scores an answer to a prompt; the answer it was taught to prefer scores
    /// higher. Misused options are usage errors.
    func testScoreWithASpecsRewardModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-score-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try (0..<40).map { #"{"prompt": "q\#($0) ", "chosen": "good", "rejected": "bad"}"# }.joined(separator: "\n")
            .write(to: dir.appendingPathComponent("pairs.jsonl"), atomically: true, encoding: .utf8)
        let spec = dir.appendingPathComponent("judge.yaml").path
        try """
            tailor: 1
            name: judge
            seed: 4
            data:
              pairs: { file: pairs.jsonl, format: preference }
            tokenizers:
              bytes: { bytes: true }
            models:
              base: { arch: gpt2, size: { layers: 1, width: 32, heads: 2, context: 16 }, tokenizer: bytes }
              judge: { from: base, reward: {}, train: { data: pairs, steps: 30, batch: 8, lr: 3e-3 } }
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        func reward(_ answer: String) throws -> Double {
            let r = try run(["score", spec, "--model", "judge", "--prompt", "q77 ", "--text", answer])
            XCTAssertEqual(r.code, 0, r.err)
            let json = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
            XCTAssertEqual(json["tokens"] as? Int, 4 + answer.utf8.count + 1)
            return try XCTUnwrap(json["reward"] as? Double)
        }
        XCTAssertGreaterThan(try reward("good"), try reward("bad"))
        XCTAssertEqual(try run(["score", spec, "--text", "good"]).code, 2, "a spec needs --model")
        XCTAssertEqual(try run(["score", dir.path, "--set", "seed=1", "--text", "good"]).code, 2, "--set is for a spec")
        XCTAssertEqual(try run(["score", spec, "--model", "base", "--prompt", "q1", "--text", "good"]).code, 2, "--prompt is for reward models")
        let lm = try run(["score", spec, "--model", "base", "--text", "good answer"])
        XCTAssertEqual(lm.code, 0, lm.err)
        XCTAssertTrue(lm.out.contains("mean_loss"), lm.out)
    }

    func testCacheCommands() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-cache-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let spec = try writeTinySpec(in: dir)
        XCTAssertEqual(try run(["run", spec, "--quiet"]).code, 0)
        let cache = dir.appendingPathComponent(".tailor").path
        let ls = try run(["cache", "ls", "--cache", cache])
        XCTAssertEqual(ls.out.split(separator: "\n").count, 8, ls.out)
        XCTAssertTrue(ls.out.contains("train.pretrain") && ls.out.contains("used by 1"), ls.out)
        XCTAssertTrue(try run(["cache", "verify", "--cache", cache]).out.contains("all 8 artifacts match"))
        // Damage one file: verify names it and fails; the next run recomputes it.
        let tokenizer = try FileManager.default.subpathsOfDirectory(atPath: cache + "/artifacts").first { $0.hasSuffix("tokenizer.json") }!
        try Data("{}".utf8).write(to: URL(fileURLWithPath: cache + "/artifacts/" + tokenizer))
        let verify = try run(["cache", "verify", "--cache", cache])
        XCTAssertEqual(verify.code, 1)
        XCTAssertTrue(verify.out.contains("'tokenizer.json' does not match its digest"), verify.out)
        let rerun = try run(["run", spec])
        XCTAssertTrue(rerun.out.contains("recomputed") && rerun.out.contains("1 ran, 7 cached"), rerun.out)
        // Without run records nothing is referenced: gc removes everything (dry run first).
        try FileManager.default.removeItem(at: dir.appendingPathComponent("runs"))
        XCTAssertTrue(try run(["cache", "gc", "--cache", cache, "--dry-run"]).out.contains("would remove 8 artifacts"))
        XCTAssertTrue(try run(["cache", "gc", "--cache", cache]).out.contains("removed 8 artifacts"))
        XCTAssertTrue(try run(["cache", "ls", "--cache", cache]).out.isEmpty)
    }

    /// `tailor run` and `tailor cache` find the same cache by default: the project's `.tailor`
    /// at the root of the git work tree, whichever folder of it they start from.
    func testRunAndCacheShareTheProjectCache() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-project-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let specs = dir.appendingPathComponent("specs")
        try FileManager.default.createDirectory(at: specs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try """
        tailor: 1
        name: words
        data:
          sums: { generate: addition, count: 20 }
          parts: { from: sums, split: { train: 0.5, test: 0.5 } }
        """.write(to: specs.appendingPathComponent("words.yaml"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(["run", "specs/words.yaml", "--quiet"], in: dir).code, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(".tailor/artifacts").path), "the cache is at the project root")
        XCTAssertFalse(FileManager.default.fileExists(atPath: specs.appendingPathComponent(".tailor").path), "not beside the spec")
        for folder in [dir, specs] {
            let ls = try run(["cache", "ls"], in: folder)
            XCTAssertEqual(ls.code, 0, ls.err)
            XCTAssertEqual(ls.out.split(separator: "\n").count, 2, ls.out)
        }
        let rerun = try run(["run", "words.yaml"], in: specs)
        XCTAssertTrue(rerun.out.contains("0 ran, 2 cached"), "a run from inside the project finds the same cache: \(rerun.out)")
    }

    /// `tailor job` runs a node's inputs and describes the node; `tailor exec-node` (what a
    /// batch worker runs) builds it into the cache under the key `tailor run` then finds. A job
    /// whose files, inputs or Tailor changed is refused, never built under the wrong key.
    func testAJobRunsElsewhereIntoTheSameCache() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-job-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try (0..<60).map { "{\"prompt\": \"\($0)+1=\", \"response\": \"\($0 + 1)\"}" }.joined(separator: "\n")
            .write(to: dir.appendingPathComponent("sums.jsonl"), atomically: true, encoding: .utf8)
        let spec = dir.appendingPathComponent("job.yaml").path
        try """
        tailor: 1
        name: job
        data:
          sums: { file: sums.jsonl, format: instruction }
        tokenizers:
          bytes: { bytes: true }
        models:
          base:
            arch: gpt2
            size: { layers: 1, width: 16, heads: 2, context: 16 }
            tokenizer: bytes
            pretrain: { data: sums, steps: 12 }
        """.write(toFile: spec, atomically: true, encoding: .utf8)
        let job = dir.appendingPathComponent("base.job.json").path
        let written = try run(["job", spec, "model.base", "-o", job, "--quiet"])
        XCTAssertEqual(written.code, 0, written.err)
        let text = try String(contentsOfFile: job, encoding: .utf8)
        XCTAssertTrue(text.contains("\"role\":\"base\"") && text.contains("\"kind\":\"train.pretrain\""), text)
        let listed = try run(["plan", spec])
        XCTAssertTrue(listed.out.contains("4 cached, 1 to run"), "the job ran the inputs, not the node: \(listed.out)")
        let executed = try run(["exec-node", job])
        XCTAssertEqual(executed.code, 0, executed.err)
        XCTAssertTrue(executed.out.contains("model.base: ran"), executed.out)
        XCTAssertTrue(try run(["exec-node", job]).out.contains("model.base: cached"))
        let rerun = try run(["run", spec])
        XCTAssertTrue(rerun.out.contains("0 ran, 5 cached"), "the worker's artifact is the run's: \(rerun.out)")
        // A job from another Tailor, or whose data changed, is refused.
        try text.replacingOccurrences(of: "\"kind_version\":2", with: "\"kind_version\":1").write(toFile: job + ".old", atomically: true, encoding: .utf8)
        let old = try run(["exec-node", job + ".old"])
        XCTAssertEqual(old.code, 1)
        XCTAssertTrue(old.err.contains("write the job again with this Tailor"), old.err)
        let other = try text.replacingOccurrences(of: "\"seed\":0", with: "\"seed\":1")
        try other.write(toFile: job + ".seed", atomically: true, encoding: .utf8)
        let tampered = try run(["exec-node", job + ".seed"])
        XCTAssertEqual(tampered.code, 1)
        XCTAssertTrue(tampered.err.contains("computes the job's key as"), tampered.err)
        XCTAssertEqual(try run(["exec-node", dir.appendingPathComponent("nope.json").path]).code, 1)
        // The job of a node that reads a file names its digest: a file changed since is refused.
        let load = dir.appendingPathComponent("sums.job.json").path
        XCTAssertEqual(try run(["job", spec, "data.sums", "-o", load, "--quiet"]).code, 0)
        try "{\"prompt\": \"1+1=\", \"response\": \"2\"}\n".write(to: dir.appendingPathComponent("sums.jsonl"), atomically: true, encoding: .utf8)
        let changed = try run(["exec-node", load])
        XCTAssertEqual(changed.code, 1)
        XCTAssertTrue(changed.err.contains("'sums.jsonl' has changed since the job was written"), changed.err)
    }

    /// A training run killed with SIGKILL resumes from its last checkpoint, and its model is
    /// bit-identical to a run that was never interrupted.
    func testKilledTrainingResumesBitIdentical() throws {
        try killAndResume(named: "kill", ["--set", "models.base.pretrain.steps=400"])
    }

    /// The same with evals during training and early stopping: killed after an eval, the run
    /// resumes with the evals so far, the best weights and the patience spent, and ends with
    /// the same model and training log (both are in the artifact's digest).
    /// The same for a classification head trained with its encoder, with held-out evals.
    func testKilledHeadTrainingResumesBitIdentical() throws {
        try killAndResume(named: "kill-head", [], spec: { dir in
            let spec = dir.appendingPathComponent("head.yaml").path
            try """
                tailor: 1
                name: head
                data:
                  reviews: { generate: sentiment, count: 300, options: { classes: 2 } }
                  parts: { from: reviews, split: { train: 0.8, test: 0.2 } }
                tokenizers:
                  bytes: { bytes: true }
                models:
                  encoder: { arch: bert, size: { layers: 2, width: 32, heads: 2, context: 64 }, tokenizer: bytes }
                  probe:
                    from: encoder
                    head: { labels: 2, freeze: none }
                    train: { data: parts.train, steps: 150, batch: 8, eval: { data: parts.test, every: 25, patience: 100 } }
                """.write(toFile: spec, atomically: true, encoding: .utf8)
            return spec
        }, node: "model.probe", training: "models.probe.train")
    }

    func testKilledTrainingWithEvalsResumesBitIdentical() throws {
        try killAndResume(named: "kill-eval", ["--set", "models.base.pretrain.steps=300",
                                               "--set", "models.base.pretrain.eval={data: split.test, every: 25, patience: 100}"])
    }

    /// The same for PPO: a resumed run starts at a fresh batch of rollouts with the KL
    /// controller, the value head, the sampler's stream and the rollout log as they were.
    func testKilledPPOTrainingResumesBitIdentical() throws {
        try killAndResume(named: "kill-ppo", [], spec: { dir in
            let pairs = (0..<40).map { #"{"prompt": "q\#($0) ", "chosen": "good", "rejected": "bad"}"# }.joined(separator: "\n") + "\n"
            try pairs.write(to: dir.appendingPathComponent("train.jsonl"), atomically: true, encoding: .utf8)
            let spec = dir.appendingPathComponent("ppo.yaml").path
            try """
                tailor: 1
                name: ppo
                data:
                  train: { file: train.jsonl, format: preference }
                tokenizers:
                  bytes: { bytes: true }
                models:
                  base: { arch: gpt2, size: { layers: 1, width: 32, heads: 2, context: 16 }, tokenizer: bytes }
                  judge:
                    from: base
                    reward: { pooling: last }
                    train: { data: train, steps: 10, batch: 8 }
                  policy:
                    from: base
                    ppo: { reward: judge, max_tokens: 4, epochs: 2, target_kl: 0.1 }
                    train: { data: train, steps: 120, batch: 8, lr: 1e-3 }
                """.write(toFile: spec, atomically: true, encoding: .utf8)
            return spec
        }, node: "model.policy", training: "models.policy.train")
    }

    /// Runs the tiny spec with `sets` and checkpoints every 25 steps, kills it with SIGKILL
    /// once a checkpoint exists, resumes it, and compares its model with a fresh run's.
    func killAndResume(named name: String, _ sets: [String], spec write: ((URL) throws -> String)? = nil,
                       node: String = "model.base", training: String = "models.base.pretrain") throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-\(name)-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let spec = try (write ?? writeTinySpec)(dir)
        let long = sets + ["--set", "\(training).checkpoint_every=25", "--quiet"]
        let p = try start(["run", spec] + long)
        let scratch = dir.appendingPathComponent(".tailor/scratch").path
        let deadline = Date().addingTimeInterval(120)
        var checkpointed = false
        while Date() < deadline, p.isRunning, !checkpointed {
            checkpointed = ((try? FileManager.default.subpathsOfDirectory(atPath: scratch)) ?? []).contains { $0.hasSuffix("checkpoint.safetensors") }
            usleep(20_000)
        }
        XCTAssertTrue(checkpointed, "a checkpoint was written before the run ended")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)

        let resumed = try run(["run", spec] + long.dropLast())
        XCTAssertEqual(resumed.code, 0, resumed.err)
        XCTAssertTrue(resumed.out.contains("resumed from the checkpoint at step"), resumed.out)
        let fresh = try run(["run", spec, "--cache", dir.appendingPathComponent("fresh").path] + long)
        XCTAssertEqual(fresh.code, 0, fresh.err)
        XCTAssertEqual(try modelDigest(resumed.out, node: node), try modelDigest(fresh.out, node: node))
        XCTAssertFalse(((try? FileManager.default.subpathsOfDirectory(atPath: scratch)) ?? []).contains { $0.hasSuffix(".safetensors") },
                       "the scratch space is cleared once the artifact is stored")
    }

    /// Two runs of one spec on one cache at once: both succeed and every node is computed once.
    func testConcurrentRunsShareTheCacheWithoutDoubleWork() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-twice-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let spec = try writeTinySpec(in: dir)
        let processes = (0..<2).map { _ -> (Process, Pipe) in
            let p = Process(), out = Pipe()
            p.executableURL = binary
            p.arguments = ["run", spec, "--quiet", "--set", "models.base.pretrain.steps=60"]
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            return (p, out)
        }
        for (p, _) in processes { try p.run() }
        var ran = 0
        for (p, out) in processes {
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, text)
            ran += Int(text.split(separator: " ").firstIndex(of: "ran,").map { text.split(separator: " ")[$0 - 1] } ?? "0") ?? 0
        }
        XCTAssertEqual(ran, 8, "each of the 8 nodes computed by exactly one of the two runs")
        XCTAssertTrue(try run(["cache", "verify", "--cache", dir.appendingPathComponent(".tailor").path]).out.contains("all 8 artifacts match"))
    }

    /// Values no command can use are usage errors (exit 2) that say what is wrong, whether
    /// they look like options (`-1`) or are not numbers at all (`nan`).
    func testUnusableArgumentsAreUsageErrors() throws {
        let cases: [([String], [String: String], String)] = [
            (["run", "specs/quickstart.yaml", "--cache", ""], [:], "--cache needs a folder, but the path given is empty"),
            (["plan", "specs/quickstart.yaml", "--cache", ""], [:], "--cache needs a folder"),
            (["cache", "ls", "--cache", ""], [:], "--cache needs a folder"),
            (["run", "specs/quickstart.yaml"], ["TAILOR_CACHE": ""], "TAILOR_CACHE is set but empty"),
            (["run", "specs/quickstart.yaml", "--jobs", "-1"], [:], "--jobs must be at least 1"),
            (["generate", "m.gguf", "--prompt", "x", "--max-tokens", "-1"], [:], "--max-tokens must be 0 or more"),
            (["generate", "m.gguf", "--prompt", "x", "--temperature", "nan"], [:], "--temperature must be a number, 0 or more"),
            (["generate", "m.gguf", "--prompt", "x", "--temperature", "inf"], [:], "--temperature must be a number, 0 or more"),
            (["generate", "m.gguf", "--prompt", "x", "--temperature", "-0.5"], [:], "--temperature must be a number, 0 or more"),
            (["generate", "m.gguf", "--prompt", "x", "--top-p", "nan"], [:], "--top-p must be in (0, 1]"),
            (["generate", "m.gguf", "--prompt", "x", "--top-k", "-3"], [:], "--top-k must be 0 or more"),
        ]
        for (args, env, words) in cases {
            let result = try run(args, environment: env)
            XCTAssertEqual(result.code, 2, "\(args): \(result.err)")
            XCTAssertTrue(result.err.contains(words), "\(args): \(result.err)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/artifacts"), "nothing was created at the root")
    }

    /// SIGTERM (or Ctrl-C) during training: the run exits as the signal would (143, 130),
    /// leaves no half-written artifact folder, and keeps its checkpoint; a checkpoint damaged
    /// afterwards is discarded with a warning, and training restarts to the same model as a
    /// run never interrupted.
    func testInterruptedRunsLeaveNothingHalfWritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-term-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let spec = try writeTinySpec(in: dir)
        let long = ["--set", "models.base.pretrain.steps=300", "--set", "models.base.pretrain.checkpoint_every=25", "--quiet"]
        let cache = dir.appendingPathComponent(".tailor").path
        for (signal, code) in [(SIGTERM, Int32(143)), (SIGINT, Int32(130))] {
            let p = try start(["run", spec] + long)
            let deadline = Date().addingTimeInterval(120)
            // Training is under way: its output folder is being staged and a checkpoint exists.
            var training = false
            while Date() < deadline, p.isRunning, !training {
                training = ((try? FileManager.default.subpathsOfDirectory(atPath: cache + "/scratch")) ?? []).contains { $0.hasSuffix("checkpoint.safetensors") }
                    && !((try? FileManager.default.contentsOfDirectory(atPath: cache + "/tmp")) ?? []).isEmpty
                usleep(20_000)
            }
            XCTAssertTrue(training, "training was checkpointing before the run ended")
            kill(p.processIdentifier, signal)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, code)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache + "/tmp"), [], "no staging folder left behind")
        }
        let checkpoint = try XCTUnwrap(FileManager.default.subpathsOfDirectory(atPath: cache + "/scratch").first { $0.hasSuffix("checkpoint.safetensors") })
        let path = cache + "/scratch/" + checkpoint
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: path))
        let rerun = try run(["run", spec] + long)
        XCTAssertEqual(rerun.code, 0, rerun.err)
        XCTAssertTrue(rerun.err.contains("warning: model.base: the checkpoint of an earlier attempt was discarded"), rerun.err)
        let fresh = try run(["run", spec, "--cache", dir.appendingPathComponent("fresh").path] + long)
        XCTAssertEqual(try modelDigest(rerun.out), try modelDigest(fresh.out))
    }
}
