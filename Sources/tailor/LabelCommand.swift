import ArgumentParser
import Dispatch
import Foundation
import TailorModels
import TailorServe

struct Label: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a page where a person picks the better of two answers; the labels train `reward:` and `dpo:`.",
        discussion: """
            The pairs come from a JSON Lines file ({"prompt": ..., "responses": [A, B]} a line), or a model
            answers each prompt of --prompts twice: two adapters (--adapter twice), the base against one
            adapter (--adapter once), or two samples of the model (--temperature above 0).

            Each choice is appended to --out in TRL's layout ({"id", "prompt", "chosen", "rejected"}) and
            flushed to disk before the next pair shows; ties go to OUT.ties.jsonl. Started again with the
            same --out, it goes on with the pairs not yet labelled. Keys: 1, A or ← for the left answer,
            2, B or → for the right one, T, 0 or ↓ for a tie.

            Example: tailor label pairs.jsonl --out labels.jsonl, then open http://127.0.0.1:8000/
            """)

    @Argument(help: "A JSON Lines file of pairs, or with --prompts a model (GGUF file or Hugging Face folder) that writes them.")
    var source: String

    @Option(help: "The labels file (JSON Lines, appended to).")
    var out: String

    @Option(help: "A JSON Lines file of prompts ({\"prompt\": ...} a line) for the model to answer twice.")
    var prompts: String?

    @Option(help: ArgumentHelp("A LoRA adapter that answers (a PEFT folder; once: against the base, twice: against each other).", valueName: "name=path"))
    var adapter: [String] = []

    @Option(parsing: .unconditional, help: "Sampling temperature of the answers (above 0 to sample one model twice).")
    var temperature: Float = 0.8

    @Option(help: "Most tokens an answer has.")
    var maxTokens = 128

    @Option(parsing: .unconditional, help: "Seed of the answers (pair N draws from seed + N).")
    var seed: UInt64 = 0

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on, 0 for any free port.")
    var port = 8000

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be from 0 to 65535") }
        if prompts == nil, !adapter.isEmpty { throw ValidationError("--adapter needs --prompts: adapters write answers to prompts") }
        if adapter.count > 2 { throw ValidationError("a pair has two answers: give --adapter at most twice") }
        if prompts != nil, adapter.isEmpty, !(temperature > 0) {
            throw ValidationError("two answers of one model need --temperature above 0, or they are the same")
        }
        if !(temperature >= 0 && temperature.isFinite) { throw ValidationError("--temperature must be 0 or more") }
        if maxTokens < 1 { throw ValidationError("--max-tokens must be 1 or more") }
        for a in adapter where !a.contains("=") || a.hasPrefix("=") || a.hasSuffix("=") {
            throw ValidationError("--adapter takes NAME=PATH, got '\(a)'")
        }
    }

    func run() throws {
        let store: LabelStore
        let source: any PairSource
        do {
            store = try LabelStore(path: out)
            source = try prompts.map { try sampled(from: $0) } ?? FilePairs(path: self.source)
        } catch let error as LabelError {
            throw fail(error)
        }
        let remaining = source.ids.filter { !store.isLabelled($0) }.count
        if store.resumed.repaired { FileHandle.standardError.write(Data("note: dropped an unfinished last line of \(out) (a write cut short)\n".utf8)) }
        let app = LabelServer.application(source, store: store, host: host, port: port) { [host, out] port in
            FileHandle.standardError.write(Data("labelling \(remaining) of \(source.ids.count) pairs into \(out) on http://\(host):\(port)/\n".utf8))
        }
        let done = DispatchSemaphore(value: 0)
        let failure = Serve.Failure()
        Task {
            do { try await app.runService() } catch { failure.error = error }
            done.signal()
        }
        done.wait()
        if let error = failure.error { throw ValidationError("the server stopped: \(error)") }
    }

    /// A model answering each prompt twice: the two adapters, the base and one adapter, or the base twice.
    func sampled(from path: String) throws -> SampledPairs {
        let prompts = try SampledPairs.prompts(path)
        let loaded = try openModel(source)
        let (network, tokenizer) = try usage { try loaded.decoder() }
        let (decoding, _) = try usage { try loaded.decoding() }
        let name = ((source as NSString).lastPathComponent as NSString).deletingPathExtension
        let adapters = adapter.map { a in
            let cut = a.firstIndex(of: "=")!
            return (name: String(a[..<cut]), path: String(a[a.index(after: cut)...]))
        }
        let model = try usage {
            try ServedModel(name: name, model: network, decoding: decoding, tokenizer: tokenizer, template: try loaded.chatTemplate(), adapters: adapters,
                            maxBatch: 2)
        }
        let sides = adapters.count == 2 ? (adapters[0].name, adapters[1].name) : (name, adapters.first?.name ?? name)
        return try SampledPairs(model: model, prompts: prompts, sides: sides,
                                options: SamplingOptions(maxTokens: maxTokens, temperature: temperature, seed: seed))
    }
}
