import Foundation

/// A learning-rate schedule: linear warmup, then constant, linear decay or cosine decay to `minLR`.
public struct LearningRateSchedule: Sendable {
    public enum Shape: String, Sendable { case constant, linear, cosine }

    public var peak: Float
    public var warmup: Int
    public var total: Int
    public var shape: Shape
    public var minLR: Float

    public init(peak: Float, warmup: Int = 0, total: Int, shape: Shape = .cosine, minLR: Float = 0) {
        self.peak = peak
        self.warmup = warmup
        self.total = total
        self.shape = shape
        self.minLR = minLR
    }

    /// Learning rate at 0-based `step`.
    public func rate(at step: Int) -> Float {
        if step < warmup { return peak * Float(step + 1) / Float(warmup) }
        let span = Swift.max(1, total - warmup)
        let progress = Swift.min(1, Float(step - warmup) / Float(span))
        switch shape {
        case .constant: return peak
        case .linear: return minLR + (peak - minLR) * (1 - progress)
        case .cosine: return minLR + (peak - minLR) * 0.5 * (1 + Float(Foundation.cos(Double.pi * Double(progress))))
        }
    }
}

/// Scales gradients so that their global L2 norm is at most `maxNorm`; returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var sumSquares: Double = 0
    for p in parameters {
        guard let g = p.grad?.contiguous() else { continue }
        for i in 0..<g.count { sumSquares += Double(g.pointer[i]) * Double(g.pointer[i]) }
    }
    let norm = Float(sumSquares.squareRoot())
    if maxNorm > 0, norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)
        for p in parameters {
            guard let g = p.grad?.contiguous() else { continue }
            for i in 0..<g.count { g.pointer[i] *= scale }
            p.grad = g
        }
    }
    return norm
}

/// Something that updates parameters from their gradients and can save its state.
public protocol Optimizer {
    var parameters: [Tensor] { get }
    /// Each parameter's multiplier of the rate `step` is given (1 for all unless set): a part
    /// of the model that must move faster than the rest, such as a fresh head on a trained body.
    var rateScales: [Float] { get set }
    mutating func step(lr: Float)
    /// Optimizer state as named tensors (for checkpoints), and its restoration.
    func state() -> [String: Tensor]
    mutating func load(state: [String: Tensor]) throws
}

extension Optimizer {
    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.grad = nil } }
}

/// A checkpoint that does not fit the optimizer it is loaded into.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public var description: String
}

/// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter).
public struct AdamW: Optimizer {
    public let parameters: [Tensor]
    public var beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    public var rateScales: [Float]
    var m: [Tensor], v: [Tensor]
    public private(set) var stepCount = 0

    public init(_ parameters: [Tensor], beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0) {
        self.parameters = parameters
        rateScales = [Float](repeating: 1, count: parameters.count)
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        m = parameters.map { Tensor(zeros: $0.shape) }
        v = parameters.map { Tensor(zeros: $0.shape) }
    }

    public mutating func step(lr: Float) {
        stepCount += 1
        let c1 = 1 - Float(Foundation.pow(Double(beta1), Double(stepCount)))
        let c2 = 1 - Float(Foundation.pow(Double(beta2), Double(stepCount)))
        // One parallel loop over slices of every parameter: most parameters of a small model
        // are below one thread's worth of work, and updated one by one they would run serially.
        var work: [(param: Int, range: Range<Int>)] = []
        var grads: [Tensor?] = []
        for (i, p) in parameters.enumerated() {
            let g = p.grad?.contiguous()
            grads.append(g)
            guard g != nil else { continue }
            precondition(p.isContiguous, "parameters are contiguous")
            for start in stride(from: 0, to: p.count, by: 1 << 14) { work.append((i, start..<Swift.min(p.count, start + (1 << 14)))) }
        }
        let (b1, b2, e, wd) = (beta1, beta2, eps, weightDecay)
        let pointers = UnsafeSendable(parameters.indices.map { i in
            (p: parameters[i].pointer, g: grads[i]?.pointer, m: m[i].pointer, v: v[i].pointer, lr: lr * rateScales[i])
        })
        let items = UnsafeSendable(work)
        Parallel.forEach(work.count, grain: 1) { itemRange in
            for (i, r) in items.value[itemRange] {
                let (pp, pm, pv, lr) = (pointers.value[i].p, pointers.value[i].m, pointers.value[i].v, pointers.value[i].lr)
                guard let pg = pointers.value[i].g else { continue }
                // 16 lanes at a time: the same IEEE operations as the scalar tail (division and
                // square root are exact in both), so the result does not depend on the split.
                var j = r.lowerBound
                while j + 16 <= r.upperBound {
                    let g = UnsafeRawPointer(pg + j).loadUnaligned(as: SIMD16<Float>.self)
                    let mj = b1 * UnsafeRawPointer(pm + j).loadUnaligned(as: SIMD16<Float>.self) + (1 - b1) * g
                    let vj = b2 * UnsafeRawPointer(pv + j).loadUnaligned(as: SIMD16<Float>.self) + (1 - b2) * g * g
                    let w = UnsafeRawPointer(pp + j).loadUnaligned(as: SIMD16<Float>.self)
                    let update = (mj / c1) / ((vj / c2).squareRoot() + e)
                    UnsafeMutableRawPointer(pm + j).storeBytes(of: mj, as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(pv + j).storeBytes(of: vj, as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(pp + j).storeBytes(of: w - lr * (update + wd * w), as: SIMD16<Float>.self)
                    j += 16
                }
                for j in j..<r.upperBound {
                    pm[j] = b1 * pm[j] + (1 - b1) * pg[j]
                    pv[j] = b2 * pv[j] + (1 - b2) * pg[j] * pg[j]
                    let update = (pm[j] / c1) / ((pv[j] / c2).squareRoot() + e)
                    pp[j] -= lr * (update + wd * pp[j])
                }
            }
        }
        withExtendedLifetime(grads) {}
    }

    public func state() -> [String: Tensor] {
        var s: [String: Tensor] = ["step": Tensor(scalar: Float(stepCount))]
        for i in parameters.indices {
            s["m.\(i)"] = m[i]
            s["v.\(i)"] = v[i]
        }
        return s
    }

    public mutating func load(state: [String: Tensor]) throws {
        guard let step = state["step"] else { throw OptimizerStateError(description: "optimizer state lacks 'step'") }
        for i in parameters.indices {
            guard let mi = state["m.\(i)"], let vi = state["v.\(i)"], mi.shape == parameters[i].shape, vi.shape == parameters[i].shape
            else { throw OptimizerStateError(description: "optimizer state does not match parameter \(i) of shape \(parameters[i].shape)") }
            m[i] = Tensor(mi.scalars, shape: mi.shape)
            v[i] = Tensor(vi.scalars, shape: vi.shape)
        }
        stepCount = Int(step.item)
    }
}

/// SGD with momentum (PyTorch's form: buffer = μ·buffer + g; p −= lr·buffer) and
/// decoupled weight decay.
public struct SGD: Optimizer {
    public let parameters: [Tensor]
    public var momentum: Float, weightDecay: Float
    public var rateScales: [Float]
    var buffers: [Tensor]

    public init(_ parameters: [Tensor], momentum: Float = 0.9, weightDecay: Float = 0) {
        self.parameters = parameters
        rateScales = [Float](repeating: 1, count: parameters.count)
        self.momentum = momentum
        self.weightDecay = weightDecay
        buffers = parameters.map { Tensor(zeros: $0.shape) }
    }

    public mutating func step(lr: Float) {
        for (i, p) in parameters.enumerated() {
            guard let g = p.grad?.contiguous() else { continue }
            defer { withExtendedLifetime(g) {} }  // read through `pg` only
            let pp = p.pointer, pg = g.pointer, pb = buffers[i].pointer, lr = lr * rateScales[i]
            for j in 0..<p.count {
                pb[j] = momentum * pb[j] + pg[j]
                pp[j] -= lr * (pb[j] + weightDecay * pp[j])
            }
        }
    }

    public func state() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: buffers.enumerated().map { ("momentum.\($0.offset)", $0.element) })
    }

    public mutating func load(state: [String: Tensor]) throws {
        for i in parameters.indices {
            guard let b = state["momentum.\(i)"], b.shape == parameters[i].shape
            else { throw OptimizerStateError(description: "optimizer state does not match parameter \(i)") }
            buffers[i] = Tensor(b.scalars, shape: b.shape)
        }
    }
}
