import Foundation
import TailorRuntime
import XCTest

@testable import TailorModels

/// all-MiniLM-L6-v2 (a Hugging Face folder) against the independent numpy reference in
/// Fixtures/minilm_reference.py, whose output is Fixtures/minilm.json.
final class MiniLMTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    nonisolated(unsafe) static let fixture: [String: Any] = {
        let data = try! Data(contentsOf: root.appendingPathComponent("Fixtures/minilm.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()
    nonisolated(unsafe) static var loaded: (Bert, WordPieceTokenizer)?

    func model() throws -> (Bert, WordPieceTokenizer) {
        if let loaded = Self.loaded { return loaded }
        let path = ProcessInfo.processInfo.environment["TAILOR_MINILM"]
            ?? Self.root.appendingPathComponent("../../models/all-MiniLM-L6-v2").standardized.path
        guard FileManager.default.fileExists(atPath: path) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("\(path) is missing: CI must run `make models`") }
            throw XCTSkip("\(path) is missing: run `make models`")
        }
        let loaded = try LoadedModel.open(path).encoder()
        Self.loaded = loaded
        return loaded
    }

    func testTokenIDsEqualTheReferenceTokenizer() throws {
        let tokenizer = try model().1
        for case let entry as [String: Any] in Self.fixture["tokenizer"] as! [Any] {
            let text = entry["text"] as! String
            XCTAssertEqual(tokenizer.encode(text, maxLength: 256), (entry["ids"] as! [Int]).map(Int32.init), "ids of \(text.debugDescription)")
        }
    }

    func testEmbeddingsMatchTheReference() throws {
        let (bert, tokenizer) = try model()
        let entries = Self.fixture["embeddings"] as! [[String: Any]]
        let ids = entries.map { ($0["ids"] as! [Int]).map(Int32.init) }
        for (entry, sequence) in zip(entries, ids) { XCTAssertEqual(tokenizer.encode(entry["text"] as! String, maxLength: 256), sequence) }
        // One right-padded batch; the reference embedded each sentence on its own.
        let vectors = bert.embeddings(ids)
        for (entry, vector) in zip(entries, vectors) {
            let expected = entry["embedding"] as! [Double]
            XCTAssertEqual(vector.count, expected.count)
            let worst = zip(vector, expected).map { abs(Double($0) - $1) }.max()!
            XCTAssertLessThan(worst, 1e-4, "\(entry["text"]!)")
        }
        // Paraphrases rank above unrelated sentences.
        func cosine(_ a: Int, _ b: Int) -> Float { zip(vectors[a], vectors[b]).reduce(0) { $0 + $1.0 * $1.1 } }
        let (guitar, strumming, cat, rug, market) = (0, 1, 2, 3, 4)
        XCTAssertGreaterThan(cosine(guitar, strumming), 0.6)
        XCTAssertGreaterThan(cosine(cat, rug), 0.6)
        for (a, b) in [(guitar, market), (cat, market), (strumming, rug)] { XCTAssertLessThan(cosine(a, b), 0.2) }
    }

    /// A vector is the same bits alone, in a batch of other lengths, in another order, and in
    /// a batch of its own length, so the index may reuse vectors embedded in another run.
    func testAVectorDependsOnItsTextAlone() throws {
        let (bert, tokenizer) = try model()
        let words = "the a river stone keeps quiet under seven old bridges while morning light crosses".split(separator: " ")
        // 1 to 40 words: token counts from 3 (one short product) to over 40, several texts per length.
        let texts = (0..<48).map { i in (0...(i * 7 % 40)).map { words[($0 * 5 + i) % words.count] }.joined(separator: " ") }
        let ids = texts.map { tokenizer.encode($0, maxLength: 256) }
        let together = bert.embeddings(ids)
        let alone = ids.map { bert.embeddings([$0])[0] }
        let reversed = Array(bert.embeddings(ids.reversed(), batch: 5).reversed())
        for i in ids.indices {
            XCTAssertEqual(together[i], alone[i], "text \(i) (\(ids[i].count) tokens) in a batch and alone")
            XCTAssertEqual(together[i], reversed[i], "text \(i) in batches of 5, reversed")
        }
        // Before: one right-padded batch changed the last bits of the shorter texts.
        let padded = bert.pooled(ids, normalize: true)
        XCTAssertNotEqual(padded, together, "a padded batch is not a test of independence if it already agrees")
    }
}
