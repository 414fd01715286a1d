import Foundation
import XCTest

@testable import TailorServe

/// The labels file: appended whole lines, resumed after a restart, repaired after a torn write.
/// (Pairs a model writes: `OpenAIServerTests.testAModelWritesEachPairTheSameWay`.)
final class LabelTests: XCTestCase {
    func folder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-labels-\(getpid())-\(name.hashValue)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testLabelsAppendResumeAndSurviveATornLine() throws {
        let path = try folder() + "/labels.jsonl"
        let store = try LabelStore(path: path)
        XCTAssertEqual(store.tiesPath, path.replacingOccurrences(of: ".jsonl", with: ".ties.jsonl"))
        try store.append(["id": "p1", "prompt": "q", "chosen": "a", "rejected": "b"], tie: false)
        try store.append(["id": "p2", "prompt": "q", "response_a": "a", "response_b": "b"], tie: true)
        XCTAssertThrowsError(try store.append(["id": "p1", "prompt": "q", "chosen": "b", "rejected": "a"], tie: false)) {
            XCTAssertTrue("\($0)".contains("already labelled"), "\($0)")
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(lines, #"{"chosen":"a","id":"p1","prompt":"q","rejected":"b"}"# + "\n", "TRL's layout, one line, ties elsewhere")

        // A crash in the middle of a write leaves a line without its newline: cut off, the rest kept.
        try Data((lines + #"{"chosen":"x","id":"p3""#).utf8).write(to: URL(fileURLWithPath: path))
        let resumed = try LabelStore(path: path)
        XCTAssertEqual(resumed.resumed.labels, 1)
        XCTAssertEqual(resumed.resumed.ties, 1)
        XCTAssertTrue(resumed.resumed.repaired)
        XCTAssertTrue(resumed.isLabelled("p1") && resumed.isLabelled("p2") && !resumed.isLabelled("p3"))
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), lines)

        try Data("not json\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try LabelStore(path: path)) { XCTAssertTrue("\($0)".contains("labels.jsonl:1"), "\($0)") }
    }
}
