import Foundation
@testable import TailorData
import TailorDiagnostics
@testable import TailorEngine
@testable import TailorExecutor
import TailorModels
import TailorPlan
import TailorRuntime
import TailorTraining
import XCTest

/// `tailor run`'s engine on a small quickstart-like spec: everything runs once, reruns come
/// from the cache, a changed parameter reruns only what it touches, corrupt artifacts are
/// recomputed, and results are bit-identical across thread counts and caches.
final class ExecutorTests: FolderTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try spec.write(toFile: dir + "/tiny.yaml", atomically: true, encoding: .utf8)
    }

    let spec = """
        tailor: 1
        name: tiny
        seed: 3
        data:
          sums: { generate: addition, count: 300, options: { digits: 2 } }
          split: { from: sums, split: { train: 0.9, test: 0.1 } }
        tokenizers:
          bpe: { train: { from: split.train, vocab: 280 } }
        models:
          base:
            arch: gpt2
            size: { layers: 1, width: 32, heads: 2, context: 16 }
            tokenizer: bpe
            pretrain: { data: split.train, steps: 6, batch: 8, lr: 3e-3 }
        evals:
          accuracy: { models: [base], data: split.test, metrics: [loss, exact_match] }
        """

    func plan(_ sets: [String] = []) throws -> Plan {
        var diagnostics = DiagnosticBag()
        let plan = Compiler().plan(file: dir + "/tiny.yaml", sets: sets, diagnostics: &diagnostics)
        XCTAssertFalse(diagnostics.hasErrors, "\(diagnostics.items)")
        return try XCTUnwrap(plan)
    }

    func execute(_ sets: [String] = [], cache: String? = nil, alwaysHashed: Int = Artifact.alwaysHashedBytes) throws -> [Executor.Outcome] {
        let plan = try plan(sets)
        let executor = Executor(plan: plan, store: try ArtifactStore(root: cache ?? dir + "/.tailor", alwaysHashed: alwaysHashed))
        return try executor.run(plan.nodes)
    }

    /// Writes `text` as `name` in the test folder, plans it and runs every node in the shared cache.
    func run(spec text: String, as name: String) throws -> [Executor.Outcome] {
        try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: dir + "/" + name, diagnostics: &diagnostics), "\(diagnostics.items)")
        return try Executor(plan: plan, store: try ArtifactStore(root: dir + "/.tailor")).run(plan.nodes)
    }

    func statuses(_ outcomes: [Executor.Outcome]) -> [String: Executor.Status] {
        Dictionary(uniqueKeysWithValues: outcomes.map { ($0.node.id, $0.status) })
    }

    func testRunsOnceThenFromTheCacheThenOnlyWhatAChangeTouches() throws {
        let first = try execute()
        XCTAssertEqual(first.count, 8)
        XCTAssertTrue(first.allSatisfy { $0.status == .ran })
        let metrics = try XCTUnwrap(first.first { $0.node.kind == .evalLM }?.artifact)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metrics.path("metrics.json")))) as! [String: Any]
        XCTAssertEqual(json["examples"] as? Int, 30)
        XCTAssertNotNil(json["loss"] as? Double)
        let exact = try XCTUnwrap(json["exact_match"] as? Double)
        // Its 95% bootstrap interval holds it (loss, not a per-example hit, has none).
        let ci = try XCTUnwrap(json["exact_match_ci95"] as? [Double])
        XCTAssertTrue(ci[0] <= exact && exact <= ci[1], "\(ci) around \(exact)")
        XCTAssertNil(json["loss_ci95"])
        let report = try String(contentsOfFile: try XCTUnwrap(first.first { $0.node.kind == .evalReport }?.artifact).path("report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains(String(format: "%.4f [%.4f, %.4f]", exact, ci[0], ci[1])), report)

        let again = try execute()
        XCTAssertTrue(again.allSatisfy { $0.status == .cached })
        XCTAssertEqual(again.map(\.artifact.digest), first.map(\.artifact.digest))

        let changed = statuses(try execute(["models.base.pretrain.steps=7"]))
        XCTAssertEqual(changed["data.sums"], .cached)
        XCTAssertEqual(changed["tokenizer.bpe"], .cached)
        XCTAssertEqual(changed["model.base.init"], .cached)
        XCTAssertEqual(changed["model.base"], .ran)
        XCTAssertEqual(changed["eval.accuracy.base"], .ran)
    }

    func testPlanStatusSaysWhatARunWouldDoAndWhy() throws {
        func status(_ sets: [String] = []) throws -> [String: String] {
            let plan = try plan(sets)
            return Executor(plan: plan, store: try ArtifactStore(root: dir + "/.tailor")).status().mapValues(\.display)
        }
        XCTAssertEqual(try status()["model.base"], "run: new node")
        _ = try execute()
        XCTAssertTrue(try status().values.allSatisfy { $0 == "cached" })
        let changed = try status(["models.base.pretrain.lr=0.001"])
        XCTAssertEqual(changed["model.base.init"], "cached")
        XCTAssertEqual(changed["model.base"], "run: changed train.lr 0.003 → 0.001")
        XCTAssertEqual(changed["eval.accuracy.base"], "may run: if model.base changes its output")
        let data = try status(["data.sums.count=301"])
        XCTAssertEqual(data["data.sums"], "run: changed count 300 → 301")
        XCTAssertEqual(data["data.split"], "may run: if data.sums changes its output")
        // A deleted artifact is named as such.
        let current = try plan()
        let outcomes = try Executor(plan: current, store: try ArtifactStore(root: dir + "/.tailor")).run(current.nodes)
        try FileManager.default.removeItem(atPath: outcomes.first { $0.node.id == "tokenizer.bpe" }!.artifact.folder)
        XCTAssertEqual(try status()["tokenizer.bpe"], "run: artifact missing")
    }

    func testEarlyCutoffWhenARerunReproducesItsOutput() throws {
        _ = try execute()
        // Every merge of this small vocabulary is far above any minimum frequency: the tokenizer
        // re-executes and writes the same file, so everything after it comes from the cache.
        let outcomes = statuses(try execute(["tokenizers.bpe.train.min_frequency=1"]))
        XCTAssertEqual(outcomes["tokenizer.bpe"], .ran)
        XCTAssertEqual(outcomes["model.base.init"], .cached)
        XCTAssertEqual(outcomes["model.base"], .cached)
        XCTAssertEqual(outcomes["eval.accuracy"], .cached)
    }

    func testCorruptArtifactsAreRecomputedNotUsed() throws {
        let first = try execute()
        let model = try XCTUnwrap(first.first { $0.node.id == "model.base" }).artifact
        let weights = model.path("model.safetensors")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: weights))
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: weights))
        let second = try execute()
        let rerun = try XCTUnwrap(second.first { $0.node.id == "model.base" })
        XCTAssertEqual(rerun.status, .recomputed)
        XCTAssertTrue(rerun.reason?.contains("corrupt") ?? false, rerun.reason ?? "")
        XCTAssertEqual(rerun.artifact.digest, model.digest, "recomputed bit for bit")
        XCTAssertEqual(statuses(second)["eval.accuracy.base"], .cached)
    }

    /// Flips a byte of the first tokenize node's tokens and puts the file's times back, so the
    /// size-and-time stamp cannot see it; returns the outcomes of the run that made it.
    func damageTokensSilently(alwaysHashed: Int = Artifact.alwaysHashedBytes) throws -> [Executor.Outcome] {
        let first = try execute(alwaysHashed: alwaysHashed)
        let tokens = try XCTUnwrap(first.first { $0.node.kind == .dataTokenize }).artifact.path("tokens.bin")
        var info = stat()
        stat(tokens, &info)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: tokens))
        bytes[30] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: tokens))
        var times = [info.st_atim, info.st_mtim]
        XCTAssertEqual(utimensat(AT_FDCWD, tokens, &times, 0), 0)
        return first
    }

    /// Cache promise: a small artifact is hashed whenever it is used, so damage that keeps the
    /// file's size and time is rebuilt by the next unchanged run, before anything shows it.
    func testSilentDamageToASmallArtifactIsRebuiltByTheNextRun() throws {
        _ = try damageTokensSilently()
        let rerun = try execute()
        let rebuilt = try XCTUnwrap(rerun.first { $0.node.kind == .dataTokenize })
        XCTAssertEqual(rebuilt.status, .recomputed)
        XCTAssertTrue(rebuilt.reason?.contains("corrupt") ?? false, rebuilt.reason ?? "")
        XCTAssertEqual(statuses(rerun)["model.base"], .cached, "rebuilt bit for bit: nothing downstream reruns")
    }

    /// Cache promise: a large artifact is confirmed by its stamps, hashed before anything reads
    /// it, and what `cache verify` finds damaged is rebuilt by the next run whatever its stamps say.
    func testSilentDamageToALargeArtifactIsCaughtWhenReadAndAfterVerify() throws {
        let large = 0  // every artifact counts as large
        _ = try damageTokensSilently(alwaysHashed: large)
        XCTAssertEqual(statuses(try execute(alwaysHashed: large))["tokens.split.train@bpe"], .cached, "stamps hold and nothing reads it")
        // Training reads it: the damage is found, the tokens rebuilt, and training uses good data.
        let retrain = try execute(["models.base.pretrain.steps=5"], alwaysHashed: large)
        let rebuilt = try XCTUnwrap(retrain.first { $0.node.kind == .dataTokenize })
        XCTAssertEqual(rebuilt.status, .recomputed)
        XCTAssertTrue(rebuilt.reason?.contains("corrupt") ?? false, rebuilt.reason ?? "")
        XCTAssertEqual(statuses(retrain)["model.base"], .ran)
        // Damaged again behind unchanged stamps: verify finds it and sets it aside, and the next
        // unchanged run rebuilds it instead of trusting the stamps.
        _ = try damageTokensSilently(alwaysHashed: large)
        let maintenance = CacheMaintenance(store: try ArtifactStore(root: dir + "/.tailor"), referenceRoots: [dir])
        let bad = try maintenance.verify()
        XCTAssertEqual(bad.count, 1)
        XCTAssertTrue(bad.first?.problem.contains("does not match its digest") ?? false, "\(bad)")
        XCTAssertEqual(try maintenance.verify().count, 0, "set aside: the cache now holds only good artifacts")
        let after = try execute(alwaysHashed: large)
        let again = try XCTUnwrap(after.first { $0.node.kind == .dataTokenize })
        XCTAssertEqual(again.status, .recomputed)
        XCTAssertEqual(again.reason, "damaged (found by `tailor cache verify`)")
        XCTAssertEqual(statuses(after)["model.base"], .cached)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/.tailor/damaged/" + again.artifact.key), "the damaged copy goes once rebuilt")
    }

    /// `evals.NAME.limit` scores only the first N records, as its estimate and key say.
    func testEvalLimitScoresOnlyTheFirstRecords() throws {
        func examples(_ outcomes: [Executor.Outcome]) throws -> Int? {
            let eval = try XCTUnwrap(outcomes.first { $0.node.kind == .evalLM }).artifact
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: eval.path("metrics.json")))) as? [String: Any]
            return json?["examples"] as? Int
        }
        XCTAssertEqual(try examples(try execute()), 30, "the whole test split")
        XCTAssertEqual(try examples(try execute(["evals.accuracy.limit=7"])), 7)
        XCTAssertEqual(try examples(try execute(["evals.accuracy.limit=1000"])), 30, "a limit past the data scores it all")
    }

    /// `train.sequence` sets the row width: longer examples are refused unless packed, and
    /// packed rows of 8 tokens train a different model than rows of the whole context.
    func testTrainSequenceSetsTheRowWidth() throws {
        XCTAssertThrowsError(try execute(["models.base.pretrain.sequence=4"])) { error in
            XCTAssertTrue("\(error)".contains("longer than train.sequence (4)"), "\(error)")
        }
        func model(_ sets: [String]) throws -> String {
            try XCTUnwrap(try execute(sets).first { $0.node.id == "model.base" }).artifact.digest
        }
        let packed = ["models.base.pretrain.packing=true"]
        let full = try model(packed)
        XCTAssertNotEqual(try model(packed + ["models.base.pretrain.sequence=8"]), full)
        XCTAssertEqual(try model(packed + ["models.base.pretrain.sequence=16"]), full, "the context's own width: the same rows")
    }

    func testLlamaPretrainsAndLoadedModelsEvaluateLikeTheOriginal() throws {
        // A Llama built, trained and evaluated; then its artifact loaded by another spec gives the same loss.
        let llama = spec.replacingOccurrences(of: "arch: gpt2", with: "arch: llama")
            .replacingOccurrences(of: "heads: 2,", with: "heads: 4, kv_heads: 2,")
        try llama.write(toFile: dir + "/tiny.yaml", atomically: true, encoding: .utf8)
        let first = try execute()
        XCTAssertTrue(first.allSatisfy { $0.status == .ran })
        let model = try XCTUnwrap(first.first { $0.node.id == "model.base" }).artifact
        let config = try String(contentsOfFile: model.path("config.json"), encoding: .utf8)
        XCTAssertTrue(config.contains("\"num_key_value_heads\" : 2"), config)
        func loss(_ outcomes: [Executor.Outcome]) throws -> Double {
            let metrics = try XCTUnwrap(outcomes.first { $0.node.kind == .evalLM }).artifact.path("metrics.json")
            return try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metrics))) as? [String: Any])?["loss"] as? Double)
        }
        let reloading = """
            tailor: 1
            name: reload
            seed: 3
            data:
              sums: { generate: addition, count: 300, options: { digits: 2 } }
              split: { from: sums, split: { train: 0.9, test: 0.1 } }
            models:
              again: { load: \(model.folder) }
            evals:
              accuracy: { models: [again], data: split.test, metrics: [loss] }
            """
        let reloaded = try run(spec: reloading, as: "reload.yaml")
        XCTAssertEqual(try loss(reloaded), try loss(first), accuracy: 1e-9)
    }

    func testConcurrentLightNodesGiveTheSameArtifacts() throws {
        // Many independent light nodes: with 3 at a time, every artifact equals the sequential run's.
        let wide = spec.replacingOccurrences(of: "tokenizers:", with: (0..<12).map {
            "  take\($0): { from: split.train, take: \($0 + 1) }\n  filt\($0): { from: take\($0), filter: { min_chars: 3 } }"
        }.joined(separator: "\n") + "\ntokenizers:")
        try wide.write(toFile: dir + "/tiny.yaml", atomically: true, encoding: .utf8)
        let plan = try plan()
        let sequential = try Executor(plan: plan, store: try ArtifactStore(root: dir + "/one")).run(plan.nodes, jobs: 1)
        let concurrent = try Executor(plan: plan, store: try ArtifactStore(root: dir + "/many")).run(plan.nodes, jobs: 3)
        XCTAssertEqual(concurrent.map(\.node.id), plan.nodes.map(\.id), "outcomes in plan order")
        XCTAssertEqual(concurrent.map(\.artifact.digest), sequential.map(\.artifact.digest))
        XCTAssertEqual(concurrent.count, 32)
    }

    func testLoRATrainsAdaptersOnAFrozenBaseAndFinetuneHonoursFreeze() throws {
        let tuned = spec.replacingOccurrences(of: "evals:", with: """
              adapted: { from: base, lora: { rank: 2, dropout: 0.1, targets: [attn.q, attn.v] }, train: { data: split.train, steps: 40, lr: 3e-2, eval: { data: split.test, every: 10 } } }
              partial: { from: base, finetune: { freeze: [embed, "layers.0.*"] }, train: { data: split.train, steps: 4, lr: 1e-2 } }
            evals:
            """).replacingOccurrences(of: "models: [base]", with: "models: [base, adapted]")
            + "\n  fit: { models: [base, adapted], data: split.train, metrics: [loss] }\n"
        try tuned.write(toFile: dir + "/tiny.yaml", atomically: true, encoding: .utf8)
        let sharedBefore = ModelPool.shared.hits
        let ran = try execute()
        let outcomes = Dictionary(uniqueKeysWithValues: ran.map { ($0.node.id, $0) })
        // Both evals side by side: a row per model, a column per eval and metric.
        let summary = try XCTUnwrap(RunRecord.evalSummary(ran))
        XCTAssertTrue(summary.hasPrefix("| model | accuracy: loss | accuracy: exact_match | fit: loss |\n"), summary)
        XCTAssertEqual(summary.split(separator: "\n").count, 4, "header, rule, base, adapted")
        XCTAssertGreaterThan(ModelPool.shared.hits, sharedBefore, "the adapter's eval reuses the base in memory")
        let base = try XCTUnwrap(outcomes["model.base"]).artifact
        let adapted = try XCTUnwrap(outcomes["model.adapted"]).artifact
        XCTAssertEqual(adapted.files["model.safetensors"], base.files["model.safetensors"], "the base weights are untouched")
        XCTAssertNotNil(adapted.files["adapter_model.safetensors"])
        let log = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: adapted.path("training.json")))) as! [String: Any]
        XCTAssertEqual(log["trainable_parameters"] as? Int, 1 * 2 * (2 * 32 + 2 * 32), "rank 2 on q and v of one layer of width 32")
        XCTAssertEqual((log["eval"] as? [Any])?.count, 4, "an eval every 10 of 40 steps")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: try XCTUnwrap(outcomes["eval.accuracy"]).artifact.path("report.json")))) as! [String: Any]
        let losses = (report["rows"] as! [[String: Any]]).map { $0["loss"] as! Double }
        XCTAssertLessThan(losses[1], losses[0], "the adapted model fits the task better than its base (its adapters were applied)")
        // Partial fine-tuning: frozen weights keep their bytes, the rest moves.
        let before = try Safetensors.read(path: base.path("model.safetensors")).tensors
        let after = try Safetensors.read(path: try XCTUnwrap(outcomes["model.partial"]).artifact.path("model.safetensors")).tensors
        XCTAssertEqual(after["transformer.wte.weight"]?.scalars, before["transformer.wte.weight"]?.scalars)
        XCTAssertEqual(after["transformer.h.0.attn.c_attn.weight"]?.scalars, before["transformer.h.0.attn.c_attn.weight"]?.scalars)
        XCTAssertNotEqual(after["transformer.ln_f.weight"]?.scalars, before["transformer.ln_f.weight"]?.scalars)
    }

    /// Exports: a merged Hugging Face folder gives the adapted model's logits, and the adapter
    /// in PEFT's layout imports back into a spec (`lora.load`) with the same eval loss.
    /// A sweep's variants of one eval share its columns in the run's summary: one row per variant.
    func testSweepVariantsShareTheirEvalColumns() throws {
        let swept = spec.replacingOccurrences(of: "evals:", with: """
              adapted: { from: base, lora: { rank: 1 }, train: { data: split.train, steps: 2 } }
            evals:
            """).replacingOccurrences(of: "models: [base]", with: "models: [base, adapted]")
            + "\n  fit: { models: [adapted], data: split.train, metrics: [loss] }\nsweep:\n  models.adapted.lora.rank: [1, 2]\n"
        let summary = try XCTUnwrap(RunRecord.evalSummary(try run(spec: swept, as: "swept.yaml")))
        let lines = summary.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "| model | accuracy: loss | accuracy: exact_match | fit: loss |")
        XCTAssertEqual(lines.dropFirst(2).map { $0.split(separator: "|")[0].trimmingCharacters(in: .whitespaces) },
                       ["model.base", "model.adapted[rank=1]", "model.adapted[rank=2]"])
    }

    func testExportsMergeAndPEFTAdaptersImportBack() throws {
        let tuned = spec.replacingOccurrences(of: "evals:", with: """
              adapted: { from: base, lora: { rank: 2, targets: [attn.q, attn.v, mlp.down] }, train: { data: split.train, steps: 20, lr: 3e-2 } }
            exports:
              merged: { model: adapted, format: hf, merge: true }
              adapter: { model: adapted, format: peft }
            evals:
            """).replacingOccurrences(of: "models: [base]", with: "models: [adapted]")
        try tuned.write(toFile: dir + "/tiny.yaml", atomically: true, encoding: .utf8)
        let outcomes = Dictionary(uniqueKeysWithValues: try execute().map { ($0.node.id, $0) })
        let adapted = try XCTUnwrap(outcomes["model.adapted"]).artifact
        let merged = try XCTUnwrap(outcomes["export.merged"]).artifact
        let peft = try XCTUnwrap(outcomes["export.adapter"]).artifact
        XCTAssertNotNil(peft.files["adapter_config.json"])
        let ids: [Int32] = [5, 9, 2, 7, 3]
        let (original, _) = try ModelRunners.load(adapted)
        let (folded, _) = try LoadedModel.open(merged.folder).decoder()
        let want = Tensor.noGrad { original.logits(ids, batch: 1, cache: nil, keyStart: nil, lastOnly: false) }.scalars
        let got = Tensor.noGrad { folded.logits(ids, batch: 1, cache: nil, keyStart: nil, lastOnly: false) }.scalars
        XCTAssertLessThan(zip(want, got).map { abs($0 - $1) }.max() ?? 1, 1e-5, "merged weights give base + adapter")
        func evalLoss(_ outcomes: [String: Executor.Outcome], _ id: String) throws -> Double {
            let data = try Data(contentsOf: URL(fileURLWithPath: try XCTUnwrap(outcomes[id]).artifact.path("metrics.json")))
            return try XCTUnwrap((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["loss"] as? Double)
        }
        // The PEFT folder onto the base, as a spec imports it.
        let base = try XCTUnwrap(outcomes["model.base"]).artifact.folder
        let importing = """
            tailor: 1
            name: imported
            seed: 3
            data:
              sums: { generate: addition, count: 300, options: { digits: 2 } }
              split: { from: sums, split: { train: 0.9, test: 0.1 } }
            models:
              base: { load: \(base) }
              imported: { from: base, lora: { load: \(peft.folder) } }
            evals:
              accuracy: { models: [imported], data: split.test, metrics: [loss] }
            """
        let imported = Dictionary(uniqueKeysWithValues: try run(spec: importing, as: "imported.yaml").map { ($0.node.id, $0) })
        XCTAssertEqual(try evalLoss(imported, "eval.accuracy.imported"), try evalLoss(outcomes, "eval.accuracy.adapted"), accuracy: 1e-6)
    }

    func testClassificationHeadsOnAnEncoderAndADecoder() throws {
        try """
            tailor: 1
            name: heads
            seed: 5
            data:
              reviews: { generate: sentiment, count: 300, options: { classes: 2 } }
              parts: { from: reviews, split: { train: 0.8, test: 0.2 } }
            tokenizers:
              bytes: { bytes: true }
            models:
              encoder:
                arch: bert
                size: { layers: 1, width: 32, heads: 2, context: 64 }
                tokenizer: bytes
              decoder:
                arch: gpt2
                size: { layers: 1, width: 32, heads: 2, context: 64 }
                tokenizer: bytes
              tuned: { from: encoder, head: { labels: 2, freeze: none }, train: { data: parts.train, steps: 40, batch: 16, lr: 3e-3 } }
              probe: { from: decoder, head: { labels: 2, pooling: last }, train: { data: parts.train, steps: 5, batch: 8 } }
              partial: { from: encoder, head: { labels: 2, unfreeze: ["layers.0.mlp.*"] }, train: { data: parts.train, steps: 5, batch: 8 } }
            evals:
              sentiment: { models: [tuned, probe], data: parts.test, metrics: [accuracy, macro_f1] }
            """.write(toFile: dir + "/heads.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: dir + "/heads.yaml", diagnostics: &diagnostics), "\(diagnostics.items)")
        XCTAssertTrue(Executor.notExecutable(plan.nodes).isEmpty)
        let outcomes = try Executor(plan: plan, store: try ArtifactStore(root: dir + "/.tailor")).run(plan.nodes)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath:
            try XCTUnwrap(outcomes.first { $0.node.id == "eval.sentiment" }).artifact.path("report.json")))) as! [String: Any]
        let rows = report["rows"] as! [[String: Any]]
        XCTAssertEqual(rows.map { $0["examples"] as? Int }, [67, 67], "the test part: a fifth of the records, whole problems only")
        XCTAssertGreaterThan(rows[0]["accuracy"] as! Double, 0.75, "a fine-tuned encoder separates two sentiments")
        for row in rows { XCTAssertNotNil(row["macro_f1"] as? Double) }
        let byID = Dictionary(uniqueKeysWithValues: outcomes.map { ($0.node.id, $0.artifact) })
        let probe: String? = byID["model.probe"]?.files["model.safetensors"]
        let decoder: String? = byID["model.decoder"]?.files["model.safetensors"]
        XCTAssertNotNil(probe)
        XCTAssertEqual(probe, decoder, "a frozen backbone keeps its weights")
        // A partially frozen backbone: the unfrozen MLP moves, the rest keeps its bytes.
        let before = try Safetensors.read(path: try XCTUnwrap(byID["model.encoder"]).path("model.safetensors")).tensors
        let after = try Safetensors.read(path: try XCTUnwrap(byID["model.partial"]).path("model.safetensors")).tensors
        XCTAssertNotEqual(after["encoder.layer.0.intermediate.dense.weight"]?.scalars, before["encoder.layer.0.intermediate.dense.weight"]?.scalars)
        XCTAssertEqual(after["encoder.layer.0.attention.self.query.weight"]?.scalars, before["encoder.layer.0.attention.self.query.weight"]?.scalars)
        XCTAssertEqual(after["embeddings.word_embeddings.weight"]?.scalars, before["embeddings.word_embeddings.weight"]?.scalars)
    }

    /// A head trains in the one training loop: every `train` setting changes its weights, and a
    /// held-out set is scored during training (early stopping keeps the best weights).
    func testHeadsHonourEveryTrainingSetting() throws {
        try """
            tailor: 1
            name: head-settings
            seed: 2
            data:
              reviews: { generate: sentiment, count: 240, options: { classes: 2 } }
              parts: { from: reviews, split: { train: 0.75, test: 0.25 } }
            tokenizers:
              bytes: { bytes: true }
            models:
              encoder:
                arch: bert
                size: { layers: 1, width: 16, heads: 2, context: 48 }
                tokenizer: bytes
              probe:
                from: encoder
                head: { labels: 2 }
                train: { data: parts.train, steps: 12, batch: 8, lr: 0.01 }
            """.write(toFile: dir + "/h.yaml", atomically: true, encoding: .utf8)
        let store = try ArtifactStore(root: dir + "/.tailor")
        func head(_ sets: [String]) throws -> (weights: String, log: [String: Any]) {
            var diagnostics = DiagnosticBag()
            let plan = try XCTUnwrap(Compiler().plan(file: dir + "/h.yaml", sets: sets, diagnostics: &diagnostics), "\(diagnostics.items)")
            let probe = try XCTUnwrap(try Executor(plan: plan, store: store).run(plan.nodes).first { $0.node.id == "model.probe" }).artifact
            let log = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: probe.path("training.json")))) as! [String: Any]
            return (try XCTUnwrap(probe.files["head.safetensors"]), log)
        }
        let reference = try head([])
        XCTAssertEqual(reference.log["steps"] as? Int, 12)
        for change in ["optimizer=sgd", "accumulate=2", "weight_decay=0.1", "grad_clip=0.01", "schedule=constant", "warmup=4", "sequence=8"] {
            XCTAssertNotEqual(try head(["models.probe.train." + change]).weights, reference.weights, change)
        }
        let evaluated = try head(["models.probe.train.eval={data: parts.test, every: 3, patience: 2}"])
        let evals = try XCTUnwrap(evaluated.log["eval"] as? [[String: Any]])
        XCTAssertFalse(evals.isEmpty)
        XCTAssertEqual(evaluated.log["best_eval_loss"] as? Double, evals.compactMap { $0["loss"] as? Double }.min())
        // Checkpoints are written (every 6 steps here) and change nothing in the result; resuming
        // from one is TrainerTests' and ClassificationResumeTests' to show.
        XCTAssertEqual(try head(["models.probe.train.checkpoint_every=6"]).weights, reference.weights, "checkpoints change nothing")
    }

    /// A WordPiece tokenizer.json (as BERT checkpoints ship) serves an encoder and its head:
    /// examples tokenize as [CLS] … [SEP], a frozen encoder's features are computed once, and a
    /// decoder given WordPiece is refused by name.
    func testWordPieceEncodersTrainHeads() throws {
        let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "!", ",", "the", "was", "what", "a", "i", "found", "is",
                     "my", "turned", "out", "that", "felt", "to", "me", "honestly"]
            + Generators.reviewThings + Generators.reviewWords.flatMap { $0[0] }
        let json: [String: Any] = ["model": ["type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                                             "vocab": Dictionary(uniqueKeysWithValues: vocab.enumerated().map { ($1, $0) })],
                                   "normalizer": ["type": "BertNormalizer", "lowercase": true]]
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: dir + "/tokenizer.json"))
        let wordPiece = """
            tailor: 1
            name: wordpiece
            seed: 5
            data:
              reviews: { generate: reviews, count: 200 }
              parts: { from: reviews, split: { train: 0.8, test: 0.2 } }
            tokenizers:
              wp: { load: tokenizer.json }
            models:
              encoder:
                arch: bert
                size: { layers: 1, width: 128, heads: 2, context: 32 }
                tokenizer: wp
              probe: { from: encoder, head: { labels: 2 }, train: { data: parts.train, steps: 200, batch: 16, lr: 1e-2 } }
            evals:
              sentiment: { models: [probe], data: parts.test, metrics: [accuracy] }
            """
        let outcomes = try run(spec: wordPiece, as: "wp.yaml")
        let byID = Dictionary(uniqueKeysWithValues: outcomes.map { ($0.node.id, $0.artifact) })
        let tokens = try TokenArrays.read(try XCTUnwrap(byID["tokens.parts.train@wp"]).path("tokens.bin"))
        for i in 0..<tokens.count {
            let ids = Array(tokens.sequence(i).ids)
            XCTAssertEqual(ids.first, 2, "[CLS] first")
            XCTAssertEqual(ids.last, 3, "[SEP] last")
            XCTAssertFalse(ids.contains(1), "every review word is in the vocabulary: no [UNK]")
        }
        XCTAssertNotNil(byID["model.probe"]?.files["vocab.txt"] ?? byID["model.probe"]?.files["tokenizer.json"], "the head keeps the tokenizer")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: try XCTUnwrap(byID["eval.sentiment"]).path("report.json")))) as! [String: Any]
        // Held out by problem, the test reviews are sentences training never saw, of words it did.
        XCTAssertGreaterThan((report["rows"] as! [[String: Any]])[0]["accuracy"] as! Double, 0.8, "seen words separate linearly")
        // A decoder needs byte-level BPE.
        let decoder = wordPiece.replacingOccurrences(of: "arch: bert", with: "arch: gpt2")
            .replacingOccurrences(of: "  probe:", with: "  # probe:").replacingOccurrences(of: "evals:\n  sentiment", with: "evals:\n  # sentiment")
        XCTAssertThrowsError(try run(spec: decoder, as: "wp-decoder.yaml")) { error in
            XCTAssertTrue("\(error)".contains("is WordPiece: decoders need a byte-level BPE tokenizer"), "\(error)")
        }
    }

    func testBitIdenticalAcrossThreadCountsAndCaches() throws {
        defer { Runtime.setThreads(ProcessInfo.processInfo.activeProcessorCount) }
        Runtime.setThreads(1)
        let one = try execute(cache: dir + "/cache-1")
        Runtime.setThreads(2)
        let two = try execute(cache: dir + "/cache-2")
        XCTAssertEqual(one.map(\.artifact.digest), two.map(\.artifact.digest))
        XCTAssertTrue(two.allSatisfy { $0.status == .ran })
    }

    func testNodesOfLaterIssuesAreRefusedByNameAndSelectionFollowsInputs() throws {
        try (spec + "\nserve:\n  models: [base]\n").write(toFile: dir + "/tiny.yaml", atomically: true, encoding: .utf8)
        let plan = try plan()
        let refused = Executor.notExecutable(plan.nodes)
        XCTAssertEqual(refused.map(\.0.id), ["serve"])
        XCTAssertTrue(refused.first?.1.contains("start it with `tailor serve SPEC`") ?? false, "\(refused)")
        XCTAssertThrowsError(try Executor.selection(["model.nope"], in: plan))
        XCTAssertEqual(try Executor.selection(["tokenizer.bpe"], in: plan).map(\.id), ["data.sums", "data.split", "tokenizer.bpe"])
    }

    /// `epochs` instead of `steps`: ⌈epochs × rows ÷ (batch × accumulate)⌉ optimizer steps, rows
    /// counted after packing, in the run and in the plan's estimate.
    func testEpochsCountPassesOverTheTrainingRows() throws {
        func spec(_ train: String) -> String {
            """
            tailor: 1
            name: epochs
            seed: 3
            data:
              sums: { generate: addition, count: 45, options: { digits: 2 } }
            tokenizers:
              bytes: { bytes: true }
            models:
              base:
                arch: gpt2
                size: { layers: 1, width: 16, heads: 2, context: 32 }
                tokenizer: bytes
                pretrain: { data: sums, \(train) }
            """
        }
        func steps(_ train: String, name: String) throws -> (run: Int, planned: Int?) {
            let outcomes = try run(spec: spec(train), as: name + ".yaml")
            let model = try XCTUnwrap(outcomes.first { $0.node.id == "model.base" })
            let log = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: model.artifact.path("training.json")))) as! [String: Any]
            let train = try TrainParameters(Params(try XCTUnwrap(model.node.params["train"])))
            // Planned rows: packed, 32 wide; else as wide as the sampled batches' longest.
            let lengths = try XCTUnwrap(outcomes.first { $0.node.kind == .dataTokenize }?.node.estimate.lengths)
            let width = train.packing ? 32 : min(32, Int(lengths.batchWidth(train.batch).rounded(.up)) - 1)
            return (try XCTUnwrap(log["steps"] as? Int), model.node.estimate.tokens.map { $0 / (train.batch * train.accumulate * width) })
        }
        XCTAssertEqual(try steps("epochs: 2, batch: 4", name: "e2").run, 23, "⌈2 × 45 ÷ 4⌉")
        XCTAssertEqual(try steps("epochs: 2, batch: 4", name: "e2").planned, 23, "the plan counts the generated rows")
        XCTAssertEqual(try steps("epochs: 3, batch: 4, accumulate: 2", name: "e3").run, 17, "⌈3 × 45 ÷ 8⌉")
        // Packed, an epoch is the full rows of 32 the examples' tokens fill.
        let tokens = try TokenArrays.read(try XCTUnwrap(try run(spec: spec("epochs: 1, batch: 4"), as: "t.yaml")
            .first { $0.node.kind == .dataTokenize }).artifact.path("tokens.bin"))
        let rows = (tokens.offsets[tokens.count] - 1) / 32
        let packed = try steps("epochs: 2, batch: 4, packing: true", name: "p")
        XCTAssertEqual(packed.run, (2 * rows + 3) / 4)
        XCTAssertEqual(packed.planned, packed.run, "the plan counts packed rows from the sampled lengths")
    }

    /// A split is by problem: one-digit sums repeat (100 problems in 400 records), yet no test
    /// prompt is a training prompt; the parts still hold about their fractions.
    func testSplitsKeepEachProblemInOnePart() throws {
        let outcomes = try run(spec: """
            tailor: 1
            name: split
            seed: 5
            data:
              sums: { generate: addition, count: 400, options: { digits: 1 } }
              parts: { from: sums, split: { train: 0.8, test: 0.2 } }
            tokenizers:
              bpe: { train: { from: parts.train, vocab: 260 } }
            """, as: "split.yaml")
        let split = try XCTUnwrap(outcomes.first { $0.node.id == "data.parts" }).artifact
        let train = try Dataset.read(split.path("train.jsonl")), test = try Dataset.read(split.path("test.jsonl"))
        let prompts = Set(train.records.compactMap { $0["prompt"] as? String })
        XCTAssertLessThan(prompts.count, 100, "the data repeats problems")
        XCTAssertEqual(train.count + test.count, 400)
        XCTAssertEqual(test.records.filter { prompts.contains($0["prompt"] as? String ?? "") }.count, 0)
        XCTAssertEqual(Double(test.count) / 400, 0.2, accuracy: 0.05)
    }
}
