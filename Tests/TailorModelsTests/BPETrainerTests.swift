import Foundation
import XCTest

@testable import TailorModels

final class BPETrainerTests: XCTestCase {
    /// A small corpus with repeated words, punctuation, digits and non-ASCII text.
    let corpus = (0..<200).map { i in
        "The quick brown fox jumps over the lazy dog \(i % 17) times. Café crème, naïve façade! "
            + ["tokenizers merge frequent pairs", "low lower lowest newer newest", "日本語のテキスト"][i % 3]
    }

    func testTrainingIsDeterministicAndReachesTheVocabularySize() throws {
        let trainer = BPETrainer(vocabSize: 350)
        let a = try trainer.train(corpus), b = try trainer.train(corpus.shuffled())
        XCTAssertEqual(a.vocabulary, b.vocabulary, "the same texts in any order give the same vocabulary")
        XCTAssertEqual(a.mergeList.map { $0.0 + " " + $0.1 }, b.mergeList.map { $0.0 + " " + $0.1 })
        XCTAssertEqual(a.count, 350)
        XCTAssertEqual(a.vocabulary.last, "<|endoftext|>")
        XCTAssertEqual(a.eos, 349)
        XCTAssertEqual(Set(a.vocabulary).count, a.count, "no token twice")
        // Frequent words became single tokens.
        XCTAssertEqual(a.encode(" quick").count, 1)
        XCTAssertEqual(a.encode(" the lazy dog").count, 3)
    }

    func testAnyTextRoundTripsAndCompresses() throws {
        let t = try BPETrainer(vocabSize: 600).train(corpus)
        for text in ["unseen words: zebra quagga", "emoji 🤖👨‍👩‍👧 and \u{0} control \u{7F} bytes", "  spaces\t\ttabs\n\n", "Ελληνικά", "",
                     "<|endoftext|> in text"] {
            let ids = t.encode(text)
            XCTAssertEqual(t.decode(ids), text, text.debugDescription)
        }
        let sample = corpus[0]
        XCTAssertLessThan(t.encode(sample).count * 3, sample.utf8.count, "at least 3 bytes per token on training text")
        XCTAssertEqual(t.encode("<|endoftext|>"), [t.eos!])
    }

    func testMinimumFrequencyStopsEarly() throws {
        let t = try BPETrainer(vocabSize: 10_000, minFrequency: 1_000_000).train(corpus)
        XCTAssertEqual(t.count, 257, "bytes and the special token only")
    }
}
