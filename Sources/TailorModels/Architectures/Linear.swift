import TailorRuntime

/// `x·W + b` with W held as (In, Out), often a transposed view of a checkpoint's (Out, In).
public struct Linear: Sendable {
    public var weight: Tensor  // (In, Out)
    public var bias: Tensor?  // (Out)

    public init(weight: Tensor, bias: Tensor?) {
        self.weight = weight
        self.bias = bias
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        if let bias { return x.linear(weight, bias) }
        return x.matmul(weight)
    }
}

/// Layer norm parameters.
public struct LayerNorm: Sendable {
    public var weight: Tensor, bias: Tensor
    public var eps: Float

    public init(weight: Tensor, bias: Tensor, eps: Float) {
        self.weight = weight
        self.bias = bias
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight, bias: bias, eps: eps) }
}
