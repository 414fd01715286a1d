import Foundation
import TailorDiagnostics
import TailorRuntime

/// A GGUF file (version 2 or 3), as llama.cpp writes it: a header, typed metadata
/// key/values, tensor descriptions, then aligned tensor data. The file is memory-mapped;
/// every count and offset is checked against its size before use, so a truncated or
/// malformed file gives a `ModelFileError` naming what is wrong.
public struct GGUFFile: Sendable {
    /// A metadata value.
    public indirect enum Value: Sendable, Equatable {
        case uint(UInt64), int(Int64), float(Double), bool(Bool), string(String), array([Value])

        public var int: Int? {
            switch self {
            case .uint(let v): Int(exactly: v)
            case .int(let v): Int(exactly: v)
            default: nil
            }
        }
        public var double: Double? {
            switch self {
            case .float(let v): v
            case .uint, .int: int.map(Double.init)
            default: nil
            }
        }
        public var string: String? { if case .string(let s) = self { s } else { nil } }
        public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
        public var array: [Value]? { if case .array(let a) = self { a } else { nil } }
    }

    /// One tensor: `shape` is row-major (GGUF lists dimensions fastest first; reversed here).
    public struct TensorInfo: Sendable {
        public var name: String
        public var shape: [Int]
        public var type: GGMLType
        /// Byte range of the data within the file.
        public var range: Range<Int>
    }

    public let path: String
    public let version: Int
    public let metadata: [String: Value]
    /// Metadata keys in file order (for `tailor inspect`).
    public let keys: [String]
    public let tensors: [TensorInfo]
    let data: Data

    public init(path: String) throws {
        try self.init(data: try ModelFileError.reading(path) { try FileProbe.map(path) }, path: path)
    }

    public init(data: Data, path: String = "<memory>") throws {
        self.path = path
        self.data = data
        var r = Reader(data: data, path: path)
        guard data.count >= 4, data.prefix(4) == Data("GGUF".utf8) else {
            throw ModelFileError(path, "not a GGUF file (it does not start with the bytes 'GGUF')")
        }
        r.offset = 4
        let version = Int(try r.u32("version"))
        guard version == 2 || version == 3 else {
            throw ModelFileError(path, "GGUF version \(version) is not supported (2 and 3 are)")
        }
        self.version = version
        let tensorCount = try r.count("tensor count", minimumBytesEach: 24)
        let kvCount = try r.count("metadata count", minimumBytesEach: 12)
        var metadata: [String: Value] = [:], keys: [String] = []
        for _ in 0..<kvCount {
            let key = try r.string("metadata key")
            let type = try r.u32("type of '\(key)'")
            metadata[key] = try r.value(type: type, what: "metadata '\(key)'", depth: 0)
            keys.append(key)
        }
        self.metadata = metadata
        self.keys = keys
        var infos: [(String, [Int], GGMLType, Int)] = []
        for index in 0..<tensorCount {
            let name = try r.string("name of tensor \(index)")
            let dims = Int(try r.u32("rank of '\(name)'"))
            guard (1...4).contains(dims) else { throw ModelFileError(path, "tensor '\(name)' has \(dims) dimensions (1 to 4 allowed)") }
            var shape: [Int] = []
            for _ in 0..<dims {
                let n = try r.u64("shape of '\(name)'")
                guard n > 0, n < 1 << 40 else { throw ModelFileError(path, "tensor '\(name)' has an invalid dimension \(n)") }
                shape.append(Int(n))
            }
            let type = GGMLType(id: try r.u32("type of '\(name)'"))
            let offset = try r.u64("offset of '\(name)'")
            guard offset < UInt64(data.count) else { throw ModelFileError(path, "tensor '\(name)' starts past the end of the file") }
            infos.append((name, shape.reversed(), type, Int(offset)))
        }
        let alignment = metadata["general.alignment"]?.int ?? 32
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw ModelFileError(path, "general.alignment \(alignment) is not a power of two")
        }
        let dataStart = (r.offset + alignment - 1) / alignment * alignment
        var tensors: [TensorInfo] = []
        for (name, shape, type, offset) in infos {
            guard let count = CheckedSize.product(shape), count <= data.count * 8 else {
                throw ModelFileError(path, "tensor '\(name)' has a shape \(shape) with more elements than the file could hold: it is malformed")
            }
            guard let bytes = type.byteCount(elements: count) else {
                // Unknown or unsupported types are still listed (inspect), and refused when read.
                tensors.append(TensorInfo(name: name, shape: shape, type: type, range: dataStart + offset..<dataStart + offset))
                continue
            }
            guard offset % alignment == 0 else { throw ModelFileError(path, "tensor '\(name)' is not aligned to \(alignment) bytes") }
            let start = dataStart + offset
            guard count % type.blockSize == 0 else {
                throw ModelFileError(path, "tensor '\(name)' has \(count) elements, not a whole number of \(type.name) blocks of \(type.blockSize)")
            }
            guard start + bytes <= data.count else {
                throw ModelFileError(path, "tensor '\(name)' needs bytes \(start)..<\(start + bytes) but the file has \(data.count): it is truncated")
            }
            tensors.append(TensorInfo(name: name, shape: shape, type: type, range: start..<start + bytes))
        }
        self.tensors = tensors
    }

    /// The description of the named tensor.
    public func info(_ name: String) -> TensorInfo? { tensors.first { $0.name == name } }

    /// The named tensor as Float32 values, dequantised, with its row-major shape.
    public func tensor(_ name: String) throws -> Tensor {
        guard let info = info(name) else { throw ModelFileError(path, "has no tensor '\(name)'") }
        return try tensor(info)
    }

    public func tensor(_ info: TensorInfo) throws -> Tensor {
        guard info.type.isSupported else {
            throw ModelFileError(path, "tensor '\(info.name)' is stored as \(info.type.name), which Tailor cannot read yet (supported: \(GGMLType.supported.map(\.name).joined(separator: ", ")))")
        }
        let count = CheckedSize.product(info.shape) ?? 0  // checked when the header was read
        let out = Tensor(storage: TensorStorage(count: count, zeroed: false), shape: info.shape)
        let (type, block) = (info.type, info.type.blockSize)
        let dst = UnsafeSendableBox(out.pointer)
        data.withUnsafeBytes { raw in
            let base = UnsafeSendableBox(UnsafeRawPointer(raw.baseAddress! + info.range.lowerBound))
            // Whole blocks per chunk; every element is written once, so the split does not matter.
            Parallel.forEach(count / block, grain: 1 << 14) { blocks in
                let bytes = blocks.lowerBound * type.blockBytes!
                GGMLType.dequantize(type, base.value + bytes, into: dst.value + blocks.lowerBound * block, count: blocks.count * block)
            }
        }
        return out
    }

    /// The string metadata value for `key`.
    public func string(_ key: String) -> String? { metadata[key]?.string }
    public func int(_ key: String) -> Int? { metadata[key]?.int }
    public func double(_ key: String) -> Double? { metadata[key]?.double }
}

/// Hands a pointer to parallel chunks that write disjoint parts of it.
struct UnsafeSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Bounds-checked little-endian reading of the GGUF header.
private struct Reader {
    let data: Data
    let path: String
    var offset = 0

    /// Arrays deeper than this are refused (real files nest at most 1 level).
    static let maxDepth = 4

    mutating func bytes(_ n: Int, _ what: String) throws -> Data {
        guard n >= 0, offset + n <= data.count else {
            throw ModelFileError(path, "the file ends inside the \(what) (at byte \(offset), needing \(n) more): it is truncated")
        }
        defer { offset += n }
        return data[data.startIndex + offset..<data.startIndex + offset + n]
    }

    mutating func fixed<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
        let b = try bytes(MemoryLayout<T>.size, what)
        return b.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(as: T.self)) }
    }

    mutating func u32(_ what: String) throws -> UInt32 { try fixed(UInt32.self, what) }
    mutating func u64(_ what: String) throws -> UInt64 { try fixed(UInt64.self, what) }

    /// A count of items that each take at least `minimumBytesEach`: more than the rest of the
    /// file could hold is malformed (and would otherwise allocate without bound).
    mutating func count(_ what: String, minimumBytesEach: Int) throws -> Int {
        let n = try u64(what)
        guard n <= UInt64(Swift.max(0, data.count - offset) / Swift.max(1, minimumBytesEach)) else {
            throw ModelFileError(path, "the \(what) (\(n)) is more than the file could hold: it is malformed or truncated")
        }
        return Int(n)
    }

    mutating func string(_ what: String) throws -> String {
        let n = try count("length of the \(what)", minimumBytesEach: 1)
        let b = try bytes(n, what)
        guard let s = String(data: b, encoding: .utf8) else { throw ModelFileError(path, "the \(what) is not valid UTF-8") }
        return s
    }

    mutating func value(type: UInt32, what: String, depth: Int) throws -> GGUFFile.Value {
        switch type {
        case 0: return .uint(UInt64(try fixed(UInt8.self, what)))
        case 1: return .int(Int64(try fixed(Int8.self, what)))
        case 2: return .uint(UInt64(try fixed(UInt16.self, what)))
        case 3: return .int(Int64(try fixed(Int16.self, what)))
        case 4: return .uint(UInt64(try u32(what)))
        case 5: return .int(Int64(try fixed(Int32.self, what)))
        case 6: return .float(Double(Float(bitPattern: try u32(what))))
        case 7:
            let b = try fixed(UInt8.self, what)
            guard b <= 1 else { throw ModelFileError(path, "\(what) is a boolean with value \(b)") }
            return .bool(b == 1)
        case 8: return .string(try string(what))
        case 9:
            guard depth < Reader.maxDepth else { throw ModelFileError(path, "\(what) nests arrays deeper than \(Reader.maxDepth)") }
            let elementType = try u32("element type of \(what)")
            let n = try count("length of \(what)", minimumBytesEach: 1)
            var items: [GGUFFile.Value] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try value(type: elementType, what: what, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint(try u64(what))
        case 11: return .int(Int64(bitPattern: try u64(what)))
        case 12: return .float(Double(bitPattern: try u64(what)))
        default: throw ModelFileError(path, "\(what) has unknown value type \(type)")
        }
    }
}
