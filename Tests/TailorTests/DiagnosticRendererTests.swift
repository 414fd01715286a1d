import Foundation
import TailorDiagnostics
import XCTest

final class DiagnosticRendererTests: XCTestCase {
    func testCaretUnderTheSpanAndNotes() {
        let sources = SourceManager()
        sources.add(file: "s.yaml", text: "a: 1\n\tbad: value\n")
        var bag = DiagnosticBag()
        bag.error(Message("something is wrong"), at: SourceLocation(file: "s.yaml", line: 2, column: 2, length: 3),
                  notes: [Note("did you mean 'bat'?"), Note("first here", at: SourceLocation(file: "s.yaml", line: 1, column: 1))])
        let text = DiagnosticRenderer(sources: sources).renderText(bag.sorted)
        XCTAssertEqual(text, """
            s.yaml:2:2: error: something is wrong
            2 | \tbad: value
              | \t^~~
            note: did you mean 'bat'?
            s.yaml:1:1: note: first here
            1 | a: 1
              | ^
            1 error

            """)
    }

    func testColourOnlyWhenAsked() {
        let sources = SourceManager()
        var bag = DiagnosticBag()
        bag.warning(Message("careful"), at: nil)
        XCTAssertFalse(DiagnosticRenderer(sources: sources).renderText(bag.items).contains("\u{1B}["))
        XCTAssertTrue(DiagnosticRenderer(sources: sources, colour: true).renderText(bag.items).contains("\u{1B}[1;33m"))
    }

    func testSortedBySourceOrderAndDeduplicated() {
        var bag = DiagnosticBag()
        bag.error(Message("b"), at: SourceLocation(file: "f", line: 9, column: 1))
        bag.error(Message("a"), at: SourceLocation(file: "f", line: 2, column: 5))
        bag.error(Message("a"), at: SourceLocation(file: "f", line: 2, column: 5))
        XCTAssertEqual(bag.sorted.map(\.message), ["a", "b"])
    }

    func testJSON() throws {
        var bag = DiagnosticBag()
        bag.error(Message("x"), at: SourceLocation(file: "f", line: 3, column: 4, length: 2), notes: [Note("n")])
        let json = DiagnosticRenderer(sources: SourceManager()).renderJSON(bag.items)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: [[String: Any]]]
        let d = try XCTUnwrap(object?["diagnostics"]?.first)
        XCTAssertEqual(d["severity"] as? String, "error")
        XCTAssertEqual((d["location"] as? [String: Any])?["column"] as? Int, 4)
        XCTAssertEqual((d["notes"] as? [[String: Any]])?.first?["message"] as? String, "n")
    }
}
