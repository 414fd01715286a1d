import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TailorModels
import XCTest

@testable import TailorServe

/// `tailor serve`'s API over a real socket, with SmolLM2-135M-Instruct: what the `openai` client
/// sends and reads, streaming against the same answer unstreamed, and every refusal in the API's
/// error shape.
final class OpenAIServerTests: XCTestCase {
    static let gguf = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf").path

    /// A server on a free port of 127.0.0.1, stopped when the test ends.
    func serve(apiKey: String? = "sk-test", maxBodyBytes: Int = 4096) async throws -> URL {
        guard FileManager.default.fileExists(atPath: Self.gguf) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("\(Self.gguf) is missing: CI must run `make models`") }
            throw XCTSkip("models/ is fetched by `make models`")
        }
        let loaded = try LoadedModel.open(Self.gguf)
        let (model, tokenizer) = try loaded.decoder()
        let served = ServedModel(name: "smol", model: model, tokenizer: tokenizer, template: try loaded.chatTemplate())
        let options = ServeOptions(host: "127.0.0.1", port: 0, apiKey: apiKey, maxBodyBytes: maxBodyBytes, maxTokens: 64)
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
        let base = try await serve()
        let (status, listed) = try await call(base, "v1/models")
        XCTAssertEqual(status, 200)
        XCTAssertEqual((try object(listed)["data"] as? [[String: Any]])?.map { $0["id"] as? String }, ["smol"])

        let chat = #"{"model": "smol", "messages": [{"role": "user", "content": "What is the capital of France?"}], "max_tokens": 8, "temperature": 0"#
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
        let base = try await serve()
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
