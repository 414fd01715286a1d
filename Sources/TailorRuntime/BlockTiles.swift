/// A block-encoded matrix's weights rearranged for the integer kernel: eight output rows at a
/// time, block by block, so that one register holds the same four values of eight rows and one
/// byte dot product gives eight rows' sums at once, each in its own lane. A file stores a row's
/// blocks one after another, which makes every row's sum end in a horizontal addition and every
/// block's scaling cost a vector operation per row; interleaved, eight rows share both (the
/// layout llama.cpp calls repacking).
///
/// A tile is the block `b` of rows 8g…8g+7:
/// - 8 Float16 scales d (16 bytes);
/// - Q4_1 only: 8 Float16 minimums m (16 bytes);
/// - the values, 32 bytes per step: Q4 steps p = 0…3 hold, for row r, bytes 4p…4p+3 of its block
///   at 4r (low nibbles: values 4p…4p+3; high nibbles: values 16+4p…16+4p+3); Q8_0 steps k = 0…7
///   hold values 4k…4k+3 of row r at 4r.
/// Rows past the matrix's last (its final group's padding) are zero blocks.
final class BlockTiles: @unchecked Sendable {  // written once in init, then only read
    let groups: Int, blocks: Int, tileBytes: Int, valuesOffset: Int
    let storage: UnsafeMutableRawPointer

    init(_ encoding: BlockMatrix.Encoding, rows: Int, columns: Int, base: UnsafeRawPointer, rowBytes: Int) {
        let blockBytes = encoding.blockBytes
        (groups, blocks) = ((rows + 7) / 8, columns / 32)
        valuesOffset = encoding == .q4_1 ? 32 : 16
        tileBytes = valuesOffset + (encoding == .q8_0 ? 256 : 128)
        storage = .allocate(byteCount: groups * blocks * tileBytes, alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: groups * blocks * tileBytes)
        let quantsAt = encoding == .q4_1 ? 4 : 2, steps = encoding == .q8_0 ? 8 : 4
        for g in 0..<groups {
            for b in 0..<blocks {
                let tile = storage + (g * blocks + b) * tileBytes
                for r in 0..<Swift.min(8, rows - g * 8) {
                    let block = base + (g * 8 + r) * rowBytes + b * blockBytes
                    (tile + 2 * r).copyMemory(from: block, byteCount: 2)
                    if encoding == .q4_1 { (tile + 16 + 2 * r).copyMemory(from: block + 2, byteCount: 2) }
                    for step in 0..<steps {
                        (tile + valuesOffset + step * 32 + 4 * r).copyMemory(from: block + quantsAt + 4 * step, byteCount: 4)
                    }
                }
            }
        }
    }

    deinit { storage.deallocate() }

    @inline(__always) func tile(_ group: Int, _ block: Int) -> UnsafeRawPointer { UnsafeRawPointer(storage + (group * blocks + block) * tileBytes) }
}
