/// Rows that hold several examples end to end (packed training batches): each token's
/// position within its own example and the first key it may attend to, so a packed
/// example sees exactly what it would see alone in a row of its own.
public struct PackedRows: Sendable, Equatable {
    /// Position of each token in its example, (B·T).
    public let positions: [Int]
    /// Index in its row where each token's example starts, (B·T).
    public let segmentStart: [Int]

    /// From where each token's example starts in its row, for rows of `width` tokens.
    public init(segmentStart: [Int], width: Int) {
        precondition(width > 0 && segmentStart.count % width == 0, "packed rows: \(segmentStart.count) starts do not fill rows of \(width)")
        self.segmentStart = segmentStart
        positions = segmentStart.enumerated().map { i, start in
            precondition(start <= i % width, "packed rows: token \(i % width) starts its example at \(start), after itself")
            return i % width - start
        }
    }
}
