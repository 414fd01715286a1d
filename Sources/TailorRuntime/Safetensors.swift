import Foundation
import TailorDiagnostics
#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#else
import Darwin
private let systemWrite = Darwin.write
#endif

/// Element types a safetensors file may hold. Tensors compute in Float32; F16 and BF16
/// convert on read and write, integer types read as their Float32 values.
public enum DType: String, Sendable, CaseIterable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL", f64 = "F64"

    public var size: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .i8, .u8, .bool: 1
        }
    }
}

/// A file that is not valid safetensors, with what is wrong.
public struct SafetensorsError: Error, Equatable, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}

/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping
/// names to dtype, shape and byte offsets (plus optional `__metadata__` strings), then
/// the raw little-endian data. Reads map the file and check every offset before use.
public enum Safetensors {
    /// Largest header accepted (the format's own limit is 100 MB).
    static let maxHeader = 100_000_000

    public struct Entry: Sendable {
        public var dtype: DType
        public var shape: [Int]
        public var range: Range<Int>
    }

    /// Reads every tensor (as Float32) and the metadata.
    public static func read(path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        return try parse(try mapped(path))
    }

    /// Reads every tensor in its stored type, sharing the mapped file's bytes (no conversion).
    public static func readPacked(path: String) throws -> (tensors: [String: PackedTensor], metadata: [String: String]) {
        return try parsePacked(try mapped(path))
    }

    /// The file's bytes, mapped; anything but a regular file is refused without blocking.
    static func mapped(_ path: String) throws -> Data {
        do {
            return try FileProbe.map(path)
        } catch let failure as FileProbe.Failure {
            throw SafetensorsError(failure.description)
        }
    }

    public static func parsePacked(_ data: Data) throws -> (tensors: [String: PackedTensor], metadata: [String: String]) {
        let (entries, metadata, base) = try header(data)
        var tensors: [String: PackedTensor] = [:]
        let start = data.startIndex + base
        for (name, e) in entries {
            tensors[name] = try PackedTensor(
                dtype: e.dtype, shape: e.shape, bytes: data[(start + e.range.lowerBound)..<(start + e.range.upperBound)])
        }
        return (tensors, metadata)
    }

    /// Every tensor converted to Float32, and the metadata.
    public static func parse(_ data: Data) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let (packed, metadata) = try parsePacked(data)
        return (packed.mapValues { $0.unpacked() }, metadata)
    }

    /// Parses and validates the header; returns the entries, metadata and the data's start.
    public static func header(_ data: Data) throws -> ([String: Entry], [String: String], Int) {
        guard data.count >= 8 else { throw SafetensorsError("file is \(data.count) bytes; a safetensors file starts with an 8-byte header length") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(maxHeader) else { throw SafetensorsError("header length \(n) exceeds \(maxHeader) bytes") }
        guard 8 + Int(n) <= data.count else { throw SafetensorsError("truncated: the header needs \(n) bytes, the file has \(data.count - 8)") }
        let json = data.subdata(in: 8..<(8 + Int(n)))
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw SafetensorsError("the header is not a JSON object")
        }
        let base = 8 + Int(n)
        let available = data.count - base
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw SafetensorsError("__metadata__ must map strings to strings") }
                metadata = m
                continue
            }
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw SafetensorsError("tensor '\(name)' lacks dtype, shape or data_offsets") }
            guard let dtype = DType(rawValue: dtypeName) else { throw SafetensorsError("tensor '\(name)' has unsupported dtype \(dtypeName)") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw SafetensorsError("tensor '\(name)' has a negative dimension") }
            guard let bytes = CheckedSize.product(shape + [dtype.size]) else {
                throw SafetensorsError("tensor '\(name)' has a shape \(shape) whose size does not fit in 64 bits")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= available else {
                throw SafetensorsError("tensor '\(name)' lies outside the file (offsets \(offsets), \(available) data bytes)")
            }
            guard offsets[1] - offsets[0] == bytes else {
                throw SafetensorsError("tensor '\(name)': \(offsets[1] - offsets[0]) bytes for \(shape) of \(dtypeName)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
        return (entries, metadata, base)
    }

    /// Writes Float32 tensors stored as `dtype` (F32, F16 or BF16; integer types for ids
    /// and masks), atomically.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], dtype: DType = .f32, to path: String) throws {
        try write(packed: tensors.mapValues { try PackedTensor($0, as: dtype) }, metadata: metadata, to: path)
    }

    /// Writes tensors in name order, each in its own stored type, atomically: a temporary
    /// file is written, synced and renamed, so a crash never leaves half a file.
    public static func write(packed tensors: [String: PackedTensor], metadata: [String: String] = [:], to path: String) throws {
        let names = tensors.keys.sorted()
        var headerObject: [String: Any] = [:]
        if !metadata.isEmpty { headerObject["__metadata__"] = metadata }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            headerObject[name] = ["dtype": t.dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + t.bytes.count]] as [String: Any]
            offset += t.bytes.count
        }
        var header = try JSONSerialization.data(withJSONObject: headerObject, options: [.sortedKeys])
        while (8 + header.count) % 8 != 0 { header.append(0x20) }  // pad with spaces to align the data
        var out = Data(capacity: 8 + header.count + offset)
        var length = UInt64(header.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(header)
        for name in names { out.append(tensors[name]!.bytes) }
        try AtomicFile.write(out, to: path)
    }

    /// Float32 → bfloat16 with round-to-nearest-even (NaN stays NaN).
    static func bf16(_ v: Float) -> UInt16 {
        if v.isNaN { return 0x7FC0 }
        let bits = v.bitPattern
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }

    static func convert(_ raw: UnsafeRawBufferPointer, _ dtype: DType, into out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let p = raw.baseAddress! + i * dtype.size
            switch dtype {
            case .f32: out[i] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            case .f64: out[i] = Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))))
            case .f16: out[i] = Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(as: UInt16.self))))
            case .bf16: out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self))) << 16)
            case .i64: out[i] = Float(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
            case .i32: out[i] = Float(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
            case .i16: out[i] = Float(Int16(littleEndian: p.loadUnaligned(as: Int16.self)))
            case .i8: out[i] = Float(p.loadUnaligned(as: Int8.self))
            case .u8, .bool: out[i] = Float(p.loadUnaligned(as: UInt8.self))
            }
        }
    }
}

/// Atomic file replacement: temporary file in the same folder, written whole, fsync, rename.
/// A failure (no space left, say) removes the temporary file and says why in the system's words.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = (dir.isEmpty ? "." : dir) + "/.\((path as NSString).lastPathComponent).tmp-\(getpid())"
        func failure(_ what: String) -> SafetensorsError {
            SafetensorsError("cannot \(what) '\(path)': \(String(cString: strerror(errno)))")
        }
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("write") }
        var ok = data.withUnsafeBytes { raw -> Bool in
            var done = 0
            while done < raw.count {
                let n = systemWrite(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue } else { return false } }
                done += n
            }
            return true
        }
        var error = ok ? nil : failure("write")
        if ok, fsync(fd) != 0 {
            ok = false
            error = failure("sync")
        }
        close(fd)
        guard ok else {
            unlink(tmp)
            throw error!
        }
        guard rename(tmp, path) == 0 else {
            let e = failure("move the written file to")
            unlink(tmp)
            throw e
        }
    }
}
