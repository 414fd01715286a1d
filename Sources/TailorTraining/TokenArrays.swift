import Foundation

/// Tokenized sequences: a binary file with a small header, so training reads ids without
/// parsing text. Layout (little-endian): magic `TLRTOKS1`, sequence count (u64), token
/// count (u64), offsets (u64 × count+1), ids (i32 × tokens), loss mask (u8 × tokens).
public struct TokenArrays: Sendable, Equatable {
    public var offsets: [Int]
    public var ids: [Int32]
    /// 1 where a token is a training target (answers), 0 where it is context (prompts).
    public var mask: [UInt8]

    public init() {
        offsets = [0]
        ids = []
        mask = []
    }

    public var count: Int { offsets.count - 1 }

    public func sequence(_ i: Int) -> (ids: ArraySlice<Int32>, mask: ArraySlice<UInt8>) {
        (ids[offsets[i]..<offsets[i + 1]], mask[offsets[i]..<offsets[i + 1]])
    }

    public mutating func append(_ sequence: [Int32], mask m: [UInt8]) {
        ids += sequence
        mask += m
        offsets.append(ids.count)
    }

    static let magic = Data("TLRTOKS1".utf8)

    public func write(_ path: String) throws {
        var out = TokenArrays.magic
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        put(UInt64(count))
        put(UInt64(ids.count))
        for o in offsets { put(UInt64(o)) }
        for id in ids { put(id) }
        out.append(contentsOf: mask)
        try out.write(to: URL(fileURLWithPath: path))
    }

    public static func read(_ path: String) throws -> TokenArrays {
        guard let data = FileManager.default.contents(atPath: path) else { throw TrainingError("cannot read '\(path)'") }
        let bad = TrainingError("'\(path)' is not a token file or is truncated")
        guard data.count >= 24, data.prefix(8) == magic else { throw bad }
        return try data.withUnsafeBytes { raw -> TokenArrays in
            func u64(_ at: Int) -> Int { Int(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))) }
            let (n, t) = (u64(8), u64(16))
            guard n >= 0, t >= 0, n < data.count, t < data.count, 24 + 8 * (n + 1) + 5 * t == data.count else { throw bad }
            var arrays = TokenArrays()
            arrays.offsets = (0...n).map { u64(24 + 8 * $0) }
            let idStart = 24 + 8 * (n + 1)
            arrays.ids = (0..<t).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: idStart + 4 * $0, as: Int32.self)) }
            arrays.mask = Array(raw[(idStart + 4 * t)...])
            guard arrays.offsets.first == 0, arrays.offsets.last == t, zip(arrays.offsets, arrays.offsets.dropFirst()).allSatisfy({ $0 <= $1 }) else { throw bad }
            return arrays
        }
    }
}
