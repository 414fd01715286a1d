import TailorData
import TailorEngine
import TailorModels

/// Records as the models module takes them: chat messages, and whole texts.
enum Rendering {
    static let endOfText = "<|endoftext|>"

    /// A record's chat turns as the models module's messages.
    static func messages(_ turns: [[String: Any]]) -> [ChatTemplate.Message] {
        turns.map { ChatTemplate.Message(role: $0["role"] as? String ?? "user", content: $0["content"] as? String ?? "") }
    }

    /// Every record's full text (for tokenizer training).
    static func texts(_ data: Dataset, source: String) throws -> [String] {
        try data.records.enumerated().map { i, r in
            guard let (context, answer) = RecordText.parts(r) else { throw ExecutionError.noTextFields(source, record: i + 1) }
            return context + answer
        }
    }
}
