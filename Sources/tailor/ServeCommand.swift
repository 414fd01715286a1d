import ArgumentParser
import Dispatch
import Foundation
import TailorModels
import TailorServe

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model behind an OpenAI-compatible API (chat and text completions, or embeddings of an encoder).",
        discussion: """
            Listens on 127.0.0.1 unless --host says otherwise. With --api-key (or TAILOR_API_KEY) every
            request needs `Authorization: Bearer KEY`. SIGTERM or SIGINT finishes the requests in flight,
            then exits. Requests run one at a time; more than --max-queue running or waiting get 429.

            Example: tailor serve models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --port 8000
              then: curl http://127.0.0.1:8000/v1/chat/completions -d '{"model": "SmolLM2-135M-Instruct.Q4_1",
                    "messages": [{"role": "user", "content": "Hi"}]}'
            """)

    @Argument(help: "A GGUF file or a Hugging Face folder: a decoder (completions) or a sentence encoder (embeddings).")
    var model: String

    @Option(help: "The model's name in requests and /v1/models (default: the file's name without extension).")
    var name: String?

    @Option(help: ArgumentHelp("A LoRA adapter (a PEFT folder) served as its own model over the one base (repeatable).", valueName: "name=path"))
    var adapter: [String] = []

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port, printed).")
    var port = 8000

    @Option(help: "The key every request must carry (default: TAILOR_API_KEY, if set).")
    var apiKey: String?

    @Option(help: "The most tokens a request may ask for.")
    var maxTokens = 1024

    @Option(help: "The largest request body, in bytes.")
    var maxBodyBytes = 1 << 20

    @Option(help: "The most requests running or waiting; one more gets 429.")
    var maxQueue = 64

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be from 0 to 65535") }
        if maxTokens < 1 { throw ValidationError("--max-tokens must be 1 or more") }
        if maxBodyBytes < 1024 { throw ValidationError("--max-body-bytes must be 1024 or more") }
        if maxQueue < 1 { throw ValidationError("--max-queue must be 1 or more") }
        if apiKey?.isEmpty == true { throw ValidationError("--api-key must not be empty") }
        for a in adapter where !a.contains("=") || a.hasPrefix("=") || a.hasSuffix("=") {
            throw ValidationError("--adapter takes NAME=PATH, got '\(a)'")
        }
    }

    func run() throws {
        let loaded = try openModel(model)
        let served: Served
        let modelName = name ?? ((model as NSString).lastPathComponent as NSString).deletingPathExtension
        if case .encoder = loaded.backbone {
            if !adapter.isEmpty { throw ValidationError("--adapter needs a decoder; '\(model)' is a sentence encoder") }
            let (network, tokenizer) = try usage { try loaded.encoder() }
            served = .encoder(ServedEncoder(name: modelName, model: network, tokenizer: tokenizer))
        } else {
            let (network, tokenizer) = try usage { try loaded.decoder() }
            let template = try usage { try loaded.chatTemplate() }
            let adapters = adapter.map { a in
                let cut = a.firstIndex(of: "=")!
                return (name: String(a[..<cut]), path: String(a[a.index(after: cut)...]))
            }
            served = .decoder(try usage { try ServedModel(name: modelName, model: network, tokenizer: tokenizer, template: template, adapters: adapters) })
        }
        let key = apiKey ?? ProcessInfo.processInfo.environment["TAILOR_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let options = ServeOptions(host: host, port: port, apiKey: key, maxBodyBytes: maxBodyBytes, maxTokens: maxTokens, maxQueue: maxQueue)
        let app = OpenAIServer.application(served, options: options) { port in
            FileHandle.standardError.write(Data("serving '\(modelName)' on http://\(options.host):\(port)/v1\(key == nil ? "" : " (API key required)")\n".utf8))
        }
        // The command runs synchronously; the server runs on Swift concurrency until a signal stops it.
        let done = DispatchSemaphore(value: 0)
        let failure = Failure()
        Task {
            do { try await app.runService() } catch { failure.error = error }
            done.signal()
        }
        done.wait()
        if let error = failure.error { throw ValidationError("the server stopped: \(error)") }
    }

    /// The server's error, handed from its task to the command.
    final class Failure: @unchecked Sendable { var error: (any Error)? }
}
