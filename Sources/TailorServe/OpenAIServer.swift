import Foundation
import Hummingbird
import Logging
import NIOCore
import TailorModels

/// How `tailor serve` listens and what it accepts.
public struct ServeOptions: Sendable {
    public var host: String
    public var port: Int
    /// Every request must carry `Authorization: Bearer KEY` when set.
    public var apiKey: String?
    /// The largest request body read; a larger one is refused with 413.
    public var maxBodyBytes: Int
    /// The most tokens a request may ask for (and what it gets when it asks for none).
    public var maxTokens: Int
    /// The most generations running or waiting; one more is refused with 429.
    public var maxQueue: Int
    /// Seconds a generation may take, waiting included; one that runs past it ends with 408.
    public var timeout: Double?
    /// Whether requests may load and unload adapters (`/v1/load_lora_adapter`): off by default,
    /// as it reads paths on the server's machine.
    public var adapterLoading: Bool

    public init(host: String = "127.0.0.1", port: Int = 8000, apiKey: String? = nil, maxBodyBytes: Int = 1 << 20, maxTokens: Int = 1024,
                maxQueue: Int = 64, timeout: Double? = nil, adapterLoading: Bool = false) {
        (self.host, self.port, self.apiKey, self.maxBodyBytes, self.maxTokens, self.maxQueue) = (host, port, apiKey, maxBodyBytes, maxTokens, maxQueue)
        (self.timeout, self.adapterLoading) = (timeout, adapterLoading)
    }
}

/// A request the server refuses, written as the OpenAI API writes errors.
struct APIError: Error {
    var status: HTTPResponse.Status, message: String, type: String, param: String? = nil, code: String? = nil

    static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> Self {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// A generation that ran past the server's `--timeout`.
    static func timedOut(_ options: ServeOptions) -> Self {
        APIError(status: .requestTimeout, message: "the request ran past the server's time limit of \(options.timeout ?? 0) s; ask for fewer tokens or try again",
                 type: "timeout", code: "request_timeout")
    }

    var response: Response {
        let body = OpenAI.ErrorBody(error: .init(message: message, type: type, param: param, code: code))
        return OpenAIServer.json(body, status: status)
    }
}

/// A spec's RAG pipeline served as a model: a question is answered by `generator` (as its served
/// name `variant`, or its base) from the prompt `prompt` writes with the passages it retrieves.
public struct ServedRAG: Sendable {
    public let name: String
    let generator: ServedModel
    /// The generator's served name, and what it answers with, taken when the server starts (the
    /// pipeline answers as the spec says, whatever is loaded or unloaded later).
    let variantName: String
    let variant: ServedModel.Variant?
    let prompt: @Sendable (String) throws -> (ids: [Int32], passages: [String])

    public init(name: String, generator: ServedModel, variant: String, prompt: @escaping @Sendable (String) throws -> (ids: [Int32], passages: [String])) {
        (self.name, self.generator, self.variantName, self.prompt) = (name, generator, variant, prompt)
        self.variant = generator.variant(variant)
    }
}

/// What a server serves: decoders with their adapters and RAG pipelines (a spec's `serve:` may
/// name several), or a sentence encoder.
public enum Served: Sendable {
    case decoders([ServedModel], rag: [ServedRAG] = [])
    case encoder(ServedEncoder)

    public static func decoder(_ model: ServedModel) -> Self { .decoders([model]) }

    /// Every name a request may give.
    public var names: [String] { cards.map(\.name) }

    /// Each served name, with the folder an adapter was read from and the base it adapts.
    var cards: [(name: String, root: String?, parent: String?)] {
        switch self {
        case let .decoders(models, rag):
            models.flatMap { m in m.variants.map { ($0.name, $0.path, $0.isBase ? nil : m.name) } } + rag.map { ($0.name, "rag.\($0.name)", $0.variantName) }
        case .encoder(let e): [(e.name, nil, nil)]
        }
    }
}

/// The OpenAI-compatible HTTP API over one model: `GET /v1/models`; for a decoder,
/// `POST /v1/chat/completions` (the model's own chat template; streamed as server-sent events
/// with `stream: true`) and `POST /v1/completions`; for an encoder, `POST /v1/embeddings`.
public enum OpenAIServer {
    /// The application, not yet running; `running` is told the port it listens on.
    public static func application(_ served: Served, options: ServeOptions,
                                   running: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(served, options: options),
                    configuration: .init(address: .hostname(options.host, port: options.port), serverName: "tailor"),
                    onServerRunning: { channel in await running(channel.localAddress?.port ?? options.port) },
                    logger: logger)
    }

    /// The server's own log: warnings and errors only (`running` says where it listens).
    static let logger: Logger = {
        var logger = Logger(label: "tailor.serve")
        logger.logLevel = .warning
        return logger
    }()

    static func router(_ served: Served, options: ServeOptions) -> Router<BasicRequestContext> {
        let router = Router()
        let created = Int(Date().timeIntervalSince1970)
        router.add(middleware: Guard(options: options))
        router.get("/v1/models") { _, _ in
            json(OpenAI.ModelList(data: served.cards.map { OpenAI.ModelCard(id: $0.name, created: created, root: $0.root ?? $0.name, parent: $0.parent) }))
        }
        /// The decoder serving `name` (a base or one of its adapters) and what it serves under that
        /// name, looked up once, or a refusal: 404 for a name nobody serves, 400 on an encoder's
        /// server, which answers embeddings instead.
        @Sendable func decoder(_ name: String) throws -> (ServedModel, ServedModel.Variant) {
            guard case .decoders(let models, _) = served else {
                throw APIError.invalid("this server's model is a sentence encoder: it answers /v1/embeddings", param: "model")
            }
            guard let (model, variant) = models.lazy.compactMap({ m in m.variant(name).map { (m, $0) } }).first else {
                let names = served.cards.map { "'\($0.name)'" }.joined(separator: ", ")
                throw APIError(status: .notFound, message: "the model '\(name)' does not exist; this server serves \(names) (GET /v1/models)",
                               type: "invalid_request_error", param: "model", code: "model_not_found")
            }
            return (model, variant)
        }
        /// The decoder an adapter request names: its `base_model`, or the only one served.
        @Sendable func base(_ asked: OpenAI.AdapterRequest) throws -> ServedModel {
            guard options.adapterLoading else {
                throw APIError(status: .forbidden, message: "loading adapters while serving is off; start the server with --allow-adapter-loading",
                               type: "invalid_request_error")
            }
            guard case .decoders(let models, _) = served else { throw APIError.invalid("a sentence encoder takes no adapters") }
            if let name = asked.base_model {
                guard let model = models.first(where: { $0.name == name }) else {
                    throw APIError(status: .notFound, message: "no base model is named '\(name)'", type: "invalid_request_error", param: "base_model",
                                   code: "model_not_found")
                }
                return model
            }
            guard models.count == 1 else {
                throw APIError.invalid("this server serves \(models.count) base models; say which with 'base_model'", param: "base_model")
            }
            return models[0]
        }
        /// What a request's `model` names and the prompt's ids: a RAG pipeline's generator, with the
        /// pipeline's prompt for `question()` and the passages it retrieved; or a decoder (its base
        /// or an adapter, looked up once) with `prompt(model, variant)`.
        @Sendable func target(_ name: String, question: () throws -> String, prompt: (ServedModel, ServedModel.Variant) throws -> [Int32]) throws
            -> (ServedModel, ServedModel.Variant?, [Int32], [String]?) {
            guard case let .decoders(_, pipelines) = served, let pipeline = pipelines.first(where: { $0.name == name }) else {
                let (model, variant) = try decoder(name)
                return (model, variant, try prompt(model, variant), nil)
            }
            let asked = try question()
            guard !asked.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw APIError.invalid("the question is empty", param: "messages") }
            do {
                let (ids, passages) = try pipeline.prompt(asked)
                return (pipeline.generator, pipeline.variant, ids, passages)
            } catch {
                throw APIError(status: .internalServerError, message: "the pipeline could not write its prompt: \(error)", type: "server_error")
            }
        }
        // vLLM's endpoints for adapters at run time: the adapter is served from the next request on.
        router.post("/v1/load_lora_adapter") { request, context in
            let asked = try decode(OpenAI.AdapterRequest.self, try await read(request, options))
            let model = try base(asked)
            guard let path = asked.lora_path, !path.isEmpty else { throw APIError.invalid("the request lacks 'lora_path'", param: "lora_path") }
            guard !asked.lora_name.isEmpty else { throw APIError.invalid("'lora_name' must not be empty", param: "lora_name") }
            do {
                let variant = try model.load(adapter: asked.lora_name, from: path, taken: served.names)
                return json(OpenAI.ModelCard(id: variant.name, created: Int(Date().timeIntervalSince1970), root: path, parent: model.name))
            } catch {
                throw APIError.invalid("the adapter '\(asked.lora_name)' was not loaded: \(error)", param: "lora_path")
            }
        }
        router.post("/v1/unload_lora_adapter") { request, context in
            let asked = try decode(OpenAI.AdapterRequest.self, try await read(request, options))
            let model = try base(asked)
            do {
                try model.unload(adapter: asked.lora_name)
            } catch {
                throw APIError(status: .notFound, message: "\(error)", type: "invalid_request_error", param: "lora_name", code: "model_not_found")
            }
            return json(OpenAI.Deleted(id: asked.lora_name))
        }
        router.post("/v1/embeddings") { request, context in
            guard case .encoder(let encoder) = served else {
                throw APIError.invalid("this server's model is a decoder: embeddings need a sentence encoder (e.g. all-MiniLM-L6-v2)", param: "model")
            }
            let asked = try decode(OpenAI.EmbeddingRequest.self, try await read(request, options))
            guard asked.model == encoder.name else {
                throw APIError(status: .notFound, message: "the model '\(asked.model)' does not exist; this server serves '\(encoder.name)' (GET /v1/models)",
                               type: "invalid_request_error", param: "model", code: "model_not_found")
            }
            guard !asked.input.strings.isEmpty, asked.input.strings.count <= 2048 else { throw APIError.invalid("'input' must hold 1 to 2,048 texts", param: "input") }
            if let d = asked.dimensions, d != encoder.dimension {
                throw APIError.invalid("this model's embeddings have \(encoder.dimension) dimensions; it cannot shorten them to \(d)", param: "dimensions")
            }
            let format = asked.encoding_format ?? "float"
            guard format == "float" || format == "base64" else { throw APIError.invalid("'encoding_format' is 'float' or 'base64'", param: "encoding_format") }
            let (vectors, tokens) = await encoder.embed(asked.input.strings)
            let data = vectors.enumerated().map { i, v in
                OpenAI.Embedding(index: i, embedding: format == "float" ? .floats(v) : .base64(v.withUnsafeBufferPointer { Data(buffer: $0) }.base64EncodedString()))
            }
            return json(OpenAI.EmbeddingList(data: data, model: encoder.name, usage: .init(prompt_tokens: tokens, total_tokens: tokens)))
        }
        router.post("/v1/chat/completions") { request, context in
            let body = try await read(request, options)
            if case .encoder = served { _ = try decoder("") }
            let chat = try decode(OpenAI.ChatRequest.self, body)
            guard !chat.messages.isEmpty else { throw APIError.invalid("'messages' must hold at least one message", param: "messages") }
            let (model, variant, prompt, retrieved) = try target(chat.model, question: {
                guard chat.messages.count == 1, chat.messages[0].role == "user" else {
                    throw APIError.invalid("a RAG pipeline answers one question: send one user message (the pipeline writes its own prompt)", param: "messages")
                }
                return chat.messages[0].content
            }, prompt: { model, named in
                let text: String
                do {
                    text = try named.template.render(chat.messages.map { ChatTemplate.Message(role: $0.role, content: $0.content) })
                } catch {
                    throw APIError.invalid("the chat cannot be written by the model's template: \(error)", param: "messages")
                }
                return model.encode(text, chat: true)
            })
            let sampling = try decode(OpenAI.Sampling.self, body)
            let (ids, settings) = try prepare(prompt, sampling, model, options)
            let id = "chatcmpl-" + UUID().uuidString.lowercased()
            try admit(model, options)
            if sampling.stream == true {
                return stream(model, chat.model, variant: variant, ids, settings, id: id, created: Int(Date().timeIntervalSince1970),
                              usage: sampling.stream_options?.include_usage == true, options: options)
            }
            let result = await model.generate(ids, variant: variant, options: settings, timeout: options.timeout) { _ in }
            model.release()
            if result.finish == .timeout { throw APIError.timedOut(options) }
            return json(OpenAI.ChatCompletion(
                id: id, created: Int(Date().timeIntervalSince1970), model: chat.model,
                choices: [.init(index: 0, message: .init(role: "assistant", content: result.text), finish_reason: reason(result.finish))],
                usage: usage(ids, result), retrieved: retrieved))
        }
        router.post("/v1/completions") { request, context in
            let body = try await read(request, options)
            if case .encoder = served { _ = try decoder("") }
            let completion = try decode(OpenAI.CompletionRequest.self, body)
            let (model, variant, prompt, retrieved) = try target(completion.model, question: { completion.prompt }) { model, _ in
                model.encode(completion.prompt, chat: false)
            }
            let sampling = try decode(OpenAI.Sampling.self, body)
            if sampling.stream == true { throw APIError.invalid("streaming is served for chat completions only", param: "stream") }
            let (ids, settings) = try prepare(prompt, sampling, model, options)
            try admit(model, options)
            let result = await model.generate(ids, variant: variant, options: settings, timeout: options.timeout) { _ in }
            model.release()
            if result.finish == .timeout { throw APIError.timedOut(options) }
            return json(OpenAI.Completion(
                id: "cmpl-" + UUID().uuidString.lowercased(), created: Int(Date().timeIntervalSince1970), model: completion.model,
                choices: [.init(index: 0, text: result.text, finish_reason: reason(result.finish))], usage: usage(ids, result), retrieved: retrieved))
        }
        return router
    }

    /// The request's body, at most `maxBodyBytes`.
    static func read(_ request: Request, _ options: ServeOptions) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: options.maxBodyBytes)
        } catch {
            throw APIError(status: .contentTooLarge, message: "the request body is larger than \(options.maxBodyBytes) bytes", type: "invalid_request_error")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ body: ByteBuffer) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: body))
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError.invalid("the request lacks '\(key.stringValue)'", param: key.stringValue)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError.invalid("'\(path)' has the wrong type: \(context.debugDescription)", param: path)
        } catch {
            throw APIError.invalid("the request body is not JSON of this endpoint's shape")
        }
    }

    /// The prompt's ids and the sampling settings, checked: greedy at temperature 0, at most
    /// the server's token cap, and prompt plus answer within the model's context.
    static func prepare(_ ids: [Int32], _ s: OpenAI.Sampling, _ model: ServedModel, _ options: ServeOptions) throws -> ([Int32], SamplingOptions) {
        guard !ids.isEmpty else { throw APIError.invalid("the prompt is empty") }
        if let n = s.n, n != 1 { throw APIError.invalid("only n = 1 is served", param: "n") }
        let asked = s.max_completion_tokens ?? s.max_tokens
        if let asked, asked < 1 || asked > options.maxTokens {
            throw APIError.invalid("'max_tokens' must be from 1 to \(options.maxTokens)", param: "max_tokens")
        }
        let temperature = s.temperature ?? 1
        guard temperature >= 0, temperature <= 2 else { throw APIError.invalid("'temperature' must be from 0 to 2", param: "temperature") }
        let topP = s.top_p ?? 1
        guard topP > 0, topP <= 1 else { throw APIError.invalid("'top_p' must be above 0 and at most 1", param: "top_p") }
        let room = model.context - ids.count
        guard room > 0 else {
            throw APIError.invalid("the prompt is \(ids.count) tokens; the model's context is \(model.context)", param: "messages", code: "context_length_exceeded")
        }
        let stop = (s.stop?.strings ?? []).filter { !$0.isEmpty }
        guard stop.count <= 4 else { throw APIError.invalid("at most 4 stop strings", param: "stop") }
        let maxTokens = Swift.min(asked ?? options.maxTokens, room)
        return (ids, SamplingOptions(maxTokens: maxTokens, temperature: temperature, topP: topP, seed: s.seed ?? 0, stop: stop))
    }

    /// Admits the request's generation, or refuses it with 429 when `maxQueue` are admitted.
    static func admit(_ model: ServedModel, _ options: ServeOptions) throws {
        guard model.admit(limit: options.maxQueue) else {
            throw APIError(status: .tooManyRequests, message: "the server has \(options.maxQueue) requests running or waiting; try again shortly",
                           type: "requests", code: "rate_limit_exceeded")
        }
    }

    static func reason(_ finish: Generation.Finish) -> String { finish == .length ? "length" : "stop" }

    static func usage(_ ids: [Int32], _ result: Generation) -> OpenAI.Usage {
        let completion = result.finish == .endOfText ? result.ids.count - 1 : result.ids.count
        return OpenAI.Usage(prompt_tokens: ids.count, completion_tokens: Swift.max(0, completion), total_tokens: ids.count + Swift.max(0, completion))
    }

    /// A chat completion as server-sent events: the role, then each settled piece of text, then
    /// the finish reason, the usage when asked for, and `data: [DONE]`. A generation that runs
    /// past the time limit ends with an error event instead of a finish reason (the `openai`
    /// client raises it).
    static func stream(_ model: ServedModel, _ name: String, variant: ServedModel.Variant?, _ ids: [Int32], _ settings: SamplingOptions, id: String, created: Int,
                       usage wantsUsage: Bool, options: ServeOptions) -> Response {
        let (pieces, sink) = AsyncStream.makeStream(of: String.self)
        let result = Task {
            let r = await model.generate(ids, variant: variant, options: settings, timeout: options.timeout) { sink.yield($0) }
            model.release()
            sink.finish()
            return r
        }
        @Sendable func event(_ chunk: OpenAI.ChatChunk) -> ByteBuffer {
            ByteBuffer(string: "data: " + String(decoding: try! encoder.encode(chunk), as: UTF8.self) + "\n\n")
        }
        @Sendable func chunk(_ delta: OpenAI.Delta, finish: String? = nil) -> OpenAI.ChatChunk {
            OpenAI.ChatChunk(id: id, created: created, model: name, choices: [.init(index: 0, delta: delta, finish_reason: finish)])
        }
        let body = ResponseBody { writer in
            // A client that goes away ends its generation at the next step, freeing its place.
            do {
                try await writer.write(event(chunk(.init(role: "assistant", content: ""))))
                for await piece in pieces { try await writer.write(event(chunk(.init(content: piece)))) }
            } catch {
                result.cancel()
                throw error
            }
            let r = await result.value
            if r.finish == .timeout {
                let error = OpenAI.ErrorBody(error: .init(message: APIError.timedOut(options).message, type: "timeout", param: nil, code: "request_timeout"))
                try await writer.write(ByteBuffer(string: "data: " + String(decoding: try! encoder.encode(error), as: UTF8.self) + "\n\n"))
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await writer.finish(nil)
                return
            }
            try await writer.write(event(chunk(.init(), finish: reason(r.finish))))
            if wantsUsage {
                try await writer.write(event(OpenAI.ChatChunk(id: id, created: created, model: name, choices: [], usage: usage(ids, r))))
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? encoder.encode(value)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The API key check, and every error (ours or the framework's) written in OpenAI's shape.
struct Guard: RouterMiddleware {
    typealias Context = BasicRequestContext
    let options: ServeOptions

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let key = options.apiKey, request.headers[.authorization] != "Bearer \(key)" {
            return APIError(status: .unauthorized, message: "a valid API key is required (Authorization: Bearer KEY)", type: "invalid_request_error",
                            code: "invalid_api_key").response
        }
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let error as HTTPError {
            let type = error.status == .notFound ? "invalid_request_error" : error.status.code >= 500 ? "server_error" : "invalid_request_error"
            return APIError(status: error.status, message: error.body ?? error.status.reasonPhrase, type: type).response
        }
    }
}
