import TailorRuntime

/// Element encodings of GGUF tensors. Quantised types store blocks of 32 values with
/// per-block scales; `dequantize` turns any supported one into Float32.
public struct GGMLType: Sendable, Equatable, Hashable {
    public let id: UInt32

    public init(id: UInt32) { self.id = id }

    public static let f32 = GGMLType(id: 0), f16 = GGMLType(id: 1), q4_0 = GGMLType(id: 2), q4_1 = GGMLType(id: 3)
    public static let q8_0 = GGMLType(id: 8), bf16 = GGMLType(id: 30)
    public static let supported: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1]

    public var isSupported: Bool { GGMLType.supported.contains(self) }

    public var name: String {
        switch id {
        case 0: "F32"
        case 1: "F16"
        case 2: "Q4_0"
        case 3: "Q4_1"
        case 6: "Q5_0"
        case 7: "Q5_1"
        case 8: "Q8_0"
        case 9: "Q8_1"
        case 10: "Q2_K"
        case 11: "Q3_K"
        case 12: "Q4_K"
        case 13: "Q5_K"
        case 14: "Q6_K"
        case 15: "Q8_K"
        case 30: "BF16"
        default: "type \(id)"
        }
    }

    /// Values per block (1 for plain floats).
    public var blockSize: Int { [GGMLType.q8_0, .q4_0, .q4_1].contains(self) ? 32 : 1 }

    /// Bytes per block: Q8_0 = f16 scale + 32 int8; Q4_0 = f16 scale + 16 bytes of nibbles;
    /// Q4_1 = f16 scale + f16 minimum + 16 bytes of nibbles.
    var blockBytes: Int? {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q8_0: 34
        case .q4_0: 18
        case .q4_1: 20
        default: nil
        }
    }

    /// Bytes that `elements` values take, nil for types Tailor cannot read.
    func byteCount(elements: Int) -> Int? { blockBytes.map { elements / blockSize * $0 } }

    /// Decodes `count` values of `type` from `src` (little-endian) into `out`.
    static func dequantize(_ type: GGMLType, _ src: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>, count: Int) {
        func half(_ p: UnsafeRawPointer) -> Float { Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))) }
        switch type {
        case .f32:
            for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .f16:
            for i in 0..<count { out[i] = half(src + 2 * i) }
        case .bf16:
            for i in 0..<count { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
        case .q8_0, .q4_0, .q4_1:
            let encoding: BlockMatrix.Encoding = type == .q8_0 ? .q8_0 : type == .q4_0 ? .q4_0 : .q4_1
            for block in 0..<count / 32 { BlockMatrix.decode(encoding, src + block * encoding.blockBytes, into: out + block * 32) }
        default:
            preconditionFailure("dequantize: unsupported type \(type.name)")
        }
    }
}
