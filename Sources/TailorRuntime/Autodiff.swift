/// A recorded operation: its inputs and how to turn the gradient of its output
/// into gradients of the inputs that need one.
final class GradNode {
    let name: String
    let inputs: [Tensor]
    /// Given the output gradient, returns one gradient per input (nil where not needed);
    /// nil for slices, whose gradient the engine adds into `region` itself.
    let backward: ((Tensor) -> [Tensor?])?
    /// For slices: the region of the (single) input the output covers. The engine then adds
    /// the output gradient into that region of the input's gradient buffer in place, instead
    /// of building a zero-filled full-size gradient per slice (q, k and v of a fused projection).
    let region: (axis: Int, range: Range<Int>)?

    init(_ name: String, _ inputs: [Tensor], region: (axis: Int, range: Range<Int>)? = nil,
         _ backward: ((Tensor) -> [Tensor?])?) {
        self.name = name
        self.inputs = inputs
        self.region = region
        self.backward = backward
    }
}

/// Gradient recording switch. Recording is on by default; `Tensor.noGrad` turns it off
/// for evaluation, and parameters that do not require gradients never enter the graph.
public enum Autodiff {
    @TaskLocal static var enabled = true
}

extension Tensor {
    /// Runs `body` without recording operations (evaluation, optimizer updates).
    public static func noGrad<T>(_ body: () throws -> T) rethrows -> T {
        try Autodiff.$enabled.withValue(false) { try body() }
    }

    /// Adds `source` (broadcast to this view's shape) into this view's elements in place. Not recorded.
    func addAssign(_ source: Tensor) {
        let src = source.shape == shape ? source : source.expandedView(shape)
        if isContiguous, src.isContiguous {
            // Gradient accumulation's common case: a flat vector add, in parallel.
            let (p, sp) = (UnsafeSendable(pointer), UnsafeSendable(src.pointer))
            Parallel.forEach(count, grain: 1 << 16) { r in
                var i = r.lowerBound
                while i + 16 <= r.upperBound {
                    let sum = UnsafeRawPointer(p.value + i).loadUnaligned(as: SIMD16<Float>.self)
                        + UnsafeRawPointer(sp.value + i).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(p.value + i).storeBytes(of: sum, as: SIMD16<Float>.self)
                    i += 16
                }
                for i in i..<r.upperBound { p.value[i] += sp.value[i] }
            }
            return
        }
        Strided.parallelUpdate(shape, (storage.pointer, offset, strides), (src.storage.pointer, src.offset, src.strides), add: true)
    }

    /// The same values outside the graph (shares storage; never records).
    public func detached() -> Tensor { Tensor(storage: storage, shape: shape, strides: strides, offset: offset) }

    /// Marks a tensor as a trainable leaf.
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        requiresGrad = flag
        return self
    }

    /// Builds the result of an op: records `backward` only when recording is on and
    /// some input needs a gradient, so frozen weights cost nothing in the backward pass.
    static func record(
        _ name: String, _ result: Tensor, _ inputs: [Tensor], _ backward: @escaping (Tensor) -> [Tensor?]
    ) -> Tensor {
        guard Autodiff.enabled, inputs.contains(where: \.requiresGrad) else { return result }
        result.requiresGrad = true
        result.node = GradNode(name, inputs, backward)
        return result
    }

    /// Records a slice of `input` along `axis`: its gradient is added into that region.
    static func recordSlice(_ result: Tensor, of input: Tensor, axis: Int, range: Range<Int>) -> Tensor {
        guard Autodiff.enabled, input.requiresGrad else { return result }
        result.requiresGrad = true
        result.node = GradNode("slice", [input], region: (axis, range), nil)
        return result
    }

    /// Reverse-mode differentiation from this scalar: accumulates `grad` on every leaf
    /// that requires it. Throws `NumericError` when the loss is NaN or Inf, or when a
    /// gradient is, naming the op that produced it.
    public func backward() throws {
        precondition(count == 1, "backward() starts from a scalar")
        if !item.isFinite { throw NumericError.nonFiniteLoss }
        var order: [Tensor] = []
        var seen: Set<ObjectIdentifier> = []
        // Iterative post-order DFS: graphs of deep models overflow a recursive one.
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded {
                order.append(t)
                continue
            }
            guard seen.insert(ObjectIdentifier(t)).inserted else { continue }
            stack.append((t, true))
            for input in t.node?.inputs ?? [] where input.requiresGrad && !seen.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): Tensor(repeating: 1, shape: shape)]
        // Gradient buffers this pass allocated itself and that sit in exactly one `grads` slot,
        // and so may be updated in place.
        var owned: Set<ObjectIdentifier> = []
        for t in order.reversed() {
            guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
            // Once handed on, a buffer may be shared (add returns g for both inputs): never update it in place again.
            owned.remove(ObjectIdentifier(g))
            guard let node = t.node else {
                if let previous = t.grad { t.grad = Tensor.noGrad { previous + g } } else { t.grad = g }
                continue
            }
            if let region = node.region, let input = node.inputs.first {
                t.node = nil
                if g.hasNonFinite { throw NumericError.nonFiniteGradient(op: node.name) }
                let id = ObjectIdentifier(input)
                var buffer = grads[id]
                if buffer == nil || !owned.contains(ObjectIdentifier(buffer!)) {
                    let fresh = Tensor(zeros: input.shape)
                    if let previous = buffer { fresh.addAssign(previous) }
                    owned.insert(ObjectIdentifier(fresh))
                    buffer = fresh
                }
                buffer!.slice(axis: region.axis, region.range).addAssign(g)
                grads[id] = buffer
                continue
            }
            guard let backward = node.backward else { continue }
            let inputGrads = Tensor.noGrad { backward(g) }
            t.node = nil  // free saved activations as soon as they are used, as PyTorch does
            for (input, ig) in zip(node.inputs, inputGrads) {
                guard input.requiresGrad, let ig else { continue }
                // A view of the incoming gradient (add, reshape, permute) was checked when it was made.
                if ig.storage !== g.storage, ig.hasNonFinite { throw NumericError.nonFiniteGradient(op: node.name) }
                let id = ObjectIdentifier(input)
                guard let previous = grads[id] else {
                    grads[id] = ig
                    continue
                }
                // A second consumer's gradient: add into a buffer this pass owns, in place.
                if owned.contains(ObjectIdentifier(previous)), previous.isContiguous {
                    previous.addAssign(ig)
                } else {
                    let sum = Tensor.noGrad { previous + ig }
                    owned.insert(ObjectIdentifier(sum))
                    grads[id] = sum
                }
            }
        }
    }

    /// Whether any element is NaN or ±Inf.
    public var hasNonFinite: Bool {
        let c = contiguous()
        defer { withExtendedLifetime(c) {} }  // read through `p` only: kept to the end (Swift keeps objects only to their last use)
        let p = UnsafeSendable(c.pointer)
        let chunks = Parallel.chunkCount(c.count, grain: 1 << 16)
        let found = UnsafeSendable(UnsafeMutablePointer<Bool>.allocate(capacity: Swift.max(1, chunks)))
        defer { found.value.deallocate() }
        Parallel.forEachChunk(c.count, grain: 1 << 16) { chunk, r in
            // x·0 is 0 for finite x and NaN for ±Inf or NaN: a branch-free SIMD sum.
            var probe = SIMD16<Float>(repeating: 0)
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                probe += UnsafeRawPointer(p.value + i).loadUnaligned(as: SIMD16<Float>.self) * 0
                i += 16
            }
            var tail: Float = 0
            for i in i..<r.upperBound { tail += p.value[i] * 0 }
            found.value[chunk] = (probe.sum() + tail).isNaN
        }
        return (0..<chunks).contains { found.value[$0] }
    }
}

/// A numeric failure, reported with the op where it first appeared.
public enum NumericError: Error, Equatable, CustomStringConvertible {
    case nonFiniteGradient(op: String)
    case nonFiniteLoss

    public var description: String {
        switch self {
        case .nonFiniteGradient(let op): "the gradient of '\(op)' holds NaN or Inf"
        case .nonFiniteLoss: "the loss is NaN or Inf"
        }
    }
}
