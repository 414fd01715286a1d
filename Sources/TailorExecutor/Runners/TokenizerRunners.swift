import Foundation
import TailorData
import TailorEngine
import TailorModels
import TailorPlan
import TailorTraining

/// tokenizer.train and data.tokenize.
enum TokenizerRunners {
    static func train(_ ctx: NodeContext) throws {
        var texts: [String] = []
        for entry in ctx.inputs(.source) { texts += try Rendering.texts(try ctx.dataset(entry), source: entry.input.display) }
        let p = try ctx.parameters(TokenizerTrainParameters.self)
        let trainer = BPETrainer(vocabSize: p.vocab,
                                 specialTokens: [Rendering.endOfText] + p.special.filter { $0 != Rendering.endOfText },
                                 minFrequency: p.minFrequency)
        ctx.progress("training BPE on \(texts.count) texts")
        let tokenizer = try trainer.train(texts)
        try write(tokenizer, ctx)
    }

    /// A tokenizer artifact: `tokenizer.json` and a `tokenizer_config.json` naming its BOS and
    /// EOS (and the model's chat template, for a tokenizer loaded from a model), as in a Hugging
    /// Face folder.
    static func write(_ tokenizer: BPETokenizer, _ ctx: NodeContext, chatTemplate: String? = nil) throws {
        try TokenizerJSON.data(tokenizer).write(to: URL(fileURLWithPath: ctx.out("tokenizer.json")))
        var settings: [String: Any] = [:]
        if let chatTemplate { settings["chat_template"] = chatTemplate }
        if let bos = tokenizer.bos { settings["bos_token"] = tokenizer.vocabulary[Int(bos)] }
        if let eos = tokenizer.eos { settings["eos_token"] = tokenizer.vocabulary[Int(eos)] }
        try JSONSerialization.data(withJSONObject: settings, options: [.sortedKeys]).write(to: URL(fileURLWithPath: ctx.out("tokenizer_config.json")))
    }

    /// A byte tokenizer: the 256 byte symbols, no merges, end of text and the spec's specials.
    static func bytes(_ ctx: NodeContext) throws {
        let special = try ctx.parameters(SpecialTokensParameters.self).special.filter { $0 != Rendering.endOfText }
        try write(try BPETrainer(vocabSize: 0, specialTokens: [Rendering.endOfText] + special).train([String]()), ctx)
    }

    /// A tokenizer file from the user: a `tokenizer.json` (byte-level BPE) or a GGUF model's tokenizer.
    static func loadFile(_ ctx: NodeContext) throws {
        if !(try ctx.parameters(TokenizerLoadParameters.self).special.isEmpty) {  // the checker refuses them: the file defines its own
            throw ExecutionError.loadedSpecials
        }
        let file = ctx.node.files.first ?? ""
        let path = ctx.resolve(file)
        do {
            if path.hasSuffix(".gguf") {
                let gguf = try GGUFFile(path: path)
                return try write(try gguf.bpeTokenizer(), ctx, chatTemplate: gguf.string("tokenizer.chat_template"))
            }
            // A lone tokenizer.json has no chat template: its model's is in another file, which
            // the node's key does not cover (load the model, or its GGUF file, to use it).
            switch try TokenizerJSON.load(path: path, eos: Rendering.endOfText) {
            case .bpe(let tokenizer): try write(tokenizer, ctx)
            case .wordPiece: try FileManager.default.copyItem(atPath: path, toPath: ctx.out("tokenizer.json"))  // kept as it is, once it reads
            }
        } catch let error as ModelFileError {
            throw ExecutionError(error.description)
        }
    }

    /// Reads a tokenizer artifact's byte-level BPE tokenizer.json (what decoders need).
    static func load(_ artifact: Artifact) throws -> BPETokenizer {
        guard case .bpe(let tokenizer) = try ArtifactTokenizer.load(artifact) else {
            throw ExecutionError.wordPieceForDecoder(artifact.key)
        }
        return tokenizer
    }

    /// A chat in ChatML (`<|im_start|>role\ncontent<|im_end|>\n` per message) when the tokenizer
    /// has those tokens: only the assistant's words and their `<|im_end|>` are targets (mask 1),
    /// so fine-tuning learns to answer, not to write the user's turns. Nil without them.
    /// With `scored`, only the last `scored` assistant turns are (a preference pair's answer
    /// after a prompt that may hold assistant turns of its own).
    static func chatML(_ messages: [[String: Any]], _ tokenizer: BPETokenizer, scored: Int? = nil) -> (ids: [Int32], mask: [UInt8])? {
        guard let start = tokenizer.specialTokens["<|im_start|>"], let end = tokenizer.specialTokens["<|im_end|>"] else { return nil }
        let newline = tokenizer.encode("\n", specials: false)
        var ids: [Int32] = [], mask: [UInt8] = []
        var assistantTurnsLeft = messages.filter { $0["role"] as? String == "assistant" }.count
        for message in messages {
            let role = message["role"] as? String ?? "user", content = message["content"] as? String ?? ""
            let header = [start] + tokenizer.encode(role, specials: false) + newline
            let body = tokenizer.encode(content, specials: false) + [end]
            if role == "assistant" { assistantTurnsLeft -= 1 }
            let learned: UInt8 = role == "assistant" && scored.map { assistantTurnsLeft < $0 } ?? true ? 1 : 0
            ids += header + body + newline
            mask += [UInt8](repeating: 0, count: header.count) + [UInt8](repeating: learned, count: body.count) + [UInt8](repeating: 0, count: newline.count)
        }
        return (ids, mask)
    }

    /// A chat through the model's own template: the rendered text's assistant turns (as the
    /// template writes them, end markers included) are targets, everything else context; with
    /// `scored`, only the last `scored` assistant turns.
    static func templated(_ messages: [[String: Any]], _ template: ChatTemplate, _ tokenizer: BPETokenizer,
                          scored: Int? = nil) throws -> (ids: [Int32], mask: [UInt8]) {
        var ids: [Int32] = [], mask: [UInt8] = []
        let pieces = try template.pieces(Rendering.messages(messages))
        var assistantTurnsLeft = pieces.filter(\.assistant).count
        for piece in pieces {
            let encoded = tokenizer.encode(piece.text, specials: true)
            if piece.assistant { assistantTurnsLeft -= 1 }
            let learned = piece.assistant && scored.map { assistantTurnsLeft < $0 } ?? true
            ids += encoded
            mask += [UInt8](repeating: learned ? 1 : 0, count: encoded.count)
        }
        return (ids, mask)
    }

    /// One side of record `index`, a preference pair, as ids and mask (answer 1). A
    /// conversational pair (TRL's layout: the prompt's turns, the answer's turns) is one chat
    /// through the model's own template when it has one, else ChatML when the tokenizer has its
    /// tokens, the answer's assistant turns alone as targets; text pairs, and chats a tokenizer
    /// has no way to write, are the prompt, the answer and end of text. A record that is no
    /// pair, or a chat the template fails on, is an error naming the record in `source`.
    static func pairSide(_ record: [String: Any], _ index: Int, rejected: Bool, _ tokenizer: BPETokenizer, eos: Int32,
                         template: inout ArtifactTokenizer.LazyChatTemplate, source: String) throws -> (ids: [Int32], mask: [UInt8]) {
        if let prompt = record["prompt"] as? [[String: Any]], let answer = record[rejected ? "rejected" : "chosen"] as? [[String: Any]] {
            let turns = answer.filter { $0["role"] as? String == "assistant" }.count
            do {
                if let template = try template.get() { return try templated(prompt + answer, template, tokenizer, scored: turns) }
            } catch let error as JinjaError {
                throw ExecutionError.chatRecord(source, record: index + 1, error)
            }
            if let chat = chatML(prompt + answer, tokenizer, scored: turns) { return chat }
        }
        guard let (context, answer) = rejected ? RecordText.rejectedParts(record) : RecordText.parts(record) else {
            throw ExecutionError.notAPair(source, record: index + 1)
        }
        return tokenizer.example(context: context, answer: answer, eos: eos)
    }

    /// Each record as ids: context tokens (mask 0), answer tokens and end-of-text (mask 1).
    /// Chats go through the model's own chat template when its tokenizer artifact has one,
    /// else ChatML when the tokenizer has ChatML's tokens. With a WordPiece tokenizer (BERT
    /// encoders, classification only) each record's text as `[CLS] text [SEP]`.
    static func tokenize(_ ctx: NodeContext) throws {
        let source = try ctx.input(.source)
        let data = try ctx.dataset(source)
        var arrays = TokenArrays()
        let tokenizer: BPETokenizer
        let tokenizerArtifact = try ctx.input(.tokenizer).artifact
        switch try ArtifactTokenizer.load(tokenizerArtifact) {
        case .bpe(let bpe):
            tokenizer = bpe
        case .wordPiece(let wordPiece):
            for (i, record) in data.records.enumerated() {
                guard let (context, answer) = RecordText.parts(record) else {
                    throw ExecutionError.noTextFields(source.input.display, record: i + 1)
                }
                let ids = wordPiece.encode(context.isEmpty ? answer : context + " " + answer)
                arrays.append(ids, mask: [0] + [UInt8](repeating: 1, count: ids.count - 1))
            }
            return try finish(arrays, data, ctx)
        }
        guard let eos = tokenizer.eos else { throw ExecutionError.tokenizerLacks(Rendering.endOfText) }
        var template = ArtifactTokenizer.LazyChatTemplate(tokenizerArtifact)
        if data.records.contains(where: { $0["rejected"] != nil }) {
            // Preference pairs keep their rejected side beside the chosen one, record for record.
            var rejected = TokenArrays()
            for (i, record) in data.records.enumerated() {
                let c = try pairSide(record, i, rejected: false, tokenizer, eos: eos, template: &template, source: source.input.display)
                let r = try pairSide(record, i, rejected: true, tokenizer, eos: eos, template: &template, source: source.input.display)
                arrays.append(c.ids, mask: c.mask)
                rejected.append(r.ids, mask: r.mask)
            }
            try finish(arrays, data, ctx)
            return try rejected.write(ctx.out("rejected.bin"))
        }
        for (i, record) in data.records.enumerated() {
            if let messages = record["messages"] as? [[String: Any]] {
                if let template = try template.get() {
                    do {
                        let chat = try templated(messages, template, tokenizer)
                        arrays.append(chat.ids, mask: chat.mask)
                    } catch let error as JinjaError {
                        throw ExecutionError.chatRecord(source.input.display, record: i + 1, error)
                    }
                    continue
                }
                if let chat = chatML(messages, tokenizer) {
                    arrays.append(chat.ids, mask: chat.mask)
                    continue
                }
            }
            guard let (context, answer) = RecordText.parts(record) else {
                throw ExecutionError.noTextFields(source.input.display, record: i + 1)
            }
            let (ids, mask) = tokenizer.example(context: context, answer: answer, eos: eos)
            arrays.append(ids, mask: mask)
        }
        try finish(arrays, data, ctx)
    }


    /// Writes the token arrays, and the class labels of classification records.
    static func finish(_ arrays: TokenArrays, _ data: Dataset, _ ctx: NodeContext) throws {
        try arrays.write(ctx.out("tokens.bin"))
        // Classification records keep their labels beside the tokens, as class indices.
        if data.records.contains(where: { $0["label"] != nil }) {
            let names = data.records.map { Labels.name($0["label"]) }
            let classes = Labels.classes(names)
            let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
            try JSONText.render(["classes": classes, "labels": names.map { index[$0]! }] as [String: Any])
                .write(toFile: ctx.out("labels.json"), atomically: false, encoding: .utf8)
        }
    }
}

extension TokenizerRunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.tokenizerTrain: train, .tokenizerBytes: bytes, .tokenizerLoad: loadFile, .dataTokenize: tokenize]
}
