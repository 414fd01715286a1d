/// The tokenizer a GGUF file carries in its `tokenizer.ggml.*` metadata.
extension GGUFFile {
    public func bpeTokenizer() throws -> BPETokenizer {
        guard let model = string("tokenizer.ggml.model") else { throw ModelFileError(path, "carries no tokenizer (no tokenizer.ggml.model)") }
        guard model == "gpt2" else {
            throw ModelFileError(path, "has a '\(model)' tokenizer; Tailor reads byte-level BPE ('gpt2') tokenizers from GGUF")
        }
        guard let tokens = metadata["tokenizer.ggml.tokens"]?.array?.compactMap(\.string), !tokens.isEmpty else {
            throw ModelFileError(path, "tokenizer.ggml.tokens is missing or not a list of strings")
        }
        let mergeLines = metadata["tokenizer.ggml.merges"]?.array?.compactMap(\.string) ?? []
        var merges: [(String, String)] = []
        for (n, line) in mergeLines.enumerated() {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw ModelFileError(path, "merge \(n + 1) ('\(line)') is not two tokens separated by a space") }
            merges.append((String(parts[0]), String(parts[1])))
        }
        let types = metadata["tokenizer.ggml.token_type"]?.array?.compactMap(\.int) ?? []
        // 3 = control (<|im_start|>), 4 = user-defined: matched whole in text.
        var specials: [String: Int32] = [:]
        for (i, type) in types.enumerated() where (type == 3 || type == 4) && i < tokens.count { specials[tokens[i]] = Int32(i) }
        let preName = string("tokenizer.ggml.pre") ?? "gpt2"
        guard let pre = PreTokenizer(ggufName: preName) else {
            throw ModelFileError(path, "uses the '\(preName)' pre-tokenizer, which Tailor does not know (known: gpt2, smollm, starcoder, refact)")
        }
        let id = { (key: String) -> Int32? in self.int(key).flatMap { $0 >= 0 && $0 < tokens.count ? Int32($0) : nil } }
        return try BPETokenizer(vocabulary: tokens, merges: merges, specialTokens: specials, preTokenizer: pre,
                                bos: id("tokenizer.ggml.bos_token_id"), eos: id("tokenizer.ggml.eos_token_id"),
                                unknown: id("tokenizer.ggml.unknown_token_id"), source: path)
    }
}
