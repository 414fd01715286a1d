import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TailorModels
import TailorRuntime
import XCTest

@testable import TailorServe

/// `tailor serve`'s API over a real socket, with SmolLM2-135M-Instruct: what the `openai` client
/// sends and reads, streaming against the same answer unstreamed, and every refusal in the API's
/// error shape.
final class OpenAIServerTests: XCTestCase {
    static let gguf = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf").path

    /// SmolLM2, loaded once for every test (the server views it, never changes it), and its
    /// serving layout.
    nonisolated(unsafe) static var loaded: LoadedModel?
    nonisolated(unsafe) static var decoding: (any DecodingModel)?

    func smolLM2() throws -> LoadedModel {
        guard FileManager.default.fileExists(atPath: Self.gguf) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("\(Self.gguf) is missing: CI must run `make models`") }
            throw XCTSkip("models/ is fetched by `make models`")
        }
        if let loaded = Self.loaded { return loaded }
        Self.loaded = try LoadedModel.open(Self.gguf)
        Self.decoding = try Self.loaded!.decoding().0
        return Self.loaded!
    }

    /// A server on a free port of 127.0.0.1, stopped when the test ends.
    func serve(apiKey: String? = "sk-test", maxBodyBytes: Int = 4096, maxQueue: Int = 64, maxTokens: Int = 64, timeout: Double? = nil,
               adapterLoading: Bool = false, adapters: [(name: String, path: String)] = []) async throws -> (URL, ServedModel) {
        let loaded = try smolLM2()
        let (model, tokenizer) = try loaded.decoder()
        let served = try ServedModel(name: "smol", model: model, decoding: Self.decoding!, tokenizer: tokenizer, template: try loaded.chatTemplate(),
                                     adapters: adapters)
        return (try await start(.decoder(served), apiKey: apiKey, maxBodyBytes: maxBodyBytes, maxQueue: maxQueue, maxTokens: maxTokens,
                                timeout: timeout, adapterLoading: adapterLoading), served)
    }

    /// `served` on a free port of 127.0.0.1, stopped when the test ends.
    func start(_ served: Served, apiKey: String? = "sk-test", maxBodyBytes: Int = 4096, maxQueue: Int = 64, maxTokens: Int = 64,
               timeout: Double? = nil, adapterLoading: Bool = false) async throws -> URL {
        let options = ServeOptions(host: "127.0.0.1", port: 0, apiKey: apiKey, maxBodyBytes: maxBodyBytes, maxTokens: maxTokens, maxQueue: maxQueue,
                                   timeout: timeout, adapterLoading: adapterLoading)
        let (ports, found) = AsyncStream.makeStream(of: Int.self)
        let app = OpenAIServer.application(served, options: options) { found.yield($0) }
        let server = Task { try await app.run() }
        addTeardownBlock { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let first = await iterator.next()
        let port = try XCTUnwrap(first, "the server did not start")
        return URL(string: "http://127.0.0.1:\(port)")!
    }

    /// The status and body of a request, with the test key unless `key` says otherwise.
    func call(_ base: URL, _ path: String, json: String? = nil, key: String? = "sk-test") async throws -> (Int, Data) {
        var request = URLRequest(url: base.appendingPathComponent(path))
        if let json {
            request.httpMethod = "POST"
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as! HTTPURLResponse).statusCode, data)
    }

    func object(_ data: Data) throws -> [String: Any] { try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any]) }

    func testChatStreamedAndNotAndTextCompletions() async throws {
        let (base, _) = try await serve()
        let (status, listed) = try await call(base, "v1/models")
        XCTAssertEqual(status, 200)
        XCTAssertEqual((try object(listed)["data"] as? [[String: Any]])?.map { $0["id"] as? String }, ["smol"])

        let chat = #"{"model": "smol", "messages": [{"role": "user", "content": "Name the capital of France."}], "max_tokens": 8, "temperature": 0"#
        let (okStatus, answerData) = try await call(base, "v1/chat/completions", json: chat + "}")
        XCTAssertEqual(okStatus, 200, String(decoding: answerData, as: UTF8.self))
        let answer = try object(answerData)
        XCTAssertEqual(answer["object"] as? String, "chat.completion")
        let choice = try XCTUnwrap((answer["choices"] as? [[String: Any]])?.first)
        let text = try XCTUnwrap((choice["message"] as? [String: Any])?["content"] as? String)
        XCTAssertTrue(text.contains("Paris"), text)
        let usage = try XCTUnwrap(answer["usage"] as? [String: Int])
        XCTAssertGreaterThan(usage["prompt_tokens"] ?? 0, 5)
        XCTAssertEqual(choice["finish_reason"] as? String, "stop", "the model ends its answer: \(text)")
        XCTAssertTrue((1..<8).contains(usage["completion_tokens"] ?? 0), "the end-of-turn token is not counted: \(usage)")
        XCTAssertEqual(usage["total_tokens"], (usage["prompt_tokens"] ?? 0) + (usage["completion_tokens"] ?? 0))

        // Streamed: the pieces put together are the same answer, then the finish, the usage and [DONE].
        let (streamStatus, events) = try await call(base, "v1/chat/completions", json: chat + #", "stream": true, "stream_options": {"include_usage": true}}"#)
        XCTAssertEqual(streamStatus, 200)
        let lines = String(decoding: events, as: UTF8.self).components(separatedBy: "\n\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.last, "data: [DONE]")
        let chunks = try lines.dropLast().map { line -> [String: Any] in
            XCTAssertTrue(line.hasPrefix("data: "), line)
            return try object(Data(line.dropFirst(6).utf8))
        }
        XCTAssertTrue(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
        let deltas = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }
        XCTAssertEqual(deltas.joined(), text)
        XCTAssertGreaterThan(deltas.count, 2, "streamed in pieces")
        XCTAssertEqual(((chunks.dropLast().last?["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String), "stop")
        XCTAssertEqual(chunks.last?["usage"] as? [String: Int], usage)

        let (textStatus, completion) = try await call(base, "v1/completions", json: #"{"model": "smol", "prompt": "The capital of France is", "max_tokens": 3, "temperature": 0}"#)
        XCTAssertEqual(textStatus, 200)
        let textChoice = try XCTUnwrap((try object(completion)["choices"] as? [[String: Any]])?.first)
        XCTAssertTrue((textChoice["text"] as? String)?.contains("Paris") == true, "\(textChoice)")
        XCTAssertEqual(textChoice["finish_reason"] as? String, "length")
        XCTAssertEqual((try object(completion)["usage"] as? [String: Int])?["completion_tokens"], 3)
    }

    /// Wrong or missing key, unknown model, broken JSON, a missing field, a bad setting and an
    /// oversized body: each its status and an error in OpenAI's shape.
    func testRefusalsInTheAPIsShape() async throws {
        let (base, _) = try await serve()
        func refused(_ path: String, _ json: String?, key: String? = "sk-test") async throws -> (Int, [String: Any]) {
            let (status, data) = try await call(base, path, json: json, key: key)
            return (status, try XCTUnwrap(try object(data)["error"] as? [String: Any], String(decoding: data, as: UTF8.self)))
        }
        var (status, error) = try await refused("v1/models", nil, key: nil)
        XCTAssertEqual(status, 401)
        XCTAssertEqual(error["code"] as? String, "invalid_api_key")
        (status, error) = try await refused("v1/models", nil, key: "sk-wrong")
        XCTAssertEqual(status, 401)
        (status, error) = try await refused("v1/chat/completions", #"{"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}]}"#)
        XCTAssertEqual(status, 404)
        XCTAssertEqual(error["code"] as? String, "model_not_found")
        XCTAssertEqual(error["param"] as? String, "model")
        (status, error) = try await refused("v1/chat/completions", #"{"model": "smol", "messages": "#)
        XCTAssertEqual(status, 400)
        XCTAssertEqual(error["type"] as? String, "invalid_request_error")
        (status, error) = try await refused("v1/chat/completions", #"{"model": "smol"}"#)
        XCTAssertEqual(status, 400)
        XCTAssertEqual(error["param"] as? String, "messages")
        (status, error) = try await refused("v1/chat/completions", #"{"model": "smol", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 0}"#)
        XCTAssertEqual(status, 400)
        XCTAssertEqual(error["param"] as? String, "max_tokens")
        (status, error) = try await refused("v1/chat/completions", #"{"model": "smol", "messages": [{"role": "user", "content": "Hi"}], "temperature": 5}"#)
        XCTAssertEqual(error["param"] as? String, "temperature")
        let long = String(repeating: "a", count: 5000)
        (status, error) = try await refused("v1/chat/completions", #"{"model": "smol", "messages": [{"role": "user", "content": "\#(long)"}]}"#)
        XCTAssertEqual(status, 413)
    }

    /// A PEFT adapter of SmolLM2 whose update is large enough to change its answers: random A and
    /// B on every layer's v and o projections (GGUF's rotary layout keeps q and k from being written
    /// for PEFT), written as PEFT writes it. `wrong`: A's of 8
    /// inputs more than the modules have, as an adapter of a wider base would be.
    func adapterFolder(shapes wrong: Bool = false) throws -> String {
        let (model, _) = try smolLM2().decoder()
        let view = (model as! Llama).sharingWeights()
        var set = AdapterSet()
        for (i, (name, modelInputs, outputs)) in view.adaptableShapes.enumerated() where name.hasSuffix("attn.v") || name.hasSuffix("attn.o") {
            let inputs = modelInputs + (wrong ? 8 : 0)
            let a = Philox(seed: 7, stream: UInt64(i)).normal(count: inputs * 4).map { $0 * 0.2 }
            let b = Philox(seed: 8, stream: UInt64(i)).normal(count: 4 * outputs).map { $0 * 0.2 }
            set.adapters[name] = LoRAAdapter(a: Tensor(a, shape: [inputs, 4]), b: Tensor(b, shape: [4, outputs]), scale: 2)
        }
        view.adapters = set
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-serve-adapter-\(getpid())-\(wrong)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        try PEFTAdapter.save(view, to: folder)
        return folder
    }

    /// One base, two names: an adapter answers differently from the base, the base is untouched
    /// by it, and requests to both at once each get what they get alone. A broken adapter, or a
    /// path that holds none, is refused before the server starts.
    func testAdaptersPerRequestOverOneBase() async throws {
        let folder = try adapterFolder()
        let (base, served) = try await serve(adapters: [("tuned", folder)])
        let (status, listed) = try await call(base, "v1/models")
        XCTAssertEqual(status, 200)
        let cards = try XCTUnwrap(try object(listed)["data"] as? [[String: Any]])
        XCTAssertEqual(cards.map { $0["id"] as? String }, ["smol", "tuned"])
        XCTAssertEqual(cards.last?["parent"] as? String, "smol")
        XCTAssertEqual(cards.last?["root"] as? String, folder)
        @Sendable func answer(_ model: String) async throws -> String {
            var request = URLRequest(url: base.appendingPathComponent("v1/chat/completions"))
            request.httpMethod = "POST"
            request.httpBody = Data(#"{"model": "\#(model)", "messages": [{"role": "user", "content": "Name a colour."}], "max_tokens": 16, "temperature": 0}"#.utf8)
            request.setValue("Bearer sk-test", forHTTPHeaderField: "Authorization")
            let (data, _) = try await URLSession.shared.data(for: request)
            let choice = ((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["choices"] as? [[String: Any]])?.first
            return (choice?["message"] as? [String: Any])?["content"] as? String ?? "(no answer: \(String(decoding: data, as: UTF8.self)))"
        }
        let (plain, adapted) = (try await answer("smol"), try await answer("tuned"))
        XCTAssertNotEqual(plain, adapted, "the adapter changes the answer")
        let again = try await answer("smol")
        XCTAssertEqual(again, plain, "the base is untouched by the adapter's requests")
        let together = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for (i, name) in ["tuned", "smol", "tuned", "smol"].enumerated() { group.addTask { (i, try await answer(name)) } }
            return try await group.reduce(into: [String](repeating: "", count: 4)) { $0[$1.0] = $1.1 }
        }
        XCTAssertEqual(together, [adapted, plain, adapted, plain], "concurrent requests never mix adapters")
        XCTAssertGreaterThan(served.decoder.widestStep, 1, "concurrent requests are decoded in the same steps")

        let (model, tokenizer) = try smolLM2().decoder()
        XCTAssertThrowsError(try ServedModel(name: "smol", model: model, decoding: Self.decoding!, tokenizer: tokenizer, template: .plain,
                                             adapters: [("wider", try adapterFolder(shapes: true))])) { XCTAssertTrue("\($0)".contains("but the module maps 576 to"), "\($0)") }
        XCTAssertThrowsError(try ServedModel(name: "smol", model: model, decoding: Self.decoding!, tokenizer: tokenizer, template: .plain,
                                             adapters: [("none", "/nonexistent")])) {
            XCTAssertTrue("\($0)".contains("/nonexistent"), "\($0)")
        }
    }

    /// With `--allow-adapter-loading`, vLLM's endpoints load an adapter (listed and answering from
    /// the next request, as the same adapter loaded at start answers) and unload it (then 404); a
    /// broken folder, a name already served and the base are refused with the reason. Without the
    /// flag they answer 403.
    func testAdaptersLoadAndUnloadWhileServing() async throws {
        let folder = try adapterFolder()
        let (started, _) = try await serve(adapters: [("tuned", folder)])
        let ask = #"{"model": "NAME", "messages": [{"role": "user", "content": "Name a colour."}], "max_tokens": 6, "temperature": 0}"#
        func answer(_ base: URL, _ model: String) async throws -> (Int, String) {
            let (status, data) = try await call(base, "v1/chat/completions", json: ask.replacingOccurrences(of: "NAME", with: model))
            let choice = (try? object(data)["choices"] as? [[String: Any]])?.first
            return (status, (choice?["message"] as? [String: Any])?["content"] as? String ?? String(decoding: data, as: UTF8.self))
        }
        let expected = try await answer(started, "tuned")
        var (status, data) = try await call(started, "v1/load_lora_adapter", json: #"{"lora_name": "x", "lora_path": "\#(folder)"}"#)
        XCTAssertEqual(status, 403, "off unless the server allows it")

        let (base, _) = try await serve(adapterLoading: true)
        (status, data) = try await call(base, "v1/load_lora_adapter", json: #"{"lora_name": "live", "lora_path": "\#(folder)"}"#)
        XCTAssertEqual(status, 200, String(decoding: data, as: UTF8.self))
        XCTAssertEqual(try object(data)["parent"] as? String, "smol")
        (status, data) = try await call(base, "v1/models")
        XCTAssertEqual((try object(data)["data"] as? [[String: Any]])?.map { $0["id"] as? String }, ["smol", "live"])
        let live = try await answer(base, "live")
        XCTAssertEqual(live.0, 200)
        XCTAssertEqual(live.1, expected.1, "a loaded adapter answers as the same adapter loaded at start")

        for (json, words) in [(#"{"lora_name": "live", "lora_path": "\#(folder)"}"#, "already served"),
                              (#"{"lora_name": "other", "lora_path": "/nonexistent"}"#, "/nonexistent"),
                              (#"{"lora_name": "wide", "lora_path": "\#(try adapterFolder(shapes: true))"}"#, "but the module maps 576 to")] {
            (status, data) = try await call(base, "v1/load_lora_adapter", json: json)
            XCTAssertEqual(status, 400, json)
            let message = (try object(data)["error"] as? [String: Any])?["message"] as? String ?? ""
            XCTAssertTrue(message.contains(words), message)
        }
        (status, data) = try await call(base, "v1/unload_lora_adapter", json: #"{"lora_name": "smol"}"#)
        XCTAssertEqual(status, 404, "the base is not an adapter")
        (status, data) = try await call(base, "v1/unload_lora_adapter", json: #"{"lora_name": "live"}"#)
        XCTAssertEqual(status, 200)
        XCTAssertEqual(try object(data)["deleted"] as? Bool, true)
        let gone = try await answer(base, "live")
        XCTAssertEqual(gone.0, 404, "an unloaded adapter is no longer served")
        (status, data) = try await call(base, "v1/unload_lora_adapter", json: #"{"lora_name": "live"}"#)
        XCTAssertEqual(status, 404)
    }

    /// SmolLM2 and an adapter of it answer a prompt: two different answers, each from its side,
    /// and the same pair (order included) when asked for again, as after a restart.
    func testAModelWritesEachPairTheSameWay() async throws {
        let loaded = try smolLM2()
        let (model, tokenizer) = try loaded.decoder()
        let served = try ServedModel(name: "smol", model: model, decoding: Self.decoding!, tokenizer: tokenizer,
                                     template: try loaded.chatTemplate(), adapters: [("tuned", try adapterFolder())])
        let pairs = try SampledPairs(model: served, prompts: ["Name a colour.", "Say hello."], sides: ("smol", "tuned"),
                                     options: SamplingOptions(maxTokens: 6, temperature: 0))
        XCTAssertEqual(pairs.ids, ["prompt-1", "prompt-2"])
        let first = try await pairs.pair(0), again = try await pairs.pair(0)
        XCTAssertEqual(first.prompt, "Name a colour.")
        XCTAssertNotEqual(first.left, first.right, "the adapter answers otherwise")
        XCTAssertEqual(Set([first.leftSource, first.rightSource]), Set(["smol", "tuned"]))
        XCTAssertEqual([again.left, again.right, again.leftSource], [first.left, first.right, first.leftSource])
        XCTAssertThrowsError(try SampledPairs(model: served, prompts: ["x"], sides: ("smol", "nope"), options: SamplingOptions()))
    }

    /// An encoder answers `/v1/embeddings`: one vector per input, as numbers or as base64 of its
    /// float32 bytes (what the official client asks for), the same vectors `Bert.embeddings`
    /// gives; it refuses completions, another dimension count and token-id inputs.
    func testAnEncoderServesEmbeddings() async throws {
        let minilm = URL(fileURLWithPath: Self.gguf).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("all-MiniLM-L6-v2").path
        guard FileManager.default.fileExists(atPath: minilm) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("\(minilm) is missing: CI must run `make models`") }
            throw XCTSkip("models/ is fetched by `make models`")
        }
        let (bert, tokenizer) = try LoadedModel.open(minilm).encoder()
        let base = try await start(.encoder(ServedEncoder(name: "minilm", model: bert, tokenizer: tokenizer)))
        let texts = ["A man is playing a guitar.", "Someone strums an instrument.", "The stock market fell."]
        let expected = bert.embeddings(texts.map { tokenizer.encode($0, maxLength: 256) })
        let inputs = texts.map { "\"\($0)\"" }.joined(separator: ", ")
        var (status, data) = try await call(base, "v1/embeddings", json: #"{"model": "minilm", "input": [\#(inputs)]}"#)
        XCTAssertEqual(status, 200, String(decoding: data, as: UTF8.self))
        let floats = try XCTUnwrap(try object(data)["data"] as? [[String: Any]]).map { ($0["embedding"] as? [Double])?.map(Float.init) ?? [] }
        XCTAssertEqual(floats, expected)
        XCTAssertEqual((try object(data)["usage"] as? [String: Int])?["prompt_tokens"], texts.map { tokenizer.encode($0, maxLength: 256).count }.reduce(0, +))
        (status, data) = try await call(base, "v1/embeddings", json: #"{"model": "minilm", "input": "\#(texts[0])", "encoding_format": "base64"}"#)
        let encoded = try XCTUnwrap((try object(data)["data"] as? [[String: Any]])?.first?["embedding"] as? String)
        let decoded = try XCTUnwrap(Data(base64Encoded: encoded)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        XCTAssertEqual(decoded, expected[0])

        for (json, param) in [(#"{"model": "minilm", "input": "x", "dimensions": 64}"#, "dimensions"), (#"{"model": "minilm", "input": [[1, 2, 3]]}"#, "input"),
                              (#"{"model": "minilm", "messages": [{"role": "user", "content": "Hi"}]}"#, "model")] {
            (status, data) = try await call(base, json.contains("messages") ? "v1/chat/completions" : "v1/embeddings", json: json)
            XCTAssertEqual(status, 400, json)
            XCTAssertEqual((try object(data)["error"] as? [String: Any])?["param"] as? String, param, String(decoding: data, as: UTF8.self))
        }
    }

    /// With room for one generation, requests that come while it runs get 429 in the API's shape;
    /// once it has ended, the next is answered.
    func testAFullQueueAnswers429() async throws {
        let (base, _) = try await serve(maxQueue: 1, maxTokens: 256)
        @Sendable func ask() async throws -> (Int, String) {
            var request = URLRequest(url: base.appendingPathComponent("v1/chat/completions"))
            request.httpMethod = "POST"
            request.httpBody = Data(#"{"model": "smol", "messages": [{"role": "user", "content": "Write a long story about a lighthouse keeper."}], "max_tokens": 256, "temperature": 0}"#.utf8)
            request.setValue("Bearer sk-test", forHTTPHeaderField: "Authorization")
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
        }
        let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for _ in 0..<3 { group.addTask { try await ask() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(answers.filter { $0.0 == 200 }.count, 1, "\(answers)")
        XCTAssertEqual(answers.filter { $0.0 == 429 }.count, 2, "\(answers)")
        XCTAssertTrue(answers.first { $0.0 == 429 }?.1.contains("rate_limit_exceeded") == true)
        let (status, _) = try await ask()
        XCTAssertEqual(status, 200, "the queue is free again")
    }

    /// A generation that runs past `timeout` ends with 408 in the API's shape; streamed, with an
    /// error event after the text sent so far (the `openai` client raises it), then `[DONE]`.
    func testARequestPastTheTimeLimitAnswers408() async throws {
        let (base, _) = try await serve(maxTokens: 256, timeout: 0.2)
        // An answer of 256 tokens (this story runs past 400), over two seconds of decoding.
        let ask = #"{"model": "smol", "messages": [{"role": "user", "content": "Write a long story about a lighthouse keeper."}], "max_tokens": 256, "temperature": 0"#
        var (status, data) = try await call(base, "v1/chat/completions", json: ask + "}")
        XCTAssertEqual(status, 408, String(decoding: data, as: UTF8.self))
        XCTAssertEqual((try object(data)["error"] as? [String: Any])?["code"] as? String, "request_timeout")
        (status, data) = try await call(base, "v1/chat/completions", json: ask + #", "stream": true}"#)
        XCTAssertEqual(status, 200)
        let events = String(decoding: data, as: UTF8.self).components(separatedBy: "\n\n").filter { !$0.isEmpty }
        XCTAssertEqual(events.last, "data: [DONE]")
        XCTAssertTrue(events.dropLast().last?.contains("request_timeout") == true, "\(events.suffix(2))")
        XCTAssertFalse(events.contains { $0.contains("finish_reason\":\"") }, "no finish reason for a cut answer")
    }

    /// A stop string's start is held back while it may still complete, so streamed text never
    /// holds what the stop cuts; a character whose bytes have not all come waits too.
    func testSettledTextHoldsBackWhatMayStillChange() {
        XCTAssertEqual(ServedModel.settled("Hello wor", after: "", stop: ["world"]), "Hello ")
        XCTAssertEqual(ServedModel.settled("Hello wor", after: "Hello ", stop: ["world"]), "")
        XCTAssertEqual(ServedModel.settled("Hello wax", after: "Hello ", stop: ["world"]), "wax")
        XCTAssertEqual(ServedModel.settled("caf\u{FFFD}", after: "", stop: []), "caf")
        XCTAssertEqual(ServedModel.settled("other", after: "Hello", stop: []), "", "text that no longer starts with what was sent")
    }
}
