import TailorTraining
import XCTest

/// The continual summaries on a fixed matrix, against values worked by hand from each
/// definition (docs/results.md names the sources).
final class AccuracyMatrixTests: XCTestCase {
    // Rows: before training, after tasks 1, 2, 3. Task 1 gains from task 2 (0.90 → 0.95)
    // before task 3 takes it down to 0.40, so the max-based and the last-based forgetting differ.
    let matrix = AccuracyMatrix([
        [0.10, 0.20, 0.00, 0.50],
        [0.90, 0.30, 0.10, 0.45],
        [0.95, 0.80, 0.20, 0.40],
        [0.40, 0.50, 0.70, 0.30],
    ], tasks: 3)

    func testSummariesEqualTheirDefinitionsWorkedByHand() throws {
        XCTAssertEqual(matrix.averageAccuracy, (0.40 + 0.50 + 0.70) / 3, accuracy: 1e-12)
        // GEM's BWT: ((0.40 − 0.90) + (0.50 − 0.80)) / 2 = −0.40
        XCTAssertEqual(try XCTUnwrap(matrix.backwardTransfer), -0.40, accuracy: 1e-12)
        // FWT against the starting model: ((0.30 − 0.20) + (0.20 − 0.00)) / 2 = 0.15
        XCTAssertEqual(try XCTUnwrap(matrix.forwardTransfer), 0.15, accuracy: 1e-12)
        // Chaudhry et al.: max over stages 1…2, minus the last: task 1 0.95 − 0.40, task 2 0.80 − 0.50.
        XCTAssertEqual(matrix.forgetting.count, 2)
        XCTAssertEqual(matrix.forgetting[0], 0.55, accuracy: 1e-12)
        XCTAssertEqual(matrix.forgetting[1], 0.30, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(matrix.averageForgetting), 0.425, accuracy: 1e-12)
        // Avalanche's: right after the task's own stage, minus the last.
        XCTAssertEqual(matrix.lastForgetting[0], 0.50, accuracy: 1e-12)
        XCTAssertEqual(matrix.lastForgetting[1], 0.30, accuracy: 1e-12)
    }

    /// The extra column (a general set) is in the matrix but in no summary.
    func testExtraColumnsStayOutOfTheSummaries() throws {
        let without = AccuracyMatrix(matrix.scores.map { Array($0.prefix(3)) }, tasks: 3)
        XCTAssertEqual(without.averageAccuracy, matrix.averageAccuracy)
        XCTAssertEqual(without.backwardTransfer, matrix.backwardTransfer)
        XCTAssertEqual(without.forwardTransfer, matrix.forwardTransfer)
        XCTAssertEqual(without.forgetting, matrix.forgetting)
    }

    func testOneTaskHasNoTransferOrForgetting() {
        let one = AccuracyMatrix([[0.2], [0.9]], tasks: 1)
        XCTAssertEqual(one.averageAccuracy, 0.9)
        XCTAssertNil(one.backwardTransfer)
        XCTAssertNil(one.forwardTransfer)
        XCTAssertTrue(one.forgetting.isEmpty)
        XCTAssertNil(one.averageForgetting)
    }
}
