import Foundation
@testable import TailorEngine
import TailorDiagnostics
import TailorModels
@testable import TailorExecutor
import TailorPlan
import TailorRuntime
import XCTest

/// Every file input, given something that is not a regular file: a FIFO (opening one blocks
/// until a writer comes), a loop of symbolic links, a folder where a file belongs. Each must
/// end promptly in an error that says what the path is, at the spec's line when a spec names
/// it, and never hang. A body that does not return in time fails the test instead of hanging.
final class NonRegularFileTests: FolderTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        XCTAssertEqual(mkfifo(dir + "/fifo", 0o644), 0)
        XCTAssertEqual(symlink(dir + "/loop-b", dir + "/loop-a"), 0)
        XCTAssertEqual(symlink(dir + "/loop-a", dir + "/loop-b"), 0)
        try FileManager.default.createDirectory(atPath: dir + "/folder", withIntermediateDirectories: true)
    }

    /// The special paths and the words their errors must hold.
    let specials = [("fifo", "is a FIFO (named pipe)"), ("loop-a", "is a loop of symbolic links")]

    /// Runs `body` on another thread; fails if it has not returned within `seconds`.
    func promptly<T>(_ what: String, seconds: Double = 20, _ body: @escaping @Sendable () -> T) -> T? {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        Thread.detachNewThread {
            box.value = body()
            done.signal()
        }
        guard done.wait(timeout: .now() + seconds) == .success else {
            XCTFail("\(what) did not return within \(seconds) s (it blocks on the path)")
            return nil
        }
        return box.value
    }

    final class ResultBox<T>: @unchecked Sendable { var value: T? }

    /// Every key of the spec language that names a file or folder, with a special path in it:
    /// `check` answers at the key's line with what the path is.
    func testEverySpecFileInputRefusesSpecialFiles() throws {
        let inputs: [(key: String, yaml: (String) -> String)] = [
            ("data.file", { "data:\n  d: { file: \($0), format: text }\n" }),
            ("data.folder", { "data:\n  d: { folder: \($0) }\n" }),
            ("data.command.inputs", { "data:\n  d: { command: { run: [cat, x], inputs: [\($0)], output: out.jsonl }, format: text }\n" }),
            ("tokenizers.load", { "tokenizers:\n  t: { load: \($0) }\n" }),
            ("models.load", { "models:\n  m: { load: \($0) }\n" }),
            ("extends", { "extends: \($0)\n" }),
        ]
        for (key, yaml) in inputs {
            for (special, words) in specials {
                let file = dir + "/\(key)-\(special).yaml"
                try ("tailor: 1\nname: special\n" + yaml(special)).write(toFile: file, atomically: true, encoding: .utf8)
                let diagnostics = promptly("check of \(key) = \(special)") { () -> DiagnosticBag in
                    var d = DiagnosticBag()
                    _ = Compiler().plan(file: file, diagnostics: &d)
                    return d
                }
                guard let diagnostics else { continue }
                let errors = diagnostics.items.filter { $0.severity == .error }
                XCTAssertTrue(errors.contains { $0.message.contains(words) && $0.location?.line ?? 0 >= 3 },
                              "\(key) = \(special): \(errors.map { "\($0.location.map { "\($0.line)" } ?? "-"): \($0.message)" })")
            }
        }
    }

    /// Every model-file reader, handed a FIFO or a link loop (directly, or as a file inside a
    /// model folder), throws an error naming the path.
    func testEveryModelFileReaderRefusesSpecialFiles() throws {
        let readers: [(String, @Sendable (String) throws -> Void)] = [
            ("GGUF", { _ = try GGUFFile(path: $0) }),
            ("safetensors", { _ = try Safetensors.read(path: $0) }),
            ("tokenizer.json", { _ = try TokenizerJSON.load(path: $0) }),
            ("vocab.txt", { _ = try WordPieceTokenizer(vocabFile: $0) }),
        ]
        for (name, read) in readers {
            for (special, words) in specials {
                let path = dir + "/" + special
                let problem = promptly("\(name) reading \(special)") { () -> String in
                    do {
                        try read(path)
                        return "no error"
                    } catch { return "\(error)" }
                }
                XCTAssertTrue(problem?.contains(words) ?? true, "\(name) on \(special): \(problem ?? "")")
            }
        }
        // Inside folders: a Hugging Face folder whose config.json, and a PEFT adapter whose
        // adapter_config.json, is a FIFO.
        let model = dir + "/model", adapter = dir + "/adapter"
        for folder in [model, adapter] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        XCTAssertEqual(mkfifo(model + "/config.json", 0o644), 0)
        XCTAssertEqual(mkfifo(adapter + "/adapter_config.json", 0o644), 0)
        let gpt2 = GPT2(config: GPT2Config(vocab: 40, context: 16, width: 24, layers: 1, heads: 3), seed: 1)
        let folderReaders: [(String, @Sendable () throws -> Void)] = [
            ("Hugging Face folder", { _ = try HuggingFaceFolder(path: model) }),
            ("PEFT adapter", { try PEFTAdapter.load(from: adapter, into: gpt2) }),
        ]
        for (name, read) in folderReaders {
            let problem = promptly(name) { () -> String in
                do {
                    try read()
                    return "no error"
                } catch { return "\(error)" }
            }
            XCTAssertTrue(problem?.contains("is a FIFO (named pipe)") ?? true, "\(name): \(problem ?? "")")
        }
    }

    /// A FIFO that appears where a data file was planned (after the checker saw a file), or
    /// inside a documents folder, stops the run with an error instead of blocking it; the
    /// planner's digests do not block on it either.
    func testRunsRefuseSpecialFilesThatAppearAfterChecking() throws {
        try "one\n\ntwo\n".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        try "a document".write(toFile: dir + "/folder/a.txt", atomically: true, encoding: .utf8)
        let spec = dir + "/run.yaml"
        try "tailor: 1\nname: late\ndata:\n  notes: { file: notes.txt, format: text }\n  docs: { folder: folder }\n"
            .write(toFile: spec, atomically: true, encoding: .utf8)
        var d = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: spec, diagnostics: &d), "\(d.items)")
        try FileManager.default.removeItem(atPath: dir + "/notes.txt")
        XCTAssertEqual(mkfifo(dir + "/notes.txt", 0o644), 0)
        XCTAssertEqual(mkfifo(dir + "/folder/b.txt", 0o644), 0)
        let store = try ArtifactStore(root: dir + "/.tailor")
        for node in plan.nodes {
            let problem = promptly("running \(node.id)") { () -> String in
                do {
                    _ = try Executor(plan: plan, store: store).run([node])
                    return "no error"
                } catch { return "\(error)" }
            }
            XCTAssertTrue(problem?.contains("is a FIFO (named pipe)") ?? true, "\(node.id): \(problem ?? "")")
        }
        let notes = dir + "/notes.txt"
        let digest = promptly("digesting a FIFO") { FileDigests().digest(notes) }
        XCTAssertEqual(digest, "unreadable")
        XCTAssertEqual(FileDigests().digest(dir + "/loop-a"), "unreadable")
    }
}
