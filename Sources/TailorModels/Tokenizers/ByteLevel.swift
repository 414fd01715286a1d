/// GPT-2's byte-level alphabet: every byte maps to one printable character, so BPE
/// vocabularies are strings and any UTF-8 text (any byte sequence) round-trips. Printable
/// Latin-1 bytes map to themselves; the other 68 bytes map, in byte order, to U+0100 and up.
enum ByteLevel {
    static let encode: [Character] = {
        var printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var mapping = [Character](repeating: " ", count: 256)
        for b in printable { mapping[b] = Character(Unicode.Scalar(UInt8(b))) }
        var next = 256
        for b in 0..<256 where !printable.contains(b) {
            mapping[b] = Character(Unicode.Scalar(UInt32(next))!)
            printable.append(b)
            next += 1
        }
        return mapping
    }()

    static let decode: [Character: UInt8] = {
        var inverse: [Character: UInt8] = [:]
        for (b, c) in encode.enumerated() { inverse[c] = UInt8(b) }
        return inverse
    }()
}
