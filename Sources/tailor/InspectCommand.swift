import ArgumentParser
import Foundation
import TailorModels
import TailorRuntime

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model file's architecture, parameter count, tensors and tokenizer.",
        discussion: "Example: tailor inspect models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")

    @Argument(help: "A GGUF file or a Hugging Face model folder.")
    var model: String

    @Flag(help: "List every tensor.")
    var tensors = false

    func run() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue {
            return try inspectFolder()
        }
        let file: GGUFFile
        do {
            file = try GGUFFile(path: model)
        } catch let error as ModelFileError {
            throw fail(error)
        }
        print("file: \(model) (GGUF v\(file.version))")
        if let name = file.string("general.name") { print("name: \(name)") }
        print("architecture: \(file.architecture ?? "unknown")")
        if let config = try? file.llamaConfig() {
            print("config: \(config.layers) layers, width \(config.width), \(config.heads) heads (\(config.kvHeads) key/value), "
                  + "MLP \(config.ffn), vocab \(config.vocab), context \(config.context), RoPE base \(config.ropeBase), "
                  + (config.tiedHead ? "tied head" : "untied head"))
        }
        let count = file.tensors.reduce(0) { $0 &+ (CheckedSize.product($1.shape) ?? 0) }  // each bounded by the file size
        let types = Dictionary(grouping: file.tensors, by: \.type.name).map { "\($0.key) ×\($0.value.count)" }.sorted()
        print("parameters: \(count) in \(file.tensors.count) tensors (\(types.joined(separator: ", ")))")
        do {
            let tokenizer = try file.bpeTokenizer()
            print("tokenizer: byte-level BPE, \(tokenizer.count) tokens, pre-tokenizer \(tokenizer.preTokenizer.rawValue), "
                  + "\(tokenizer.specialTokens.count) special tokens" + (tokenizer.eos.map { ", EOS \(tokenizer.vocabulary[Int($0)])" } ?? ""))
        } catch {
            print("tokenizer: none usable (\(error))")
        }
        if let jinja = file.string("tokenizer.chat_template") {
            do {
                _ = try JinjaTemplate(jinja)
                print("chat template: the model's own (Jinja, \(jinja.count) characters)")
            } catch {
                print("chat template: present but unreadable (\(error))")
            }
        } else {
            print("chat template: none (chats are written as `Role: text` lines)")
        }
        if tensors {
            for t in file.tensors { print("  \(t.name) \(t.shape) \(t.type.name)") }
        }
    }

    func inspectFolder() throws {
        let loaded = try openModel(model)
        print("folder: \(model) (Hugging Face)")
        if case .decoder(let network) = loaded.backbone {
            let tokenizer = loaded.bpe
            switch network {
            case let gpt2 as GPT2:
                let c = gpt2.config
                print("architecture: gpt2 (decoder)")
                print("config: \(c.layers) layers, width \(c.width), \(c.heads) heads, vocab \(c.vocab), context \(c.context), tied head")
                print("parameters: \(gpt2.namedParameters.reduce(0) { $0 + $1.1.count })")
            case let llama as Llama:
                let c = llama.config
                print("architecture: llama (decoder)")
                print("config: \(c.layers) layers, width \(c.width), \(c.heads) heads (\(c.kvHeads) key/value), MLP \(c.ffn), "
                      + "vocab \(c.vocab), context \(c.context), RoPE base \(c.ropeBase), " + (c.tiedHead ? "tied head" : "untied head"))
                print("parameters: \(llama.namedParameters.reduce(0) { $0 + $1.1.count })")
            default:
                print("architecture: decoder")
            }
            print("tokenizer: " + (tokenizer.map { "byte-level BPE, \($0.count) tokens, pre-tokenizer \($0.preTokenizer.rawValue)" } ?? "none (no tokenizer.json)"))
            return
        }
        let (bert, tokenizer) = try loaded.encoder()
        let c = bert.config
        print("architecture: bert (encoder)")
        print("config: \(c.layers) layers, width \(c.width), \(c.heads) heads, MLP \(c.ffn), vocab \(c.vocab), positions \(c.maxPositions)")
        let params = [bert.wordEmbed, bert.positionEmbed, bert.typeEmbed].reduce(0) { $0 + $1.count }
            + bert.layers.reduce(0) { total, l in
                total + [l.q, l.k, l.v, l.o, l.up, l.down].reduce(0) { $0 + $1.weight.count + ($1.bias?.count ?? 0) } + 4 * c.width
            } + 2 * c.width
        print("parameters: \(params)")
        print("tokenizer: WordPiece, \(tokenizer.count) tokens, " + (tokenizer.lowercase ? "lower case" : "cased"))
        if tensors {
            for name in try HuggingFaceFolder(path: model).weights().keys.sorted() { print("  \(name)") }
        }
    }
}
