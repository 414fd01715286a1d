import Foundation
import TailorDiagnostics
import TailorRuntime

/// How one vector per sequence is read from hidden states (B, T, C) of right-padded
/// sequences: the last real token (decoders: it has seen the whole sequence), the mean of the
/// real tokens (sentence encoders), or the first token (BERT's [CLS]).
public enum Pooling: String, Sendable, CaseIterable {
    case last, mean, first

    /// (B, C), differentiable. `lengths[b]`: real tokens of sequence b.
    public func pool(_ hidden: Tensor, lengths: [Int]) -> Tensor {
        let c = hidden.shape[2]
        let rows = lengths.enumerated().map { b, n -> Tensor in
            let sequence = hidden.slice(axis: 0, b..<b + 1)  // (1, T, C)
            switch self {
            case .last: return sequence.slice(axis: 1, (n - 1)..<n).reshaped([1, c])
            case .first: return sequence.slice(axis: 1, 0..<1).reshaped([1, c])
            case .mean: return sequence.slice(axis: 1, 0..<n).mean(axes: [1])  // (1, C)
            }
        }
        return Tensor.concat(rows, axis: 0)
    }
}

/// A linear head on pooled features: K class logits (classification), or one scalar
/// (reward and value models, K = 1).
public struct TaskHead: Sendable {
    public var projection: Linear  // (C, K)

    /// Small random weights and a zero bias, trainable.
    public init(width: Int, outputs: Int, seed: UInt64) {
        projection = Linear(weight: Tensor.randomNormal([width, outputs], std: 0.02, rng: Philox(seed: seed, stream: 77)).requiringGrad(),
                            bias: Tensor(zeros: [outputs], requiresGrad: true))
    }

    public init(projection: Linear) { self.projection = projection }

    public func callAsFunction(_ features: Tensor) -> Tensor { projection(features) }
}

/// A decoder with a task head: sequence classification (K classes) or a scalar score
/// (reward model, K = 1). Sequences are right-padded: causal attention keeps real tokens from
/// seeing the padding, and pooling reads only real positions.
public final class SequenceHeadModel: @unchecked Sendable {
    public let backbone: any CausalLM
    public var head: TaskHead
    public let pooling: Pooling
    public let padID: Int32

    public init(backbone: any CausalLM, outputs: Int, pooling: Pooling = .last, padID: Int32 = 0, seed: UInt64 = 0) {
        self.backbone = backbone
        head = TaskHead(width: backbone.width, outputs: outputs, seed: seed)
        self.pooling = pooling
        self.padID = padID
    }

    /// Head outputs (B, K) for a batch of sequences of any lengths (at least one token each).
    public func callAsFunction(_ sequences: [[Int32]]) -> Tensor {
        let longest = sequences.map(\.count).max() ?? 0
        precondition(longest > 0 && sequences.allSatisfy { !$0.isEmpty }, "every sequence needs a token")
        let ids = sequences.flatMap { $0 + Array(repeating: padID, count: longest - $0.count) }
        let hidden = backbone.hidden(ids, batch: sequences.count, cache: nil, keyStart: nil)  // (B, T, C)
        return head(pooling.pool(hidden, lengths: sequences.map(\.count)))
    }

    /// Mean cross-entropy of class `labels` (classification).
    public func classificationLoss(_ sequences: [[Int32]], labels: [Int32]) -> Tensor {
        self(sequences).crossEntropy(targets: labels)
    }
}

extension SequenceHeadModel {
    /// The reward model `train.reward` saved in `folder`: its head (`head.safetensors`, and
    /// `head.json` with `kind: reward` and the pooling) on `backbone`, the folder's decoder.
    public static func reward(folder: String, backbone: any CausalLM, padID: Int32) throws -> SequenceHeadModel {
        guard let meta = try? FileProbe.read(folder + "/head.json"),
              let json = (try? JSONSerialization.jsonObject(with: meta)) as? [String: Any], json["kind"] as? String == "reward"
        else { throw ModelFileError(folder, "is not a reward model (it has no head.json of kind 'reward'; `reward:` in a spec trains one)") }
        let weights: [String: Tensor]
        do {
            weights = try Safetensors.read(path: folder + "/head.safetensors").tensors
        } catch {
            throw ModelFileError(folder + "/head.safetensors", "cannot be read: \(error)")
        }
        guard let w = weights["head.weight"], let b = weights["head.bias"], w.shape == [backbone.width, 1], b.shape == [1],
              let pooling = Pooling(rawValue: json["pooling"] as? String ?? "")
        else { throw ModelFileError(folder, "has a reward head that does not fit its decoder (a \(backbone.width) × 1 weight, a bias and a pooling are needed)") }
        let model = SequenceHeadModel(backbone: backbone, outputs: 1, pooling: pooling, padID: padID)
        model.head = TaskHead(projection: Linear(weight: w, bias: b))
        return model
    }
}

