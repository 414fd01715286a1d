import Foundation
@testable import TailorEngine
import TailorDiagnostics
@testable import TailorExecutor
import TailorPlan
import TailorRuntime
import XCTest

/// The cache's promises that are not about artifacts' bytes (those are in ExecutorTests):
/// checkpoints are checked before a resume, run records never share a folder, a lock records
/// what was read, an unreadable file is not called missing, and a write that fails names the
/// node and the reason. docs/executor.md lists each promise with its test.
final class CachePromiseTests: FolderTestCase {
    /// The digests the last plan was made with: an executor given them runs what was planned.
    var planned = FileDigests()

    func plan(_ text: String, as name: String = "spec.yaml") throws -> Plan {
        try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        let compiler = Compiler()
        planned = compiler.digests
        return try XCTUnwrap(compiler.plan(file: dir + "/" + name, diagnostics: &diagnostics), "\(diagnostics.items)")
    }

    let textSpec = """
        tailor: 1
        name: notes
        data:
          notes: { file: notes.txt, format: text }
        """

    /// A spec with a 1-layer GPT-2 on byte tokens, pretrained with `pretrain` settings.
    func tinyModel(pretrain: String) -> String {
        """
        tailor: 1
        name: tiny
        seed: 1
        data:
          sums: { generate: addition, count: 64, options: { digits: 1 } }
        tokenizers:
          bytes: { bytes: true }
        models:
          base:
            arch: gpt2
            size: { layers: 1, width: 16, heads: 2, context: 16 }
            tokenizer: bytes
            pretrain: { data: sums, \(pretrain) }
        """
    }

    /// Run records written at once, in the same second, each get a folder of their own.
    func testConcurrentRunRecordsNeverShareAFolder() throws {
        try "one\n".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        let plan = try plan(textSpec)
        let store = try ArtifactStore(root: dir + "/.tailor")
        let outcomes = try Executor(plan: plan, store: store).run(plan.nodes)
        let ran = outcomes.map { o -> Executor.Outcome in
            var changed = o
            changed.status = .ran  // a run that computed something always writes a record
            return changed
        }
        let folders = Folders()
        let root = dir + "/runs"
        nonisolated(unsafe) let (shared, outcomesRan) = (plan, ran)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let written = try? RunRecord.write(plan: shared, sets: [], outcomes: outcomesRan, seconds: 0, root: root, store: store)
            folders.add(written?.record.folder)
        }
        XCTAssertEqual(folders.all.count, 8, "every record written")
        XCTAssertEqual(Set(folders.all).count, 8, "each in its own folder: \(folders.all)")
        for folder in folders.all { XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/lock.json")) }
    }

    final class Folders: @unchecked Sendable {
        let lock = NSLock()
        var all: [String] = []
        func add(_ folder: String?) {
            lock.lock()
            if let folder { all.append(folder) }
            lock.unlock()
        }
    }

    /// A file replaced between planning and reading stops its node (nothing stored under the
    /// old content's key); the lock records the digest of what the run read, not of the file
    /// as it is when the record is written.
    func testTheLockRecordsWhatWasRead() throws {
        let notes = dir + "/notes.txt"
        try "one\n\ntwo\n".write(toFile: notes, atomically: true, encoding: .utf8)
        let read = FileDigests().digest(notes)
        let stale = try plan(textSpec)
        try "something else entirely\n".write(toFile: notes, atomically: true, encoding: .utf8)
        let store = try ArtifactStore(root: dir + "/.tailor")
        XCTAssertThrowsError(try Executor(plan: stale, store: store, digests: planned).run(stale.nodes)) { error in
            XCTAssertTrue("\(error)".contains("'notes.txt' changed while the run was reading it"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/.tailor/artifacts"), [], "nothing stored")
        // Read as planned, then replaced before the record is written: the lock keeps what was read.
        try "one\n\ntwo\n".write(toFile: notes, atomically: true, encoding: .utf8)
        let fresh = try plan(textSpec)
        let outcomes = try Executor(plan: fresh, store: store, digests: planned).run(fresh.nodes)
        try "replaced after reading\n".write(toFile: notes, atomically: true, encoding: .utf8)
        let lock = RunRecord.lock(plan: fresh, outcomes: outcomes)
        let entry = try XCTUnwrap((lock["nodes"] as? [[String: Any]])?.first)
        XCTAssertEqual((entry["files"] as? [String: String])?["notes.txt"], read)
    }

    /// `cache verify` says what is wrong with a file that is there but cannot be read, instead
    /// of calling it missing; a missing one is still "missing".
    func testVerifyTellsUnreadableFromMissing() throws {
        try "one\n".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        let plan = try plan(textSpec)
        let store = try ArtifactStore(root: dir + "/.tailor")
        let artifact = try XCTUnwrap(Executor(plan: plan, store: store).run(plan.nodes).first).artifact
        let data = artifact.path("data.jsonl")
        try FileManager.default.removeItem(atPath: data)
        XCTAssertEqual(mkfifo(data, 0o644), 0)
        var (found, problem) = store.lookup(artifact.key)
        XCTAssertNil(found)
        XCTAssertEqual(problem, "'data.jsonl' is a FIFO (named pipe), not a regular file")
        try FileManager.default.removeItem(atPath: data)
        XCTAssertEqual(symlink(data, data), 0)
        (found, problem) = store.lookup(artifact.key)
        XCTAssertEqual(problem, "'data.jsonl' is a loop of symbolic links")
        try FileManager.default.removeItem(atPath: data)
        (found, problem) = store.lookup(artifact.key)
        XCTAssertEqual(problem, "'data.jsonl' is missing")
    }

    /// A write that fails for lack of space (here: into /dev/full) says so, and a failing
    /// node's error names the node, whatever layer the failure came from.
    func testAFailedWriteNamesTheNodeAndTheReason() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/dev/full"), "needs /dev/full")
        let target = dir + "/out.bin"
        XCTAssertEqual(symlink("/dev/full", dir + "/.out.bin.tmp-\(getpid())"), 0)
        XCTAssertThrowsError(try AtomicFile.write(Data(count: 1 << 16), to: target)) { error in
            XCTAssertTrue("\(error)".contains("No space left on device"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: target), "nothing half-written")
        // A training node whose checkpoint cannot be written.
        let plan = try plan(tinyModel(pretrain: "steps: 4, batch: 4, checkpoint_every: 2"))
        let store = try ArtifactStore(root: dir + "/.tailor")
        let executor = Executor(plan: plan, store: store)
        let train = try XCTUnwrap(plan.nodes.first { $0.kind.trains })
        let upstream = try executor.run(plan.nodes.filter { $0.id != train.id })
        let inputs = train.inputs.map { input in (input, upstream.first { $0.node.id == input.node }!.artifact) }
        let scratch = store.scratch(executor.executionKey(train, inputs))
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        XCTAssertEqual(symlink("/dev/full", scratch + "/.checkpoint.safetensors.tmp-\(getpid())"), 0)
        XCTAssertThrowsError(try executor.run(plan.nodes)) { error in
            XCTAssertTrue(error is ExecutionError, "\(type(of: error))")
            XCTAssertTrue("\(error)".contains(train.id) && "\(error)".contains("No space left on device"), "\(error)")
        }
    }

    /// An export is copied whole into each run record, so it is hashed whole even when its
    /// files are large enough to be confirmed by stamps elsewhere: damage behind an unchanged
    /// size and time is rebuilt, and the record gets good bytes.
    func testExportsAreHashedBeforeTheyAreCopied() throws {
        let plan = try plan(tinyModel(pretrain: "steps: 2, batch: 4") + "\nexports:\n  out: { model: base, format: hf }\n")
        let store = try ArtifactStore(root: dir + "/.tailor", alwaysHashed: 0)  // every file counts as large
        let first = try Executor(plan: plan, store: store).run(plan.nodes)
        let export = try XCTUnwrap(first.first { $0.node.kind == .exportModel }).artifact
        let model = export.path("model.safetensors")
        var info = stat()
        stat(model, &info)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: model))
        var times = [info.st_atim, info.st_mtim]
        XCTAssertEqual(utimensat(AT_FDCWD, model, &times, 0), 0)
        let second = try Executor(plan: plan, store: store).run(plan.nodes)
        let rebuilt = try XCTUnwrap(second.first { $0.node.kind == .exportModel })
        XCTAssertEqual(rebuilt.status, .recomputed)
        XCTAssertEqual(rebuilt.artifact.digest, export.digest, "rebuilt bit for bit")
        XCTAssertEqual(second.first { $0.node.kind.trains }?.status, .cached, "the model's own files are confirmed by stamps")
    }
}
