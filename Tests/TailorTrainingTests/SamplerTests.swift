@testable import TailorTraining
import XCTest

/// Packed batches: sequences laid end to end and cut into full rows, resumable mid-epoch.
final class PackingTests: XCTestCase {
    func tokens() -> TokenArrays {
        var t = TokenArrays()
        for i in 0..<7 {
            let n = 3 + i % 4
            t.append((0..<n).map { Int32(10 * i + $0) }, mask: [0, 0] + [UInt8](repeating: 1, count: n - 2))
        }
        return t
    }

    func testRowsAreFullAndResumingContinuesTheSameStream() {
        let data = tokens()
        var sampler = Sampler(count: data.count, seed: 4)
        var rows: [[Int32]] = []
        for _ in 0..<6 { rows.append(sampler.packed(data, rows: 2, width: 5, trainOnInputs: false).ids) }
        XCTAssertTrue(rows.allSatisfy { $0.count == 10 }, "no padding")
        // Every token of the first epoch appears, in the epoch's order, before the second starts.
        let order = Sampler.order(data.count, seed: 4, epoch: 0)
        let stream = order.flatMap { Array(data.sequence($0).ids) }
        XCTAssertEqual(Array(rows[0] + rows[1]), Array(stream.prefix(20)))
        // A sampler restored at a saved (epoch, position) yields what the original yields next.
        var original = Sampler(count: data.count, seed: 4)
        for _ in 0..<3 { _ = original.packed(data, rows: 2, width: 5, trainOnInputs: false) }
        var resumed = Sampler(count: data.count, seed: 4)
        resumed.restore(epoch: original.epoch, position: original.position)
        for _ in 0..<5 {
            XCTAssertEqual(resumed.packed(data, rows: 2, width: 5, trainOnInputs: false).ids,
                           original.packed(data, rows: 2, width: 5, trainOnInputs: false).ids)
        }
    }

    func testPromptTokensAreNotTargetsUnlessAsked() {
        var sampler = Sampler(count: tokens().count, seed: 1)
        let masked = sampler.packed(tokens(), rows: 1, width: 30, trainOnInputs: false).targets
        var all = Sampler(count: tokens().count, seed: 1)
        let unmasked = all.packed(tokens(), rows: 1, width: 30, trainOnInputs: true).targets
        XCTAssertGreaterThan(masked.filter { $0 == -1 }.count, unmasked.filter { $0 == -1 }.count)
    }

    /// Each packed example restarts its positions, attends from its own first token, and its
    /// last token predicts nothing; an example cut by the row's start counts from the row.
    func testExamplesInARowStayApart() {
        let data = tokens()
        var sampler = Sampler(count: data.count, seed: 4)
        let order = Sampler.order(data.count, seed: 4, epoch: 0)
        let lengths = order.map { data.sequence($0).ids.count }
        let width = 12
        let (ids, targets, layout) = sampler.packed(data, rows: 2, width: width, trainOnInputs: true)
        var expectedStart: [Int] = [], expectedTarget: [Int32] = []
        var begin = 0
        let stream = order.flatMap { Array(data.sequence($0).ids) }
        for (n, length) in lengths.enumerated() {
            for j in 0..<length {
                expectedStart.append(begin)
                expectedTarget.append(j == length - 1 || begin + j + 1 >= stream.count ? -1 : stream[begin + j + 1])
            }
            begin += length
            if n == lengths.count - 1 { break }
        }
        XCTAssertEqual(ids, Array(stream.prefix(2 * width)))
        XCTAssertEqual(targets, Array(expectedTarget.prefix(2 * width)))
        for row in 0..<2 {
            for j in 0..<width {
                let start = Swift.max(0, expectedStart[row * width + j] - row * width)
                XCTAssertEqual(layout.segmentStart[row * width + j], start, "row \(row) token \(j)")
                XCTAssertEqual(layout.positions[row * width + j], j - start)
            }
        }
        XCTAssertTrue(layout.positions.contains(0) && layout.positions.filter { $0 == 0 }.count >= 3, "positions restart")
    }
}
