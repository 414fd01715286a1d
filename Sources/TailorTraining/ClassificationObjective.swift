import TailorModels
import TailorRuntime

/// A classification head on a backbone's pooled features: the mean cross-entropy of the
/// labels. With the backbone frozen, each example's features are the same at every step, so
/// they are computed once (training and held-out) and the steps train the head alone.
public struct ClassificationObjective: Objective {
    /// Labelled examples: token ids (already cut to the row width) and class indices.
    public struct Examples: Sendable {
        public var sequences: [[Int32]]
        public var labels: [Int]
        public init(sequences: [[Int32]], labels: [Int]) {
            self.sequences = sequences
            self.labels = labels
        }
    }

    public let backbone: Backbone
    public let head: TaskHead
    public let pooling: Pooling
    public let parameters: [(String, Tensor)]
    let training: Examples
    let heldOut: Examples?
    /// (N, C) features of the training and held-out examples when the backbone is frozen.
    let cached: Tensor?, cachedHeldOut: Tensor?

    /// `trainingBackbone`: the backbone weights that train with the head (none: frozen).
    public init(backbone: Backbone, head: TaskHead, pooling: Pooling, trainingBackbone: [(String, Tensor)],
                training: Examples, heldOut: Examples?) throws {
        guard !training.sequences.isEmpty else { throw TrainingError("the training data is empty") }
        if let heldOut, heldOut.sequences.isEmpty { throw TrainingError("the held-out data of `train.eval` is empty") }
        (self.backbone, self.head, self.pooling, self.training, self.heldOut) = (backbone, head, pooling, training, heldOut)
        parameters = [("head.weight", head.projection.weight), ("head.bias", head.projection.bias!)]
            + trainingBackbone.map { ("backbone." + $0.0, $0.1) }
        guard trainingBackbone.isEmpty else {
            (cached, cachedHeldOut) = (nil, nil)
            return
        }
        cached = Self.features(backbone, training.sequences, pooling)
        cachedHeldOut = heldOut.map { Self.features(backbone, $0.sequences, pooling) }
    }

    public var examples: Int { training.sequences.count }
    public var hasHeldOut: Bool { heldOut != nil }

    public mutating func loss(_ sampler: inout Sampler, rows: Int, draw: Int) throws -> (loss: Tensor, targets: Int) {
        let picked = sampler.next(rows)
        let features = cached.map { $0.embedding(picked.map(Int32.init), shape: [picked.count]) }  // (B, C)
            ?? backbone.features(picked.map { training.sequences[$0] }, pooling: pooling)
        return (head(features).crossEntropy(targets: picked.map { Int32(training.labels[$0]) }), picked.count)
    }

    /// Mean cross-entropy over the held-out examples, in blocks of 32.
    public func heldOutLoss() -> Double {
        guard let heldOut else { return 0 }
        var total = 0.0
        for start in stride(from: 0, to: heldOut.labels.count, by: 32) {
            let rows = start..<Swift.min(heldOut.labels.count, start + 32)
            let features = cachedHeldOut.map { $0.slice(axis: 0, rows) }  // (≤32, C)
                ?? backbone.features(rows.map { heldOut.sequences[$0] }, pooling: pooling)
            let loss = head(features).crossEntropy(targets: rows.map { Int32(heldOut.labels[$0]) })
            total += Double(loss.item) * Double(rows.count)
        }
        return total / Double(Swift.max(1, heldOut.labels.count))
    }

    /// Pooled features (N, C) without gradients, in blocks of 32.
    static func features(_ backbone: Backbone, _ sequences: [[Int32]], _ pooling: Pooling) -> Tensor {
        Tensor.noGrad {
            let blocks = stride(from: 0, to: sequences.count, by: 32).map { start in
                backbone.features(Array(sequences[start..<Swift.min(sequences.count, start + 32)]), pooling: pooling)  // (≤32, C)
            }
            return Tensor.concat(blocks, axis: 0)  // (N, C)
        }
    }
}
