import Foundation
import TailorEngine
import TailorDiagnostics
@testable import TailorExecutor
import TailorModels
import TailorPlan
import TailorRuntime

/// Fuzz targets for everything that reads a user's bytes. Any input must end in a result or
/// in an error; a crash, trap, hang or unbounded allocation is a bug. `TAILOR_FUZZ` picks one:
///
/// - `spec`: bytes → YAML → composition → checks → plan (the default).
/// - `data`: a data file; the first byte picks the reader (JSONL, CSV, text) and the record format.
/// - `gguf`: a GGUF file: header, every tensor, the Llama config and the tokenizer.
/// - `safetensors`: a safetensors file, packed and converted.
/// - `tokenizer`: a `tokenizer.json` (BPE or WordPiece), or with an odd first byte a `vocab.txt`.
/// - `peft`: a PEFT adapter folder for a tiny GPT-2; the first byte picks which of its two files
///   the rest replaces (`adapter_config.json` or `adapter_model.safetensors`).
///
/// Built for libFuzzer with
///   swift build --product TailorFuzz --sanitize fuzzer --sanitize address -Xswiftc -DFUZZING
/// and run as `TAILOR_FUZZ=gguf .build/debug/TailorFuzz CORPUS_DIR` (`make fuzz` does both).
/// Built normally, it replays the files given on the command line (a corpus or crash reproducers).
enum FuzzTarget {
    static let folder: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }()

    static let name = ProcessInfo.processInfo.environment["TAILOR_FUZZ"] ?? "spec"

    static func write(_ bytes: some Collection<UInt8>, as file: String) -> String {
        let path = folder.appendingPathComponent(file).path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    static func run(_ bytes: [UInt8]) {
        switch name {
        case "spec": spec(bytes)
        case "data": data(bytes)
        case "gguf": gguf(bytes)
        case "safetensors": safetensors(bytes)
        case "tokenizer": tokenizer(bytes)
        case "peft": peft(bytes)
        default: fatalError("TAILOR_FUZZ=\(name): the targets are spec, data, gguf, safetensors, tokenizer and peft")
        }
    }

    static func spec(_ bytes: [UInt8]) {
        var diagnostics = DiagnosticBag()
        let plan = Compiler().plan(file: write(bytes, as: "input.yaml"), diagnostics: &diagnostics)
        if plan == nil && !diagnostics.hasErrors { fatalError("no plan and no error") }
    }

    static let formats = ["text", "instruction", "chat", "preference", "classification", "documents", "queries"]

    static func data(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let ext = ["jsonl", "csv", "txt"][Int(first) % 3]
        let format = formats[Int(first / 3) % formats.count]
        let path = write(bytes.dropFirst(), as: "input.\(ext)")
        do {
            let records = try DataFiles.load(path, shownAs: "input.\(ext)", format: format, fields: [:]).records
            if records.isEmpty { fatalError("no records and no error") }
        } catch is ExecutionError {}
        catch { fatalError("not an ExecutionError: \(error)") }
    }

    static func gguf(_ bytes: [UInt8]) {
        guard let file = try? GGUFFile(data: Data(bytes)) else { return }
        for t in file.tensors { _ = try? file.tensor(t) }
        _ = try? file.llamaConfig()
        _ = try? file.llama()
        if let tokenizer = try? file.bpeTokenizer() { _ = tokenizer.decode(tokenizer.encode("Hello, world 123")) }
    }

    static func safetensors(_ bytes: [UInt8]) {
        guard let (tensors, _) = try? Safetensors.parse(Data(bytes)) else { return }
        for t in tensors.values { _ = t.scalars.count }
    }

    static func tokenizer(_ bytes: [UInt8]) {
        if let first = bytes.first, first & 1 == 1 {
            if let t = try? WordPieceTokenizer(vocabFile: write(bytes.dropFirst(), as: "vocab.txt")) { _ = t.encode("Hello, world") }
            return
        }
        switch try? TokenizerJSON.load(path: write(bytes.dropFirst(), as: "tokenizer.json")) {
        case .bpe(let t): _ = t.decode(t.encode("Hello, world 123 <|endoftext|>"))
        case .wordPiece(let t): _ = t.encode("Hello, world [MASK]")
        case nil: break
        }
    }

    /// A valid adapter for `peftModel`, written once; each input replaces one of its files.
    static let peftConfig = GPT2Config(vocab: 40, context: 16, width: 24, layers: 1, heads: 3)
    static let peftModel = GPT2(config: peftConfig, seed: 1)
    static let peftFolder: String = {
        let model = GPT2(config: peftConfig, seed: 1)
        model.addLoRA(targets: ["attn.q", "attn.v", "mlp.up"], rank: 2, alpha: 4, seed: 5)
        let dir = folder.appendingPathComponent("peft-seed").path
        try! PEFTAdapter.save(model, to: dir)
        return dir
    }()

    static func peft(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let dir = folder.appendingPathComponent("peft").path
        try? FileManager.default.removeItem(atPath: dir)
        try! FileManager.default.copyItem(atPath: peftFolder, toPath: dir)
        let file = first & 1 == 0 ? "adapter_config.json" : "adapter_model.safetensors"
        _ = FileManager.default.createFile(atPath: dir + "/" + file, contents: Data(bytes.dropFirst()))
        _ = try? PEFTAdapter.load(from: dir, into: peftModel)
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTarget.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#else
/// Replays inputs without libFuzzer: `TailorFuzz FILE…`.
@main
enum Replay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = try? FileProbe.read(path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                exit(2)
            }
            FuzzTarget.run([UInt8](data))
            print("\(path): ok")
        }
    }
}
#endif
