/// The request and response bodies of the OpenAI API that `tailor serve` answers, as the
/// official `openai` client sends and reads them (https://platform.openai.com/docs/api-reference).
/// Keys are the API's snake_case ones.
enum OpenAI {
    struct ChatMessage: Codable, Sendable {
        var role: String
        var content: String
    }

    /// One string or a list of them (`stop`, an embedding's `input`); token-id lists are refused.
    struct Strings: Decodable, Sendable {
        var strings: [String]
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let list = try? c.decode([String].self) {
                strings = list
            } else {
                strings = [try c.decode(String.self)]
            }
        }
    }

    struct StreamOptions: Decodable, Sendable {
        var include_usage: Bool?
    }

    /// The settings both completions endpoints share.
    struct Sampling: Decodable, Sendable {
        var max_tokens: Int?
        var max_completion_tokens: Int?
        var temperature: Float?
        var top_p: Float?
        var seed: UInt64?
        var stop: Strings?
        var n: Int?
        var stream: Bool?
        var stream_options: StreamOptions?
    }

    struct ChatRequest: Decodable, Sendable {
        var model: String
        var messages: [ChatMessage]
    }

    struct CompletionRequest: Decodable, Sendable {
        var model: String
        var prompt: String
    }

    /// vLLM's body for loading and unloading adapters at run time; `base_model` (ours) picks the
    /// base when a server serves several.
    struct AdapterRequest: Decodable, Sendable {
        var lora_name: String
        var lora_path: String?
        var base_model: String?
    }

    /// What unloading an adapter answers, as the API answers a deleted model.
    struct Deleted: Encodable, Sendable {
        var id: String
        var object = "model"
        var deleted = true
    }

    struct Usage: Encodable, Sendable {
        var prompt_tokens: Int, completion_tokens: Int, total_tokens: Int
    }

    struct ChatChoice: Encodable, Sendable {
        var index: Int
        var message: ChatMessage
        var finish_reason: String
    }

    struct ChatCompletion: Encodable, Sendable {
        var id: String
        var object = "chat.completion"
        var created: Int
        var model: String
        var choices: [ChatChoice]
        var usage: Usage
        /// A RAG pipeline's answer: the ids of the passages it was given (ours; clients ignore it).
        var retrieved: [String]? = nil
    }

    struct Delta: Encodable, Sendable {
        var role: String?
        var content: String?
    }

    struct ChunkChoice: Encodable, Sendable {
        var index: Int
        var delta: Delta
        /// Null until the last chunk of the choice, as the API writes it.
        var finish_reason: String?

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(delta, forKey: .delta)
            try c.encode(finish_reason, forKey: .finish_reason)  // `null`, not left out
        }

        enum CodingKeys: String, CodingKey { case index, delta, finish_reason }
    }

    struct ChatChunk: Encodable, Sendable {
        var id: String
        var object = "chat.completion.chunk"
        var created: Int
        var model: String
        var choices: [ChunkChoice]
        var usage: Usage?
    }

    struct TextChoice: Encodable, Sendable {
        var index: Int
        var text: String
        var finish_reason: String
    }

    struct Completion: Encodable, Sendable {
        var id: String
        var object = "text_completion"
        var created: Int
        var model: String
        var choices: [TextChoice]
        var usage: Usage
        var retrieved: [String]? = nil
    }

    /// A served model; an adapter names the base it adapts (`parent`) and its folder (`root`),
    /// as vLLM lists LoRA adapters.
    struct ModelCard: Encodable, Sendable {
        var id: String
        var object = "model"
        var created: Int
        var owned_by = "tailor"
        var root: String
        var parent: String?
    }

    struct ModelList: Encodable, Sendable {
        var object = "list"
        var data: [ModelCard]
    }

    /// An error as the API writes one: `{"error": {"message", "type", "param", "code"}}`.
    struct ErrorBody: Encodable, Sendable {
        struct Detail: Encodable, Sendable {
            var message: String, type: String, param: String?, code: String?
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(message, forKey: .message)
                try c.encode(type, forKey: .type)
                try c.encode(param, forKey: .param)
                try c.encode(code, forKey: .code)
            }
            enum CodingKeys: String, CodingKey { case message, type, param, code }
        }
        var error: Detail
    }
}

extension OpenAI {
    struct EmbeddingRequest: Decodable, Sendable {
        var model: String
        var input: Strings
        /// `float` (a list of numbers) or `base64` (the float32 bytes, little-endian), which the
        /// official Python client asks for unless told otherwise.
        var encoding_format: String?
        var dimensions: Int?
    }

    /// One vector, as numbers or as base64 of its float32 bytes.
    enum Vector: Encodable, Sendable {
        case floats([Float]), base64(String)
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .floats(let v): try c.encode(v)
            case .base64(let s): try c.encode(s)
            }
        }
    }

    struct Embedding: Encodable, Sendable {
        var object = "embedding"
        var index: Int
        var embedding: Vector
    }

    struct EmbeddingUsage: Encodable, Sendable {
        var prompt_tokens: Int, total_tokens: Int
    }

    struct EmbeddingList: Encodable, Sendable {
        var object = "list"
        var data: [Embedding]
        var model: String
        var usage: EmbeddingUsage
    }
}
