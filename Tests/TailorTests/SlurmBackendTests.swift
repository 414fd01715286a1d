import Foundation
import XCTest

/// `tailor run --backend slurm` against a real Slurm cluster: CI starts a single-host one
/// (`.ci/slurm-up`) and sets TAILOR_SLURM_REQUIRED, so there these tests cannot be skipped;
/// elsewhere they are skipped, saying why, where `sbatch` is absent.
extension CommandLineTests {
    func requireSlurm() throws {
        let found = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/sbatch")
        }
        if !found {
            if ProcessInfo.processInfo.environment["TAILOR_SLURM_REQUIRED"] != nil {
                return XCTFail("TAILOR_SLURM_REQUIRED is set but sbatch is not on PATH: .ci/slurm-up did not start the cluster")
            }
            throw XCTSkip("sbatch is not on PATH: the Slurm backend's tests need a cluster (`bash .ci/slurm-up` starts one on this machine)")
        }
    }

    /// A fresh folder, removed when the test ends, holding `spec` as `name` when given.
    func slurmFolder(_ name: String? = nil, _ spec: String = "") throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-slurm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        if let name { try spec.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir
    }

    /// What a Slurm command (`squeue`, `scontrol`) prints.
    func slurmOutput(_ arguments: [String]) throws -> String {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text
    }

    /// Four independent nodes and one that depends on one of them, each a Slurm job: the lock
    /// equals a local run's (same keys, same artifact digests); a rerun submits nothing.
    func testSlurmJobsBuildWhatALocalRunBuilds() throws {
        try requireSlurm()
        let dir = try slurmFolder("sweep.yaml", """
            tailor: 1
            name: sweep
            data:
              a: { generate: reverse, count: 50 }
              b: { generate: reverse, count: 60 }
              c: { generate: addition, count: 70 }
              d: { generate: addition, count: 80 }
            tokenizers:
              bpe: { train: { from: a, vocab: 300 } }
            """)
        let local = try run(["run", "sweep.yaml", "--cache", "local", "--lock"], in: dir)
        XCTAssertEqual(local.code, 0, local.err)
        let expected = try String(contentsOf: dir.appendingPathComponent("sweep.lock"), encoding: .utf8)
        let slurm = try run(["run", "sweep.yaml", "--cache", "shared", "--lock", "--backend", "slurm"], in: dir)
        XCTAssertEqual(slurm.code, 0, slurm.err)
        XCTAssertTrue(slurm.out.contains("5 nodes, 5 ran"), slurm.out)
        for node in ["data.a", "data.b", "data.c", "data.d", "tokenizer.bpe"] {
            XCTAssertTrue(slurm.out.contains("\(node): Slurm job"), "\(node) went to Slurm: \(slurm.out)")
        }
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("sweep.lock"), encoding: .utf8), expected)
        let jobs = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("shared/slurm").path).filter { $0.hasSuffix(".job.json") }
        XCTAssertEqual(jobs.count, 5)
        let again = try run(["run", "sweep.yaml", "--cache", "shared", "--backend", "slurm"], in: dir)
        XCTAssertEqual(again.code, 0, again.err)
        XCTAssertTrue(again.out.contains("5 nodes, 0 ran, 5 cached"), again.out)
        XCTAssertFalse(again.out.contains("Slurm job"), "nothing in the cache is submitted")
    }

    /// A job Slurm refuses, and options that need the backend, are errors that say so.
    func testSlurmRefusalsNameTheNode() throws {
        try requireSlurm()
        let dir = try slurmFolder("one.yaml", "tailor: 1\nname: one\ndata:\n  a: { generate: reverse, count: 5 }\n")
        let refused = try run(["run", "one.yaml", "--cache", "c", "--backend", "slurm", "--partition", "no-such-partition"], in: dir)
        XCTAssertEqual(refused.code, 1)
        XCTAssertTrue(refused.err.contains("data.a: sbatch refused its job"), refused.err)
        XCTAssertTrue(refused.err.contains("no-such-partition"), refused.err)
        let usage = try run(["run", "one.yaml", "--partition", "debug"], in: dir)
        XCTAssertEqual(usage.code, 2)
        XCTAssertTrue(usage.err.contains("add --backend slurm"), usage.err)
        let misspelt = try run(["run", "one.yaml", "--cache", "c", "--backend", "slurm", "--sbatch", "dta.*:--mem=1G"], in: dir)
        XCTAssertEqual(misspelt.code, 2)
        XCTAssertTrue(misspelt.err.contains("--sbatch pattern 'dta.*' names no node of this run"), misspelt.err)
    }

    /// `--sbatch PATTERN:OPTION` replaces the estimates' option for the nodes it names, and
    /// Slurm gets it: the job's own record shows it, and the submission is kept beside the job.
    func testSbatchOptionsReplaceTheEstimatesForTheNodesNamed() throws {
        try requireSlurm()
        let dir = try slurmFolder("two.yaml", "tailor: 1\nname: two\ndata:\n  a: { generate: reverse, count: 5 }\n  b: { generate: reverse, count: 6 }\n")
        let result = try run(["run", "two.yaml", "--cache", "c", "--backend", "slurm", "--sbatch", "data.a:--mem=100M"], in: dir)
        XCTAssertEqual(result.code, 0, result.err)
        let submitted = try XCTUnwrap(result.out.split(separator: "\n").first { $0.contains("data.a: Slurm job") })
        let id = try XCTUnwrap(submitted.split(separator: " ").last { Int($0) != nil }.map(String.init), String(submitted))
        let record = try slurmOutput(["scontrol", "show", "job", "--oneliner", id])
        XCTAssertTrue(record.contains("MinMemoryNode=100M"), record)
        let folder = dir.appendingPathComponent("c/slurm").path
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".sbatch") }.sorted()
        XCTAssertEqual(files.count, 2)
        let a = try String(contentsOfFile: folder + "/" + files[0], encoding: .utf8), b = try String(contentsOfFile: folder + "/" + files[1], encoding: .utf8)
        XCTAssertTrue(a.contains("'--mem=100M'") && !a.contains("--mem=2048M"), a)
        XCTAssertTrue(b.contains("'--mem=2048M'"), "data.b keeps the estimate's: \(b)")
    }

    /// SIGTERM while a node runs as a Slurm job: the run exits 143 and its job is cancelled.
    func testInterruptingASlurmRunCancelsItsJobs() throws {
        try requireSlurm()
        let dir = try slurmFolder()
        let spec = try writeTinySpec(in: dir)
        let p = try start(["run", spec, "--backend", "slurm", "--cache", dir.appendingPathComponent("c").path, "--quiet",
                           "--set", "models.base.pretrain.steps=100000"])
        /// The states of this run's training job in Slurm's queue.
        func queued() throws -> [String] {
            try slurmOutput(["squeue", "-h", "-o", "%T", "-n", "tailor:model.base"]).split(separator: "\n").map(String.init)
        }
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, p.isRunning, try !queued().contains("RUNNING") { usleep(200_000) }
        XCTAssertEqual(try queued(), ["RUNNING"], "the training node runs as a job")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 143)
        let gone = Date().addingTimeInterval(30)
        while Date() < gone, try !queued().isEmpty { usleep(200_000) }
        XCTAssertEqual(try queued(), [], "the job was cancelled")
    }
}
