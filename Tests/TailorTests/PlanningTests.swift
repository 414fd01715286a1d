import Foundation
import TailorData
import TailorDiagnostics
@testable import TailorPlan
import TailorSpec
import XCTest

/// Content keys, composition and sweeps, on specs written to a temporary folder.
final class PlanningTests: SpecFolderTestCase {
    func plan(_ file: String, sets: [String] = []) -> (Plan?, DiagnosticBag) {
        var d = DiagnosticBag()
        let p = Compiler().plan(file: file, sets: sets, diagnostics: &d)
        return (p, d)
    }

    func keys(_ p: Plan?) -> [String: String] {
        Dictionary(uniqueKeysWithValues: (p?.nodes ?? []).map { ($0.id, $0.key) })
    }

    static let block = """
        tailor: 1
        name: demo
        seed: 7
        data:
          sums:
            generate: addition
            count: 100
          split:
            from: sums
            split:
              train: 0.9
              test: 0.1
        tokenizers:
          bpe:
            train:
              from: split.train
              vocab: 300
        models:
          base:
            arch: gpt2
            size: {layers: 2, width: 32, heads: 2, context: 16}
            tokenizer: bpe
            pretrain:
              data: split.train
              steps: 10
              lr: 0.001
          tuned:
            from: base
            lora: {rank: 4}
            train: {data: split.train, steps: 5}
        evals:
          e: {models: [base, tuned], data: split.test, metrics: [loss]}
        """

    func testReformattingChangesNoKey() {
        let a = plan(write("a.yaml", Self.block)).0
        let reformatted = """
            # the same spec, reordered, in flow style, with other number spellings
            name: demo
            tailor: 1
            seed: 7
            evals: { e: { data: split.test, metrics: [loss], models: [base, tuned] } }
            models:
              tuned: { train: { steps: 5, data: split.train }, lora: { rank: 4 }, from: base }
              base:
                tokenizer: bpe
                pretrain: { lr: 1e-3, steps: 1e1, data: split.train }   # 1e1 == 10
                size: { context: 16, heads: 2, width: 32, layers: 2 }
                arch: gpt2
            tokenizers: { bpe: { train: { vocab: 300, from: split.train } } }
            data:
              split: { split: { test: 0.1, train: 0.9 }, from: sums }
              sums: { count: 100, generate: addition }
            """
        let b = plan(write("b.yaml", reformatted)).0
        XCTAssertNotNil(a)
        XCTAssertEqual(keys(a), keys(b))
    }

    func testOneParameterChangesOnlyItsNodeAndDescendants() {
        let file = write("a.yaml", Self.block)
        let before = keys(plan(file).0)
        let after = keys(plan(file, sets: ["models.tuned.train.steps=6"]).0)
        let changed = Set(before.keys.filter { before[$0] != after[$0] })
        XCTAssertEqual(changed, ["model.tuned", "eval.e.tuned", "eval.e"])
    }

    func testSetOverridesAndReportsBadPaths() {
        let file = write("a.yaml", Self.block)
        let (p, _) = plan(file, sets: ["models.tuned.lora.rank=16"])
        XCTAssertEqual(p?.node("model.tuned")?.params["lora"]?["rank"]?.int, 16)
        let (bad, d) = plan(file, sets: ["models.tuned.lora.rnak=16"])
        XCTAssertNil(bad)
        let error = d.items.first { $0.severity == .error }
        XCTAssertEqual(error?.location?.file, "--set #1")
        XCTAssertEqual(error?.notes.first?.message, "did you mean 'rank'?")
    }

    func testExtendsMergesAndVariablesInterpolate() {
        _ = write("base.yaml", Self.block)
        let child = write("child.yaml", """
            extends: base.yaml
            vars: { steps: 9 }
            models:
              tuned: { train: { steps: "${steps}" } }
            """)
        let (p, d) = plan(child)
        XCTAssertFalse(d.hasErrors, "\(d.items.map(\.message))")
        XCTAssertEqual(p?.node("model.tuned")?.params["train"]?["steps"]?.int, 9)
        XCTAssertEqual(p?.node("model.tuned")?.params["lora"]?["rank"]?.int, 4, "kept from the base spec")
    }

    func testSweepSharesUpstreamNodes() {
        let file = write("s.yaml", Self.block + "\nsweep:\n  models.tuned.lora.rank: [1, 2, 4]\n")
        let (p, d) = plan(file)
        XCTAssertFalse(d.hasErrors)
        let ids = p?.nodes.map(\.id) ?? []
        XCTAssertEqual(ids.filter { $0.hasPrefix("model.base") }.count, 2, "init and pretrain shared")
        XCTAssertEqual(ids.filter { $0.hasPrefix("model.tuned[") }, ["model.tuned[rank=1]", "model.tuned[rank=2]", "model.tuned[rank=4]"])
        XCTAssertEqual(p?.variants.count, 3)
        XCTAssertEqual(Set(p?.nodes.map(\.key) ?? []).count, ids.count, "no duplicate work")
    }

    /// A prompt sweep with repeats: each (k, repeat) cell is its own eval node whose key holds its
    /// prompt and repeat; the model, the data and the evals that do not use the prompt are shared.
    func testAPromptSweepWithRepeatsMakesACellPerSettingAndRepeat() {
        let spec = Self.block.replacingOccurrences(of: "  e: {models: [base, tuned], data: split.test, metrics: [loss]}", with: """
                      e: {models: [base, tuned], data: split.test, metrics: [loss]}
                      shots: {models: [tuned], data: split.test, prompt: few, metrics: [exact_match], repeats: 2}
                    prompts:
                      few: {template: "{prompt}", few_shot: {from: split.train, k: 1, select: random}}
                    sweep:
                      prompts.few.few_shot.k: [1, 2, 4]
                    """)
        let (p, d) = plan(write("p.yaml", spec))
        XCTAssertFalse(d.hasErrors, "\(d.items)")
        let ids = p?.nodes.map(\.id) ?? []
        XCTAssertEqual(ids.filter { $0.hasPrefix("eval.shots.tuned") }.sorted(),
                       ["eval.shots.tuned.r1[k=1]", "eval.shots.tuned.r1[k=2]", "eval.shots.tuned.r1[k=4]",
                        "eval.shots.tuned.r2[k=1]", "eval.shots.tuned.r2[k=2]", "eval.shots.tuned.r2[k=4]"])
        XCTAssertEqual(ids.filter { $0.hasPrefix("model.tuned") }, ["model.tuned"], "the model is shared by every cell")
        XCTAssertEqual(ids.filter { $0.hasPrefix("eval.e.") }.count, 2, "the eval without the prompt is shared")
        XCTAssertEqual(Set(p?.nodes.map(\.key) ?? []).count, ids.count, "no duplicate work")
    }

    /// Sharing checked entries and planned nodes between variants must not change any
    /// key: the merged sweep holds exactly the nodes of the variants planned one by one.
    func testSweepEqualsVariantsPlannedAlone() throws {
        let sweep = "\nsweep:\n  data.sums.count: [100, 200]\n  models.tuned.lora.rank: [1, 2]\n"
        let (merged, d) = plan(write("s.yaml", Self.block + sweep))
        XCTAssertFalse(d.hasErrors)
        var alone: Set<String> = []
        for count in [100, 200] {
            for rank in [1, 2] {
                let p = plan(write("a.yaml", Self.block), sets: ["data.sums.count=\(count)", "models.tuned.lora.rank=\(rank)"]).0
                alone.formUnion(try XCTUnwrap(p).nodes.map(\.key))
            }
        }
        XCTAssertEqual(Set(try XCTUnwrap(merged).nodes.map(\.key)), alone)
        XCTAssertEqual(merged?.nodes.count, alone.count)
        let ids = Set(merged?.nodes.map(\.id) ?? [])
        XCTAssertTrue(ids.isSuperset(of: ["data.sums[count=100]", "data.sums[count=200]", "model.tuned[count=200,rank=2]"]), "\(ids.sorted())")
    }

    func testFileContentsArePartOfTheKey() {
        _ = write("qa.jsonl", "{\"prompt\": \"a\", \"response\": \"b\"}\n")
        let file = write("f.yaml", "tailor: 1\nname: f\ndata:\n  qa: { file: qa.jsonl, format: instruction }\n")
        let k1 = plan(file).0?.node("data.qa")?.key
        _ = write("qa.jsonl", "{\"prompt\": \"a\", \"response\": \"c\"}\n")
        let k2 = plan(file).0?.node("data.qa")?.key
        XCTAssertNotNil(k1)
        XCTAssertNotEqual(k1, k2)
    }

    func testEstimatesFollowTheMethod() throws {
        let p = try XCTUnwrap(plan(write("a.yaml", Self.block)).0)
        let base = try XCTUnwrap(p.node("model.base")?.estimate)
        let lora = try XCTUnwrap(p.node("model.tuned")?.estimate)
        // gpt2, V=300, C=32, L=2, ctx=16: 300·32 + 16·32 + 2·(12·32² + 13·32) + 2·32
        XCTAssertEqual(base.parameters, 300 * 32 + 16 * 32 + 2 * (12 * 32 * 32 + 13 * 32) + 2 * 32)
        XCTAssertEqual(lora.trainable, 2 * 2 * 4 * (32 + 32), "rank 4 on attn.q and attn.v of 2 layers")
        XCTAssertLessThan(lora.peakBytes!, base.peakBytes!)
        // Rows as wide as each batch of 8 sampled sums' longest (in bytes: the merges of a
        // tokenizer the run trains are not known while planning), not the context of 16.
        let lengths = Generators.make("addition", count: 64, options: [:], seed: 7).map {
            ($0["prompt"] as! String).utf8.count + ($0["response"] as! String).utf8.count + 1
        }
        let widths = stride(from: 0, to: 64, by: 8).map { lengths[$0..<$0 + 8].max()! }
        let t = min(16, Int((Double(widths.reduce(0, +)) / 8).rounded(.up)) - 1)
        XCTAssertEqual(base.tokens, 10 * 8 * t)
    }

    func testMemoryWarning() throws {
        let file = write("a.yaml", Self.block)
        var d = DiagnosticBag()
        let tiny = Compiler(machine: MachineProfile(memoryBytes: 1_000_000, flops: 1e9))
        _ = tiny.plan(file: file, diagnostics: &d)
        XCTAssertTrue(d.items.contains { $0.severity == .warning && $0.message.contains("needs about") })
    }

    /// Every customization method the spec language accepts plans to its own training node:
    /// no method falls through to another's.
    func testEveryMethodHasItsOwnTrainingNode() {
        XCTAssertEqual(Set(Planner.trainingKinds.keys), Set(ModelSchema.methods))
        XCTAssertEqual(Set(Planner.trainingKinds.values).count, ModelSchema.methods.count)
    }
}
