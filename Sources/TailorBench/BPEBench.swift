import Foundation
import TailorModels

/// Byte-level BPE training speed: the top-level Python standard library modules of this
/// machine (`/usr/lib/python3.11/*.py`, about 4.7 MB of code and prose), vocabulary 8,192;
/// compared with `tokenizers`' BpeTrainer by docs/bench/bpe_tokenizers.py.
enum BPEBench {
    static func run(folder: String = "/usr/lib/python3.11") {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".py") }.sorted()
        let texts = files.compactMap { try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        var times: [Double] = []
        var tokenizer: BPETokenizer?
        for _ in 0..<3 {
            let t0 = Bench.now()
            tokenizer = try? BPETrainer(vocabSize: 8192).train(texts)
            times.append(Bench.now() - t0)
        }
        guard let tokenizer else { return print("bpe: training failed") }
        let t0 = Bench.now()
        let ids = texts.reduce(0) { $0 + tokenizer.encode($1).count }
        let encode = Bench.now() - t0
        print(String(format: "bpe: %d files, %.2f MB, vocab %d: train %.2f s (median of 3), encode %.2f s (%.1f MB/s), %.2f bytes/token",
                     texts.count, Double(bytes) / 1e6, tokenizer.count, Bench.median(times), encode, Double(bytes) / 1e6 / encode,
                     Double(bytes) / Double(ids)))
    }
}
