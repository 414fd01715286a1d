import TailorRetrieval
import XCTest

final class ChunkerTests: XCTestCase {
    func testWordsOverlapAndKeepTheirOffsets() {
        let text = "one two  three four five six"
        let c = Chunker.chunks(document: "d", text: text, size: 3, overlap: 1, unit: .words)
        XCTAssertEqual(c.map(\.text), ["one two  three", "three four five", "five six"])
        XCTAssertEqual(c.map(\.id), ["d#0", "d#1", "d#2"])
        let scalars = Array(text.unicodeScalars)
        for chunk in c {
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[chunk.start..<chunk.end])
            XCTAssertEqual(String(s), chunk.text, "offsets point at the passage")
        }
    }

    func testSentencesEndAtTheirTerminators() {
        let text = "Ada was born in Korvath. She is 3.5 m tall! Is she? Yes"
        let c = Chunker.chunks(document: "d", text: text, size: 2, overlap: 0, unit: .sentences)
        XCTAssertEqual(c.map(\.text), ["Ada was born in Korvath. She is 3.5 m tall!", "Is she? Yes"])
    }

    /// Passages of at most `size` tokens cut between words; the next starts where at most
    /// `overlap` tokens reach the end of the one before; a word over `size` stands alone.
    func testTokensFillPassagesBetweenWords() {
        let text = "aa bbbb c dddddd ee f gggggggggg h"  // tokens: a letter each
        let c = Chunker.chunks(document: "d", text: text, size: 7, overlap: 3, unit: .tokens, tokens: { $0.count })
        XCTAssertEqual(c.map(\.text), ["aa bbbb c", "c dddddd", "ee f", "gggggggggg", "h"], "no passage only repeats the one before")
        for chunk in c where chunk.text != "gggggggggg" { XCTAssertLessThanOrEqual(chunk.text.filter { $0 != " " }.count, 7) }
        // One token a word: the word windows again.
        XCTAssertEqual(Chunker.chunks(document: "d", text: text, size: 3, overlap: 1, unit: .tokens).map(\.text),
                       Chunker.chunks(document: "d", text: text, size: 3, overlap: 1, unit: .words).map(\.text))
    }

    func testCharactersAndAShortDocument() {
        XCTAssertEqual(Chunker.chunks(document: "d", text: "héllo", size: 2, overlap: 1, unit: .chars).map(\.text), ["hé", "él", "ll", "lo"])
        XCTAssertEqual(Chunker.chunks(document: "d", text: "just two", size: 50, overlap: 10, unit: .words).map(\.text), ["just two"])
        XCTAssertTrue(Chunker.chunks(document: "d", text: "  ", size: 5, overlap: 0, unit: .words).isEmpty)
    }
}
