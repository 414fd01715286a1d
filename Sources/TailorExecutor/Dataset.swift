import Foundation

/// A dataset artifact file: JSON Lines, one record (a JSON object of strings, numbers,
/// lists) per line, written with sorted keys so equal data gives equal bytes.
public struct Dataset: @unchecked Sendable {
    /// Records as JSON objects.
    public var records: [[String: Any]]

    public init(records: [[String: Any]]) { self.records = records }

    public var count: Int { records.count }

    public static func read(_ path: String) throws -> Dataset {
        guard let data = FileManager.default.contents(atPath: path) else { throw ExecutionError("cannot read the dataset '\(path)'") }
        var records: [[String: Any]] = []
        var problem: Int?
        lines(data) { number, line in
            if let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] { records.append(object) } else if problem == nil { problem = number }
        }
        if let problem { throw ExecutionError("\(path):\(problem): not a JSON object") }
        return Dataset(records: records)
    }

    /// Calls `body(lineNumber, bytes)` for every line that is not blank, without decoding the
    /// file as one string first.
    static func lines(_ data: Data, _ body: (Int, Data) -> Void) {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0, number = 1
            for i in 0...bytes.count {
                guard i == bytes.count || bytes[i] == 10 else { continue }
                if bytes[start..<i].contains(where: { $0 != 32 && $0 != 9 && $0 != 13 }) {
                    body(number, Data(bytes: raw.baseAddress! + start, count: i - start))
                }
                start = i + 1
                number += 1
            }
        }
    }

    public func write(_ path: String) throws {
        var out = ""
        for record in records {
            JSONText.compact(record, into: &out)
            out += "\n"
        }
        try Data(out.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// A string field of record `i`, or an error naming the record and field.
    public func string(_ i: Int, _ field: String, source: String) throws -> String {
        guard let value = records[i][field] as? String else {
            throw ExecutionError("\(source): record \(i + 1) has no text field '\(field)'")
        }
        return value
    }
}

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
        guard let data = FileManager.default.contents(atPath: path) else { throw ExecutionError("cannot read '\(path)'") }
        let bad = ExecutionError("'\(path)' is not a token file or is truncated")
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
