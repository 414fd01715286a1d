import TailorDiagnostics

extension Message {
    static func fileTooLarge(_ bytes: Int, limit: Int) -> Message {
        Message("file is too large (\(bytes) bytes; the limit is \(limit) bytes)")
    }
    static func notUTF8(_ byte: UInt8) -> Message {
        Message("file is not valid UTF-8 (byte 0x\(String(byte, radix: 16, uppercase: true)) here); save it as UTF-8")
    }
    static let emptyDocument = Message("file is empty; a spec needs at least 'tailor: 1' and 'name:'")
    static let secondDocument = Message("a spec file holds one YAML document, but a second one starts here")
    static func syntax(_ problem: String) -> Message { Message("invalid YAML: \(problem)") }
    static let tabIndent = Message("invalid YAML: a tab character cannot be used for indentation")
    static func tooDeep(_ limit: Int) -> Message { Message("nesting is deeper than \(limit) levels") }
    static func aliasBomb(_ limit: Int) -> Message {
        Message("aliases expand this document to more than \(limit) nodes")
    }
    static func unknownAnchor(_ name: String) -> Message { Message("alias '*\(name)' names no anchor defined before it") }
    static func duplicateKey(_ key: String) -> Message { Message("duplicate key '\(key)'") }
    static let badMerge = Message("a merge key '<<' takes a mapping or a list of mappings")
}
