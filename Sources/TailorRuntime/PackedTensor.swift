import Foundation

/// A tensor kept in its storage type: F16 or BF16 weights at rest (half the memory of
/// Float32), or integer ids and masks. Compute happens in Float32: `unpacked()` converts.
/// Values read from a file share the file's (memory-mapped) bytes until unpacked.
public struct PackedTensor: Sendable {
    public let dtype: DType
    public let shape: [Int]
    /// Little-endian elements, `count × dtype.size` bytes.
    public let bytes: Data

    public var count: Int { Tensor.count(shape) }

    public init(dtype: DType, shape: [Int], bytes: Data) throws {
        guard bytes.count == Tensor.count(shape) * dtype.size else {
            throw SafetensorsError("\(bytes.count) bytes cannot hold \(shape) of \(dtype.rawValue)")
        }
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// Packs Float32 values: F16 and BF16 round to nearest even; integer types require
    /// integral values in range (ids, masks) and report the first that is not.
    public init(_ tensor: Tensor, as dtype: DType) throws {
        let values = tensor.scalars
        var out = Data(capacity: values.count * dtype.size)
        func append<T>(_ v: T) { withUnsafeBytes(of: v) { out.append(contentsOf: $0) } }
        for (i, v) in values.enumerated() {
            switch dtype {
            case .f32: append(v.bitPattern.littleEndian)
            case .f64: append(Double(v).bitPattern.littleEndian)
            case .f16: append(Float16(v).bitPattern.littleEndian)
            case .bf16: append(Safetensors.bf16(v).littleEndian)
            case .i64, .i32, .i16, .i8, .u8, .bool:
                // Bounds are powers of two, exact in Float: [lo, hi) converts without trapping.
                let (lo, hi): (Float, Float) = switch dtype {
                case .i64: (-0x1p63, 0x1p63)
                case .i32: (-0x1p31, 0x1p31)
                case .i16: (-32_768, 32_768)
                case .i8: (-128, 128)
                case .bool: (0, 2)
                default: (0, 256)
                }
                guard v == v.rounded(), v >= lo, v < hi else {
                    throw SafetensorsError("element \(i) (\(v)) is not a valid \(dtype.rawValue)")
                }
                switch dtype {
                case .i64: append(Int64(v).littleEndian)
                case .i32: append(Int32(v).littleEndian)
                case .i16: append(Int16(v).littleEndian)
                case .i8: append(Int8(v))
                default: append(UInt8(v))
                }
            }
        }
        self.dtype = dtype
        self.shape = tensor.shape
        self.bytes = out
    }

    /// Float32 values for compute.
    public func unpacked() -> Tensor {
        let t = Tensor(uninitialized: shape)
        bytes.withUnsafeBytes { raw in Safetensors.convert(raw, dtype, into: t.pointer, count: count) }
        return t
    }

    /// Integer elements (ids, labels, masks) without a Float32 detour; nil for float types.
    public func integers() -> [Int64]? {
        guard ![.f32, .f64, .f16, .bf16].contains(dtype) else { return nil }
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { i in
                let p = raw.baseAddress! + i * dtype.size
                switch dtype {
                case .i64: return Int64(littleEndian: p.loadUnaligned(as: Int64.self))
                case .i32: return Int64(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
                case .i16: return Int64(Int16(littleEndian: p.loadUnaligned(as: Int16.self)))
                case .i8: return Int64(p.loadUnaligned(as: Int8.self))
                default: return Int64(p.loadUnaligned(as: UInt8.self))
                }
            }
        }
    }
}
