import Foundation

/// A weight matrix kept in the block encoding it was stored in (GGML's Q8_0, Q4_0, Q4_1, or
/// plain Float32), multiplied without ever being expanded to Float32 in memory. Decoding one
/// token reads every weight once, so its speed is bound by the bytes read: a Q4_1 matrix is a
/// sixth of its Float32 size. Training keeps Float32 tensors; this is for inference only.
///
/// Rows are output features: (Out, In), as GGUF and checkpoints store linear weights, each row
/// `In / 32` blocks (or `In` floats). `In` must be a multiple of 32 for the block encodings.
///
/// A block-encoded matrix is also copied once into `BlockTiles`, eight rows interleaved, which is
/// what its products read; the file's own layout serves row lookups (an embedding's tokens).
public struct BlockMatrix: @unchecked Sendable {  // immutable after init; the bytes are never written
    public enum Encoding: String, Sendable {
        case f32 = "F32", q8_0 = "Q8_0", q4_0 = "Q4_0", q4_1 = "Q4_1"

        /// Bytes of one block of 32 values: Q8_0 is an f16 scale and 32 int8; Q4_0 an f16 scale and
        /// 16 bytes of nibbles; Q4_1 an f16 scale, an f16 minimum and 16 bytes of nibbles.
        public var blockBytes: Int {
            switch self {
            case .f32: 128
            case .q8_0: 34
            case .q4_0: 18
            case .q4_1: 20
            }
        }
    }

    public let encoding: Encoding
    public let rows: Int, columns: Int  // Out, In
    /// Little-endian blocks, row after row; kept alive (often a memory-mapped file's bytes).
    let bytes: Data
    /// The tensor whose storage `base` points into, for matrices that share a tensor's values.
    let owner: Tensor?
    let base: UnsafeRawPointer
    let rowBytes: Int
    /// The block encodings' weights as the integer kernel reads them (nil for Float32).
    let tiles: BlockTiles?

    /// Wraps `rows × columns` values in `encoding` (the bytes are shared, not copied).
    public init(_ encoding: Encoding, rows: Int, columns: Int, bytes: Data) throws {
        guard rows > 0, columns > 0, columns % 32 == 0 || encoding == .f32 else {
            throw BlockMatrixError("a \(encoding.rawValue) matrix needs rows of whole 32-value blocks, not \(columns) values")
        }
        let rowBytes = encoding == .f32 ? columns * 4 : columns / 32 * encoding.blockBytes
        guard bytes.count == rows * rowBytes else {
            throw BlockMatrixError("\(bytes.count) bytes cannot hold a \(rows)×\(columns) \(encoding.rawValue) matrix (\(rows * rowBytes) expected)")
        }
        // A large `Data` keeps its bytes at one address while it lives (mapped files and heap
        // buffers alike); a small one may hold them inline, so it gets a buffer of its own.
        self.bytes = bytes.count >= 64 ? bytes : Self.heapCopy(bytes)
        owner = nil
        self.base = self.bytes.withUnsafeBytes { $0.baseAddress! }
        self.encoding = encoding
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        tiles = encoding == .f32 ? nil : BlockTiles(encoding, rows: rows, columns: columns, base: base, rowBytes: rowBytes)
    }

    static func heapCopy(_ bytes: Data) -> Data {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(1, bytes.count), alignment: 64)
        bytes.copyBytes(to: buffer.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        return Data(bytesNoCopy: buffer, count: Swift.max(1, bytes.count), deallocator: .custom { p, _ in p.deallocate() })
    }

    /// A Float32 weight as the model multiplies by it, (In, Out), held as (Out, In) rows (a
    /// transposed view of a checkpoint's storage is used as it is, without a copy).
    public init(transposing weight: Tensor) {
        precondition(weight.shape.count == 2, "BlockMatrix: a weight is a matrix")
        self.init(rowsOf: Tensor.noGrad { weight.transposed() })
    }

    /// A Float32 (Out, In) matrix as it is, sharing its storage when it is contiguous.
    public init(rowsOf matrix: Tensor) {
        precondition(matrix.shape.count == 2, "BlockMatrix: a weight is a matrix")
        let values = Tensor.noGrad { matrix.contiguous() }
        let rows = matrix.shape[0], columns = matrix.shape[1]
        encoding = .f32
        (self.rows, self.columns, rowBytes) = (rows, columns, columns * 4)
        owner = values
        bytes = Data()
        base = UnsafeRawPointer(values.pointer)
        tiles = nil
    }

    /// Row `r` as Float32 values into `out` (`columns` of them): an embedding lookup. A token
    /// past the vocabulary stops here: reading on would take whatever memory follows the table
    /// (a test's token 42 of 40 did, and its logits changed with what the heap held).
    public func decodeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(r >= 0 && r < rows, "BlockMatrix: row \(r) of a \(rows)-row matrix (a token outside the vocabulary)")
        let row = base + r * rowBytes
        switch encoding {
        case .f32: out.update(from: row.assumingMemoryBound(to: Float.self), count: columns)
        // One loop per encoding, so each inlines its block decoder and vectorises.
        case .q8_0: for block in 0..<columns / 32 { Self.decode(.q8_0, row + block * 34, into: out + block * 32) }
        case .q4_0: for block in 0..<columns / 32 { Self.decode(.q4_0, row + block * 18, into: out + block * 32) }
        case .q4_1: for block in 0..<columns / 32 { Self.decode(.q4_1, row + block * 20, into: out + block * 32) }
        }
    }

    /// y (n, Out) = x (n, In) · Wᵀ. Every y[i, o] is one dot product summed in a fixed order, the
    /// same whatever `n`, the other rows or the thread count: a sequence's result never depends on
    /// what else is in the batch. Block-encoded matrices meet x quantised to 8 bits per block
    /// (`QuantizedRows`); Float32 matrices meet it as it is.
    public func multiply(_ x: UnsafePointer<Float>, rows n: Int, into y: UnsafeMutablePointer<Float>) {
        Self.multiply([(self, y)], x, rows: n)
    }

    /// Several matrices with the same input width applied to one x in a single parallel pass (a
    /// layer's q, k and v, or its gate and up): one hand-off to the workers instead of one each.
    public static func multiply(_ products: [(BlockMatrix, UnsafeMutablePointer<Float>)], _ x: UnsafePointer<Float>, rows n: Int) {
        guard n > 0, let columns = products.first?.0.columns else { return }
        precondition(products.allSatisfy { $0.0.columns == columns }, "BlockMatrix.multiply: matrices of one pass share their input width")
        // Work goes out in groups of eight rows (the integer kernel's tiles), each matrix's last
        // group perhaps shorter.
        let starts = products.reduce(into: [0]) { $0.append($0.last! + ($1.0.rows + 7) / 8) }
        // x is quantised once for every block-encoded matrix of the pass.
        let quantised = products.contains { $0.0.encoding != .f32 } ? QuantizedRows(x, rows: n, columns: columns) : nil
        defer { quantised?.deallocate() }
        let (x, outputs) = (UnsafeSendable(x), UnsafeSendable(products))
        let q = UnsafeSendable(quantised)
        // About 128K weights per chunk: enough work that claiming it (an atomic shared by the
        // threads) is small beside it. On SmolLM2 with 64K, 1 and 8 sequences decoded 11% and 7%
        // slower (medians of 4 alternating rounds); 32K was 15% slower again.
        Parallel.forEach(starts.last!, grain: Swift.max(1, 16_384 / columns)) { range in
            // Each matrix's share of the chunk, taken once (not per group: copying one retains its storage).
            for m in products.indices where starts[m] < range.upperBound && starts[m + 1] > range.lowerBound {
                let (matrix, y) = outputs.value[m]
                let groups = (Swift.max(range.lowerBound, starts[m]) - starts[m])..<(Swift.min(range.upperBound, starts[m + 1]) - starts[m])
                if let q = q.value, matrix.encoding != .f32 {
                    matrix.integerDots(groups, q, into: y)
                } else {
                    matrix.floatDots((groups.lowerBound * 8)..<Swift.min(matrix.rows, groups.upperBound * 8), x.value, rows: n, into: y)
                }
            }
        }
    }

    /// y[i, o] for the Float32 weight rows `rows` and every row i of x: four rows of x at a time
    /// share each weight read, by `dot4`, which computes exactly `dot`'s operations.
    func floatDots(_ rows: Range<Int>, _ x: UnsafePointer<Float>, rows n: Int, into y: UnsafeMutablePointer<Float>) {
        @inline(__always) func weights(_ o: Int) -> UnsafePointer<Float> { (base + o * rowBytes).assumingMemoryBound(to: Float.self) }
        var i = 0
        while i + 4 <= n {
            for o in rows {
                let d = Self.dot4(weights(o), x + i * columns, columns)
                for j in 0..<4 { y[(i + j) * self.rows + o] = d[j] }
            }
            i += 4
        }
        while i < n {
            for o in rows { y[i * self.rows + o] = Self.dot(weights(o), x + i * columns, columns) }
            i += 1
        }
    }

    /// Σ w·x over `count` values, in a fixed order: four 16-lane sums over 64-value steps (four,
    /// so consecutive multiply-adds do not wait on each other), folded to two, which take a last
    /// 32-value step; then a tree sum of the lanes and the scalar tail. `dot4` computes exactly
    /// these operations for each of its four rows.
    @inline(__always)
    static func dot(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
        let zero = SIMD16<Float>(repeating: 0)
        var (a0, a1, a2, a3) = (zero, zero, zero, zero)
        var k = 0
        while k + 64 <= count {
            a0.addProduct(Lanes.load(w, k), Lanes.load(x, k))
            a1.addProduct(Lanes.load(w, k + 16), Lanes.load(x, k + 16))
            a2.addProduct(Lanes.load(w, k + 32), Lanes.load(x, k + 32))
            a3.addProduct(Lanes.load(w, k + 48), Lanes.load(x, k + 48))
            k += 64
        }
        a0 += a2
        a1 += a3
        if k + 32 <= count {
            a0.addProduct(Lanes.load(w, k), Lanes.load(x, k))
            a1.addProduct(Lanes.load(w, k + 16), Lanes.load(x, k + 16))
            k += 32
        }
        var tail: Float = 0
        while k < count {
            tail.addProduct(w[k], x[k])
            k += 1
        }
        return treeSum(a0 + a1) + tail
    }

    /// `dot` for four rows of x at once, reading each weight once.
    @inline(__always)
    static func dot4(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) -> SIMD4<Float> {
        let zero = SIMD16<Float>(repeating: 0)
        var a = (zero, zero, zero, zero), b = a, c = a, d = a
        let (xa, xb, xc, xd) = (x, x + count, x + 2 * count, x + 3 * count)
        /// One row's four sums take the products of its x with the four weight vectors at k.
        @inline(__always)
        func step(_ s: inout (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>), _ xr: UnsafePointer<Float>, _ k: Int,
                  _ w0: SIMD16<Float>, _ w1: SIMD16<Float>, _ w2: SIMD16<Float>, _ w3: SIMD16<Float>) {
            s.0.addProduct(w0, Lanes.load(xr, k))
            s.1.addProduct(w1, Lanes.load(xr, k + 16))
            s.2.addProduct(w2, Lanes.load(xr, k + 32))
            s.3.addProduct(w3, Lanes.load(xr, k + 48))
        }
        var k = 0
        while k + 64 <= count {
            let (w0, w1, w2, w3) = (Lanes.load(w, k), Lanes.load(w, k + 16), Lanes.load(w, k + 32), Lanes.load(w, k + 48))
            step(&a, xa, k, w0, w1, w2, w3)
            step(&b, xb, k, w0, w1, w2, w3)
            step(&c, xc, k, w0, w1, w2, w3)
            step(&d, xd, k, w0, w1, w2, w3)
            k += 64
        }
        var (a0, a1) = (a.0 + a.2, a.1 + a.3), (b0, b1) = (b.0 + b.2, b.1 + b.3)
        var (c0, c1) = (c.0 + c.2, c.1 + c.3), (d0, d1) = (d.0 + d.2, d.1 + d.3)
        if k + 32 <= count {
            let w0 = Lanes.load(w, k), w1 = Lanes.load(w, k + 16)
            a0.addProduct(w0, Lanes.load(xa, k))
            a1.addProduct(w1, Lanes.load(xa, k + 16))
            b0.addProduct(w0, Lanes.load(xb, k))
            b1.addProduct(w1, Lanes.load(xb, k + 16))
            c0.addProduct(w0, Lanes.load(xc, k))
            c1.addProduct(w1, Lanes.load(xc, k + 16))
            d0.addProduct(w0, Lanes.load(xd, k))
            d1.addProduct(w1, Lanes.load(xd, k + 16))
            k += 32
        }
        var tail = SIMD4<Float>(repeating: 0)
        while k < count {
            tail[0].addProduct(w[k], xa[k])
            tail[1].addProduct(w[k], xb[k])
            tail[2].addProduct(w[k], xc[k])
            tail[3].addProduct(w[k], xd[k])
            k += 1
        }
        return SIMD4(treeSum(a0 + a1), treeSum(b0 + b1), treeSum(c0 + c1), treeSum(d0 + d1)) + tail
    }

    /// The 16 lanes summed pairwise, halves first (`sum()` adds them one after another: 15
    /// dependent additions per dot product).
    @inline(__always)
    static func treeSum(_ v: SIMD16<Float>) -> Float {
        let h8 = v.lowHalf + v.highHalf, h4 = h8.lowHalf + h8.highHalf, h2 = h4.lowHalf + h4.highHalf
        return h2[0] + h2[1]
    }

    /// One block of 32 values into `out`. Q4 bytes hold value j in the low nibble of byte j and
    /// value j + 16 in its high nibble; Q4_0's values are d·(q − 8), Q4_1's d·q + m.
    @inline(__always)
    public static func decode(_ encoding: Encoding, _ p: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let d = Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(as: UInt16.self))))
        switch encoding {
        case .f32:
            out.update(from: p.assumingMemoryBound(to: Float.self), count: 32)
        case .q8_0:
            // Plain loops over memory: the compiler vectorises them (SIMD type conversions stay generic calls).
            let q = (p + 2).assumingMemoryBound(to: Int8.self)
            for j in 0..<32 { out[j] = d * Float(q[j]) }
        case .q4_0, .q4_1:
            let q = (p + (encoding == .q4_0 ? 2 : 4)).assumingMemoryBound(to: UInt8.self)
            let m = encoding == .q4_0 ? -8 * d : Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self))))
            for j in 0..<16 {
                out[j] = d * Float(q[j] & 0x0F) + m
                out[j + 16] = d * Float(q[j] >> 4) + m
            }
        }
    }
}

/// Block bytes that do not describe the matrix they claim to.
public struct BlockMatrixError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
