import Foundation
import TailorTraining
import XCTest

/// Percentile bootstrap intervals against numpy on the same resamples
/// (Fixtures/bootstrap_reference.py writes Fixtures/bootstrap.json), and the seeded draw.
final class BootstrapTests: XCTestCase {
    struct Case: Decodable {
        var values: [Double], indices: [[Int]], low: Double, high: Double
    }

    func testTheIntervalEqualsNumpyOnTheSameResamples() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/bootstrap.json")
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: url))
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            let (low, high) = Bootstrap.interval95(c.values, resampled: c.indices)
            XCTAssertEqual(low, c.low, accuracy: 1e-12)
            XCTAssertEqual(high, c.high, accuracy: 1e-12)
        }
    }

    /// Seeded: the same values and seed give the same interval, another seed another; the
    /// interval holds the mean and is about ±1.96 standard errors wide for a large sample.
    func testTheSeededIntervalIsRepeatableAndAsWideAsTheStandardError() throws {
        let values = (0..<400).map { Double($0 % 2) }  // mean 0.5, standard error 0.025
        let a = try XCTUnwrap(Bootstrap.interval95(values, seed: 3)), b = try XCTUnwrap(Bootstrap.interval95(values, seed: 3))
        XCTAssertEqual(a.low, b.low)
        XCTAssertEqual(a.high, b.high)
        XCTAssertNotEqual(a.low, try XCTUnwrap(Bootstrap.interval95(values, seed: 4)).low)
        XCTAssertLessThan(a.low, 0.5)
        XCTAssertGreaterThan(a.high, 0.5)
        XCTAssertEqual(a.high - a.low, 2 * 1.96 * 0.025, accuracy: 0.015)
        XCTAssertNil(Bootstrap.interval95([], seed: 1))
    }
}
