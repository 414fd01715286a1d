import ArgumentParser
import Foundation
import TailorModels

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a decoder (GGUF file or Hugging Face folder) as a Hugging Face folder, float32.",
        discussion: """
            The folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json) loads in
            Hugging Face transformers. GGUF's interleaved Q/K layout is permuted back on the way.

            Example: tailor convert models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf /tmp/smollm2-hf
            """)

    @Argument(help: "A GGUF file or Hugging Face folder with a decoder.")
    var model: String

    @Argument(help: "The folder to write (replaced if it exists).")
    var output: String

    func run() throws {
        let loaded = try openModel(model)
        let tokenizer = loaded.bpe
        guard case .decoder(let network) = loaded.backbone else {
            throw ValidationError("\(model) is an encoder; convert writes decoders")
        }
        do {
            switch network {
            case let gpt2 as GPT2: try HuggingFaceFolder.save(gpt2, to: output, tokenizer: tokenizer)
            case let llama as Llama: try HuggingFaceFolder.save(llama, to: output, tokenizer: tokenizer, chatTemplate: loaded.chatTemplateSource)
            default: throw ValidationError("\(model): this architecture cannot be written yet")
            }
        } catch let error as ModelFileError {
            throw fail(error)
        }
        print("wrote \(output)")
    }
}
