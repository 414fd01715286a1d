import TailorModels
import TailorRuntime

/// Examples in a fresh seeded order each epoch.
public struct Sampler: Sendable {
    public let count: Int, seed: UInt64
    public private(set) var epoch = 0, position = 0
    var order: [Int]
    /// The packed epoch's tokens, loss mask and where each token's example starts in the
    /// stream (packing only; rebuilt from `order`).
    var stream: [Int32] = [], streamMask: [UInt8] = [], streamStart: [Int] = []

    /// Epoch `epoch`'s order of `count` examples: a permutation from its own random stream.
    public static func order(_ count: Int, seed: UInt64, epoch: Int) -> [Int] {
        Philox.permutation(count, seed: seed, stream: 0x7472_6169_6e00 + UInt64(epoch))
    }

    public init(count: Int, seed: UInt64) {
        self.count = count
        self.seed = seed
        order = Self.order(count, seed: seed, epoch: 0)
    }

    /// Continues a checkpointed order: the same epoch's permutation, the same position.
    public mutating func restore(epoch: Int, position: Int) {
        self.epoch = epoch
        self.position = position
        order = Self.order(count, seed: seed, epoch: epoch)
        stream = []  // a packed stream is rebuilt from the order on the next batch
    }

    /// `rows` packed rows of `width` inputs: sequences (each ending in end of text) laid end
    /// to end in this epoch's order and cut every `width` tokens, so no position is padding.
    /// Each example keeps to itself: its positions restart at 0, it attends only to its own
    /// tokens, and its last token has no target (the next example is not its continuation).
    /// An example cut at a row's start continues from position 0 of that row.
    /// `position` counts tokens into the epoch's stream; a row's targets are the next tokens.
    public mutating func packed(_ tokens: TokenArrays, rows: Int, width: Int, trainOnInputs: Bool) -> (ids: [Int32], targets: [Int32], layout: PackedRows) {
        var ids: [Int32] = [], targets: [Int32] = [], starts: [Int] = []
        for _ in 0..<rows {
            while stream.isEmpty || position + width + 1 > stream.count {
                if !stream.isEmpty {  // the epoch's stream is used up: the next epoch's order
                    epoch += 1
                    position = 0
                    order = Self.order(count, seed: seed, epoch: epoch)
                    stream = []
                    streamMask = []
                    streamStart = []
                }
                for i in order {
                    let (seq, mask) = tokens.sequence(i)
                    streamStart += Array(repeating: stream.count, count: seq.count)
                    stream += seq
                    streamMask += mask
                }
                // A corpus shorter than one row repeats until it fills it.
                while stream.count < width + 1 {
                    streamStart += streamStart.map { $0 + stream.count }
                    stream += stream
                    streamMask += streamMask
                }
            }
            for j in 0..<width {
                let here = position + j
                ids.append(stream[here])
                let sameExample = streamStart[here + 1] == streamStart[here]
                targets.append(sameExample && (trainOnInputs || streamMask[here + 1] == 1) ? stream[here + 1] : -1)
                starts.append(Swift.max(0, streamStart[here] - position))
            }
            position += width
        }
        return (ids, targets, PackedRows(segmentStart: starts, width: width))
    }

    /// The next `n` example indices, in this epoch's order, then the next epoch's.
    public mutating func next(_ n: Int) -> [Int] {
        (0..<n).map { _ in
            if position == count {
                epoch += 1
                position = 0
                order = Self.order(count, seed: seed, epoch: epoch)
            }
            defer { position += 1 }
            return order[position]
        }
    }
}
