/// Float32 memory shared by a tensor and its views.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// Zero-filled storage, or left uninitialised for kernels that write every element.
    public init(count: Int, zeroed: Bool = true) {
        _ = TensorStorage.allocatorConfigured
        _ = Runtime.configureBLAS
        self.count = count
        pointer = .allocate(capacity: max(1, count))
        if zeroed { pointer.initialize(repeating: 0, count: max(1, count)) }
        TensorMemory.allocated(4 * max(1, count))
    }

    deinit {
        pointer.deallocate()
        TensorMemory.freed(4 * max(1, count))
    }

    /// Keeps freed activation buffers in the heap instead of returning them to the
    /// kernel: a training step allocates the same sizes every time, and fresh pages
    /// cost a fault and a clear each (5% of a step before this).
    static let allocatorConfigured: Bool = {
        _ = glibcMallopt(-3, 1 << 30)  // M_MMAP_THRESHOLD
        _ = glibcMallopt(-1, 1 << 30)  // M_TRIM_THRESHOLD
        return true
    }()
}

/// glibc's `mallopt` (declared in <malloc.h>, which Swift's Glibc module does not export).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

/// An n-dimensional Float32 array, a view (shape, strides, offset) over shared
/// storage, with an optional place in the autodiff graph.
///
/// Tensors are reference types so that the graph can hold them by identity;
/// their values are never mutated once an op has consumed them, except by
/// optimizers updating parameters outside any recorded graph.
public final class Tensor: @unchecked Sendable {
    public let storage: TensorStorage
    public let shape: [Int]
    /// Element strides per dimension; 0 for broadcast (expanded) dimensions.
    public let strides: [Int]
    public let offset: Int

    /// Whether gradients flow to this tensor (parameters being trained, or values derived from them).
    public internal(set) var requiresGrad: Bool
    /// Accumulated gradient after `backward()`, for tensors that require it.
    public var grad: Tensor?
    /// How this tensor was computed, when it is part of a recorded graph.
    var node: GradNode?

    public init(storage: TensorStorage, shape: [Int], strides: [Int]? = nil, offset: Int = 0, requiresGrad: Bool = false) {
        self.storage = storage
        self.shape = shape
        self.strides = strides ?? Tensor.contiguousStrides(shape)
        self.offset = offset
        self.requiresGrad = requiresGrad
    }

    /// A zero-filled tensor.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(storage: TensorStorage(count: Tensor.count(shape)), shape: shape, requiresGrad: requiresGrad)
    }

    /// Storage left uninitialised: only for kernels that then write every element.
    convenience init(uninitialized shape: [Int]) {
        self.init(storage: TensorStorage(count: Tensor.count(shape), zeroed: false), shape: shape)
    }

    /// A tensor holding `values` in row-major order.
    public convenience init(_ values: [Float], shape: [Int], requiresGrad: Bool = false) {
        precondition(values.count == Tensor.count(shape), "\(values.count) values do not fill shape \(shape)")
        self.init(zeros: shape, requiresGrad: requiresGrad)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A tensor filled with one value.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(zeros: shape, requiresGrad: requiresGrad)
        storage.pointer.update(repeating: value, count: count)
    }

    /// A scalar (rank-0) tensor.
    public convenience init(scalar: Float) { self.init([scalar], shape: []) }

    public var rank: Int { shape.count }
    public var count: Int { Tensor.count(shape) }

    public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for i in shape.indices.reversed() {
            strides[i] = running
            running *= shape[i]
        }
        return strides
    }

    /// Whether the elements lie in row-major order without gaps, so kernels can use a flat pointer.
    public var isContiguous: Bool {
        var expected = 1
        for i in shape.indices.reversed() where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Pointer to the first element (valid for contiguous tensors as a flat array).
    public var pointer: UnsafeMutablePointer<Float> { storage.pointer + offset }

    /// The elements in row-major order.
    public var scalars: [Float] {
        let c = contiguous()
        return withExtendedLifetime(c) { Array(UnsafeBufferPointer(start: c.pointer, count: c.count)) }
    }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item of a tensor with \(count) elements")
        return pointer[0]
    }

    /// Normalises a possibly negative axis.
    func axis(_ a: Int) -> Int {
        let r = a < 0 ? a + rank : a
        precondition(r >= 0 && r < rank, "axis \(a) out of range for rank \(rank)")
        return r
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(values)\(count > 8 ? ", …" : "")])"
    }
}
