import ArgumentParser
import Dispatch
import Foundation
import TailorDiagnostics
import TailorEngine
import TailorExecutor
import TailorModels
import TailorPlan
import TailorServe

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model behind an OpenAI-compatible API (chat and text completions, or embeddings of an encoder).",
        discussion: """
            Listens on 127.0.0.1 unless --host says otherwise. With --api-key (or TAILOR_API_KEY) every
            request needs `Authorization: Bearer KEY`. SIGTERM or SIGINT finishes the requests in flight,
            then exits. Requests are decoded together, step by step (up to --max-batch at once, each
            joining at the next step after it arrives); more than --max-queue running or waiting get 429,
            and one that runs past --timeout seconds gets 408.

            Example: tailor serve models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --port 8000
              then: curl http://127.0.0.1:8000/v1/chat/completions -d '{"model": "SmolLM2-135M-Instruct.Q4_1",
                    "messages": [{"role": "user", "content": "Hi"}]}'
            """)

    @Argument(help: "A GGUF file or a Hugging Face folder (a decoder for completions, a sentence encoder for embeddings), or a spec whose `serve:` section names the models to serve.")
    var model: String

    @OptionGroup var specOptions: SpecOptions

    @Option(help: "With a spec: the artifact cache folder (default: as `tailor run`).")
    var cache: String?

    @Option(help: "The model's name in requests and /v1/models (default: the file's name without extension).")
    var name: String?

    @Option(help: ArgumentHelp("A LoRA adapter (a PEFT folder) served as its own model over the one base (repeatable).", valueName: "name=path"))
    var adapter: [String] = []

    @Option(help: "The address to listen on (default 127.0.0.1, or the spec's `serve.host`).")
    var host: String?

    @Option(help: "The port to listen on, 0 for any free port (default 8000, or the spec's `serve.port`).")
    var port: Int?

    @Option(help: "The key every request must carry (default: TAILOR_API_KEY, if set).")
    var apiKey: String?

    @Option(help: "The most tokens a request may ask for, and what one that asks for none gets (default 1024, or the spec's `serve.max_tokens`).")
    var maxTokens: Int?

    @Option(help: "The largest request body, in bytes.")
    var maxBodyBytes = 1 << 20

    @Option(help: "The most requests running or waiting; one more gets 429.")
    var maxQueue = 64

    @Option(help: "The most requests decoded together in one step; more wait for a place.")
    var maxBatch = 32

    @Flag(help: "Let requests load and unload LoRA adapters while serving (POST /v1/load_lora_adapter and /v1/unload_lora_adapter, as vLLM's); it reads paths on this machine.")
    var allowAdapterLoading = false

    @Option(help: ArgumentHelp("Seconds a request may take, waiting included; one that runs past it gets 408 (default: no limit).",
                               valueName: "seconds"))
    var timeout: Double?

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be from 0 to 65535") }
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be 1 or more") }
        if maxBodyBytes < 1024 { throw ValidationError("--max-body-bytes must be 1024 or more") }
        if maxQueue < 1 { throw ValidationError("--max-queue must be 1 or more") }
        if maxBatch < 1 { throw ValidationError("--max-batch must be 1 or more") }
        if let timeout, !(timeout > 0 && timeout.isFinite) { throw ValidationError("--timeout must be a number of seconds above 0") }
        if apiKey?.isEmpty == true { throw ValidationError("--api-key must not be empty") }
        for a in adapter where !a.contains("=") || a.hasPrefix("=") || a.hasSuffix("=") {
            throw ValidationError("--adapter takes NAME=PATH, got '\(a)'")
        }
    }

    var isSpec: Bool { model.hasSuffix(".yaml") || model.hasSuffix(".yml") }

    func run() throws {
        let served: Served
        var settings = (host: "127.0.0.1", port: 8000, maxTokens: 1024)
        if isSpec {
            if !adapter.isEmpty { throw ValidationError("--adapter is for a model file; a spec's `serve:` names its models") }
            if name != nil { throw ValidationError("--name is for a model file; a spec's models are served under their spec names") }
            (served, settings) = try fromSpec()
        } else {
            served = try fromFile()
        }
        let key = apiKey ?? ProcessInfo.processInfo.environment["TAILOR_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let options = ServeOptions(host: host ?? settings.host, port: port ?? settings.port, apiKey: key, maxBodyBytes: maxBodyBytes,
                                   maxTokens: maxTokens ?? settings.maxTokens, maxQueue: maxQueue, timeout: timeout,
                                   adapterLoading: allowAdapterLoading)
        let names = served.names.map { "'\($0)'" }.joined(separator: ", ")
        let app = OpenAIServer.application(served, options: options) { port in
            FileHandle.standardError.write(Data("serving \(names) on http://\(options.host):\(port)/v1\(key == nil ? "" : " (API key required)")\n".utf8))
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

    /// A model file: a decoder with the adapters given, or a sentence encoder.
    func fromFile() throws -> Served {
        let loaded = try openModel(model)
        let modelName = name ?? ((model as NSString).lastPathComponent as NSString).deletingPathExtension
        if case .encoder = loaded.backbone {
            if !adapter.isEmpty { throw ValidationError("--adapter needs a decoder; '\(model)' is a sentence encoder") }
            let (network, tokenizer) = try usage { try loaded.encoder() }
            return .encoder(ServedEncoder(name: modelName, model: network, tokenizer: tokenizer))
        }
        let (network, tokenizer) = try usage { try loaded.decoder() }
        let (decoding, _) = try usage { try loaded.decoding() }
        let template = try usage { try loaded.chatTemplate() }
        let adapters = adapter.map { a in
            let cut = a.firstIndex(of: "=")!
            return (name: String(a[..<cut]), path: String(a[a.index(after: cut)...]))
        }
        return .decoder(try usage {
            try ServedModel(name: modelName, model: network, decoding: decoding, tokenizer: tokenizer, template: template, adapters: adapters,
                            maxBatch: maxBatch)
        })
    }

    /// A spec's `serve:` models, built first as `tailor run` builds them (from the cache when
    /// it holds them), each served under its spec name; and the section's host, port and token cap.
    func fromSpec() throws -> (Served, (host: String, port: Int, maxTokens: Int)) {
        var diagnostics = DiagnosticBag()
        let compiler = makeCompiler()
        let planned = compiler.plan(file: model, sets: specOptions.sets, diagnostics: &diagnostics)
        report(diagnostics, sources: compiler.sources, options: specOptions)
        guard let planned else { throw ExitCode(1) }
        guard let section = planned.nodes.first(where: { $0.kind == .serveAPI }) else {
            throw ValidationError("\(model) has no `serve:` section naming the models to serve")
        }
        let (_, _, outcomes) = try Run.build(model, only: section.inputs.map(\.node), options: specOptions, cache: cache,
                                             jobs: ProcessInfo.processInfo.activeProcessorCount) { _ in }
        func artifact(_ id: String) throws -> Artifact {
            guard let artifact = outcomes.first(where: { $0.node.id == id })?.artifact else { throw ValidationError("'\(id)' was not built") }
            return artifact
        }
        let ids = section.inputs.filter { $0.role == .model }.map(\.node)
        // Models that are LoRA adapters of one base keep its weight file unchanged (one digest):
        // they are served as adapters over one copy of it, as `--adapter` serves folders.
        var groups: [(digest: String?, members: [(name: String, model: any CausalLM, tokenizer: BPETokenizer, template: ChatTemplate)])] = []
        for id in ids {
            let built = try artifact(id)
            let (network, tokenizer, template) = try ServableModel.decoder(built)
            let member = (name: String(id.dropFirst("model.".count)), model: network, tokenizer: tokenizer, template: template)
            let digest = built.files["model.safetensors"]
            if let digest, let g = groups.firstIndex(where: { $0.digest == digest }) {
                groups[g].members.append(member)
            } else {
                groups.append((digest, [member]))
            }
        }
        let models = try groups.flatMap { group -> [ServedModel] in
            let adapted = group.members.map { ($0.model as? Adaptable)?.adapters.isEmpty == false }
            guard group.members.count > 1, let base = ModelPool.view(group.members[0].model) else {
                return try group.members.map { m in
                    try ServedModel(name: m.name, model: m.model, decoding: try decodingModel(m.model), tokenizer: m.tokenizer, template: m.template,
                                    maxBatch: maxBatch)
                }
            }
            // The base is served under its own name when the section names it; otherwise it is only
            // the parent its adapters list.
            let plain = zip(group.members, adapted).first { !$1 }?.0
            let first = group.members[0]
            let baseName = plain?.name ?? planned.nodes.first { $0.id == "model." + first.name }?.inputs.map(\.node)
                .first { $0.hasPrefix("model.") }.map { String($0.dropFirst("model.".count)) } ?? "base"
            let served = try ServedModel(name: baseName, model: base, decoding: try decodingModel(base), tokenizer: first.tokenizer,
                                         template: plain?.template ?? first.template, maxBatch: maxBatch, servesBase: plain != nil)
            for m in group.members where m.name != plain?.name {
                try served.add(adapter: m.name, (m.model as? Adaptable)?.adapters ?? AdapterSet(), source: "model." + m.name, template: m.template)
            }
            return [served]
        }
        // RAG pipelines: each answers with its generator, the served one of that name or a model
        // of its own that is not listed.
        let pipelines = try (section.params["rag"]?.entries ?? []).map { name, v -> ServedRAG in
            func id(_ key: String) throws -> String {
                guard let id = v[key]?.string else { throw ValidationError("the serve node lacks rag.\(name).\(key)") }
                return id
            }
            let generatorID = try id("generator"), generatorName = String(generatorID.dropFirst("model.".count))
            let generator = try artifact(generatorID)
            let (network, tokenizer, template) = try ServableModel.decoder(generator)
            let served = try models.first { $0.serves(generatorName) }
                ?? ServedModel(name: generatorName, model: network, decoding: try decodingModel(network), tokenizer: tokenizer, template: template,
                               maxBatch: maxBatch, servesBase: false)
            let pipeline = try ServableRAG(index: try artifact(try id("index")), encoder: try artifact(try id("encoder")), generator: generator,
                                           prompt: try artifact(try id("prompt")), shotEncoder: try v["shot_encoder"]?.string.map(artifact),
                                           topK: v["top_k"]?.int ?? 4)
            nonisolated(unsafe) let model = network  // only its context is read, never its weights changed
            return ServedRAG(name: name, generator: served, variant: generatorName) { question in
                try pipeline.prompt(question, model: model, tokenizer: tokenizer)
            }
        }
        let p = section.params
        return (.decoders(models, rag: pipelines), (p["host"]?.string ?? "127.0.0.1", p["port"]?.int ?? 8080, p["max_tokens"]?.int ?? 1024))
    }
    /// The server's error, handed from its task to the command.
    final class Failure: @unchecked Sendable { var error: (any Error)? }
}
