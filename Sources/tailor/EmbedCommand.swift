import ArgumentParser
import Foundation
import TailorModels

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sentence embeddings (mean-pooled, unit length) from an encoder, as JSON.",
        discussion: "Example: tailor embed models/all-MiniLM-L6-v2 --text \"A man is playing a guitar.\"")

    @Argument(help: "A Hugging Face folder with a BERT sentence encoder.")
    var model: String

    @Option(help: "A text to embed (repeat for several).")
    var text: [String] = []

    func validate() throws {
        if text.isEmpty { throw ValidationError("give a text with --text") }
    }

    struct Item: Encodable {
        var text: String, embedding: [Float]
    }

    func run() throws {
        let loaded = try openModel(model)
        let (network, tokenizer) = try usage { try loaded.encoder() }
        let vectors = network.embeddings(text.map { tokenizer.encode($0, maxLength: 256) })
        try printJSON(zip(text, vectors).map { Item(text: $0, embedding: $1) })
    }
}
