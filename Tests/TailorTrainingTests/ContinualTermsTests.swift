import Foundation
import TailorModels
import TailorRuntime
@testable import TailorTraining
import XCTest

/// Replay's draw and the anchored objective's penalty, against their definitions.
final class ContinualTermsTests: XCTestCase {
    func arrays(_ lengths: [Int], first: Int32) -> TokenArrays {
        var t = TokenArrays()
        for (i, n) in lengths.enumerated() { t.append([Int32](repeating: first + Int32(i), count: n), mask: [UInt8](repeating: 1, count: n)) }
        return t
    }

    func testReplayAddsAShareOrACountOfEarlierExamplesSeeded() {
        let task = arrays(Array(repeating: 3, count: 40), first: 100)
        let earlier = [arrays([2, 2, 2], first: 0), arrays([4, 4], first: 10)]
        XCTAssertEqual(Replay.count(task: 40, fraction: 0.2), 10, "40 · 0.2 / 0.8: a fifth of the 50")
        XCTAssertEqual(Replay.count(task: 7, fraction: 0.3), 3, "7 · 0.3 / 0.7 = 3.0")
        let (mixed, replayed) = Replay.mix(task, earlier: earlier, count: 10, seed: 9)
        XCTAssertEqual(replayed, 10)
        XCTAssertEqual(mixed.count, 50)
        for i in 0..<40 { XCTAssertEqual(Array(mixed.sequence(i).ids), Array(task.sequence(i).ids)) }
        // Every replayed example is one of the earlier ones, and with 5 in the pool each is drawn twice.
        let drawn = (40..<50).map { mixed.sequence($0).ids.first! }
        XCTAssertEqual(Dictionary(grouping: drawn, by: { $0 }).mapValues(\.count), [0: 2, 1: 2, 2: 2, 10: 2, 11: 2])
        XCTAssertEqual(Replay.mix(task, earlier: earlier, count: 10, seed: 9).0, mixed)
        XCTAssertNotEqual(Replay.mix(task, earlier: earlier, count: 10, seed: 10).0.ids, mixed.ids)
        XCTAssertEqual(Replay.mix(task, earlier: [], count: 10, seed: 9).replayed, 0, "nothing earlier: the task alone")
        // A count draws a prefix of the same order: 3 examples are the first 3 of the 10.
        let three = Replay.mix(task, earlier: earlier, count: 3, seed: 9).0
        XCTAssertEqual((40..<43).map { three.sequence($0).ids.first! }, Array(drawn.prefix(3)))
    }

    /// An objective whose own loss is zero, so the anchored loss is the penalty alone.
    struct Zero: Objective {
        var parameters: [(String, Tensor)]
        var examples: Int { 1 }
        var hasHeldOut: Bool { false }
        mutating func loss(_ sampler: inout Sampler, rows: Int, draw: Int) throws -> (loss: Tensor, targets: Int) {
            ((parameters[0].1 * 0).sum(), 1)
        }
        func heldOutLoss() -> Double { 0 }
    }

    func testPenaltyAndItsGradientEqualTheDefinitionAndFiniteDifferences() throws {
        let a = Tensor([0.5, -1.0, 2.0], shape: [3], requiresGrad: true), b = Tensor([1.5, 0.25], shape: [2], requiresGrad: true)
        let start = [a.scalars, b.scalars]
        var objective = AnchoredObjective(Zero(parameters: [("a", a), ("b", b)]), strength: 0.3,
                                          importance: [Tensor([1, 2, 0.5], shape: [3]), Tensor([4, 1], shape: [2])])
        // At the anchors the pull is zero; then move the weights.
        XCTAssertEqual(objective.penalty().item, 0)
        (a.pointer[0], a.pointer[2], b.pointer[1]) = (1.5, 1.0, -0.75)
        let moved = [[1.5, -1.0, 1.0], [1.5, -0.75]].map { $0.map(Float.init) }
        let importance: [[Float]] = [[1, 2, 0.5], [4, 1]]
        var expected: Float = 0
        for (p, (m, s)) in zip(importance, zip(moved, start)) {
            for i in p.indices { expected += p[i] * (m[i] - s[i]) * (m[i] - s[i]) }
        }
        var sampler = Sampler(count: 1, seed: 0)
        let loss = try objective.loss(&sampler, rows: 1, draw: 0).loss
        XCTAssertEqual(loss.item, 0.15 * expected, accuracy: 1e-6)
        try loss.backward()
        // d/dθ = strength · F · (θ − θ*), against central differences of the penalty.
        for (t, (m, (s, f))) in zip([a, b], zip(moved, zip(start, importance))) {
            let grad = try XCTUnwrap(t.grad).scalars
            for i in m.indices {
                XCTAssertEqual(grad[i], 0.3 * f[i] * (m[i] - s[i]), accuracy: 1e-5)
                let h: Float = 1e-2
                t.pointer[i] = m[i] + h
                let up = objective.penalty().item
                t.pointer[i] = m[i] - h
                let down = objective.penalty().item
                t.pointer[i] = m[i]
                XCTAssertEqual(grad[i], (up - down) / (2 * h), accuracy: 2e-3)
            }
        }
    }
}

/// EWC's importance: the Fisher diagonal, against central differences of each example's loss.
final class FisherTests: XCTestCase {
    func testFisherDiagonalIsTheMeanSquaredGradientOfEachExamplesLoss() throws {
        let model = GPT2(config: GPT2Config(vocab: 24, context: 8, width: 16, layers: 1, heads: 2), seed: 3)
        model.makeTrainable()
        var tokens = TokenArrays()
        for (ids, mask) in [([1, 5, 7, 2], [0, 0, 1, 1]), ([3, 4, 9, 11, 2], [0, 0, 0, 1, 1]), ([6, 8, 2], [0, 1, 1])] as [([Int32], [UInt8])] {
            tokens.append(ids, mask: mask)
        }
        let parameters = model.namedParameters
        let (fisher, used) = try Fisher.diagonal(model, parameters: parameters, tokens: tokens, limit: 10)
        XCTAssertEqual(used, 3)
        XCTAssertEqual(fisher.map(\.shape), parameters.map(\.1.shape))
        XCTAssertTrue(fisher.allSatisfy { $0.scalars.allSatisfy { $0 >= 0 && $0.isFinite } })
        // A few weights of each tensor: F_j = mean over examples of (dℓ_i/dθ_j)², by differences.
        for (k, (_, p)) in parameters.enumerated() {
            for j in Set([0, p.scalars.count / 2, p.scalars.count - 1]) {
                let original = p.pointer[j], h: Float = 1e-2
                var expected = 0.0
                for i in 0..<tokens.count {
                    p.pointer[j] = original + h
                    let up = Tensor.noGrad { Fisher.exampleLoss(model, tokens, i)!.item }
                    p.pointer[j] = original - h
                    let down = Tensor.noGrad { Fisher.exampleLoss(model, tokens, i)!.item }
                    p.pointer[j] = original
                    let g = Double(up - down) / Double(2 * h)
                    expected += g * g / Double(tokens.count)
                }
                XCTAssertEqual(Double(fisher[k].scalars[j]), expected, accuracy: 2e-3 + 0.05 * expected, "\(parameters[k].0)[\(j)]")
            }
        }
        // Online EWC: F* = γ·F* + F_k, oldest first; γ = 1 sums.
        XCTAssertEqual(Fisher.online([[4, 8], [2, 0], [1, 1]], gamma: 0.5), [0.25 * 4 + 0.5 * 2 + 1, 0.25 * 8 + 1])
        XCTAssertEqual(Fisher.online([[4, 8], [2, 0], [1, 1]], gamma: 1), [7, 9])
        // `limit` takes the first examples only.
        XCTAssertEqual(try Fisher.diagonal(model, parameters: parameters, tokens: tokens, limit: 2).examples, 2)
    }
}

/// LwF's distillation term: zero gradient where the student is the teacher (the KL's minimum),
/// and its value and gradient against the definition and central differences elsewhere.
final class DistillationTests: XCTestCase {
    func objective(_ student: GPT2, _ teacher: GPT2, temperature: Float) throws -> (DistilledObjective, TokenArrays) {
        var tokens = TokenArrays()
        tokens.append([1, 5, 7, 2], mask: [0, 0, 1, 1])
        tokens.append([3, 4, 9, 11, 2], mask: [0, 0, 0, 1, 1])
        let o = try DistilledObjective(model: student, teacher: teacher, parameters: student.namedParameters, tokens: tokens, sequence: nil,
                                       trainOnInputs: false, weight: 0.5, temperature: temperature)
        return (o, tokens)
    }

    func testDistillationEqualsItsDefinitionAndItsGradientTheDifferences() throws {
        let config = GPT2Config(vocab: 24, context: 8, width: 16, layers: 1, heads: 2)
        let teacher = GPT2(config: config, seed: 3), student = GPT2(config: config, seed: 3)
        student.makeTrainable()
        let (o, tokens) = try objective(student, teacher, temperature: 2)
        // The same weights: the distillation's gradient vanishes.
        let same = o.losses([0, 1]).distillation
        try same.backward()
        XCTAssertTrue(student.namedParameters.allSatisfy { ($0.1.grad?.scalars ?? [0]).allSatisfy { abs($0) < 1e-5 } })
        for (_, p) in student.namedParameters { p.grad = nil }
        // Move the student away from the teacher.
        let (_, first) = student.namedParameters[0]
        for j in 0..<first.scalars.count { first.pointer[j] += 0.05 * Float(j % 7) - 0.15 }
        // The value, from both models' logits: T² · mean over answer positions of −Σ p_t log q_s.
        let (ids, targets, width) = LanguageModelObjective.batch(tokens, [0, 1], trainOnInputs: false)
        let t = teacher.logits(ids, batch: 2, cache: nil, keyStart: nil, lastOnly: false).scalars
        let s = Tensor.noGrad { student.logits(ids, batch: 2, cache: nil, keyStart: nil, lastOnly: false).scalars }
        var expected = 0.0, n = 0
        for (r, target) in targets.enumerated() where target >= 0 {
            let tr = (0..<24).map { Double(t[r * 24 + $0]) / 2 }, sr = (0..<24).map { Double(s[r * 24 + $0]) / 2 }
            let tz = tr.map { exp($0 - tr.max()!) }.reduce(0, +), sz = sr.map { exp($0 - sr.max()!) }.reduce(0, +)
            for v in 0..<24 { expected -= exp(tr[v] - tr.max()!) / tz * (sr[v] - sr.max()! - log(sz)) }
            n += 1
        }
        XCTAssertEqual(width, 4)
        expected *= 4 / Double(n)
        let d = o.losses([0, 1]).distillation
        XCTAssertEqual(Double(d.item), expected, accuracy: 1e-4 * max(1, abs(expected)))
        try d.backward()
        for (name, p) in student.namedParameters.prefix(4) {
            let grad = try XCTUnwrap(p.grad, name).scalars
            for j in Set([0, p.scalars.count / 3, p.scalars.count - 1]) {
                let original = p.pointer[j], h: Float = 1e-2
                p.pointer[j] = original + h
                let up = Tensor.noGrad { o.losses([0, 1]).distillation.item }
                p.pointer[j] = original - h
                let down = Tensor.noGrad { o.losses([0, 1]).distillation.item }
                p.pointer[j] = original
                XCTAssertEqual(grad[j], (up - down) / (2 * h), accuracy: 3e-3 + 0.03 * abs(grad[j]), "\(name)[\(j)]")
            }
        }
    }
}

/// EWC's Fisher diagonal and penalty against the numpy reference (`Fixtures/ewc_reference.py`):
/// the Fisher from float64 central differences of an independent forward pass of the tiny GPT-2
/// checkpoint, the penalty and its gradient from their definitions.
final class EWCReferenceTests: XCTestCase {
    nonisolated(unsafe) static let fixture: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ewc.json")
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }()

    func testFisherDiagonalOfTheTinyCheckpointEqualsNumpy() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TailorModelsTests/Fixtures/tiny-gpt2").path
        let model = try HuggingFaceFolder(path: folder).gpt2()
        model.makeTrainable()
        var tokens = TokenArrays()
        for example in Self.fixture["examples"] as! [[String: [Int]]] {
            tokens.append(example["ids"]!.map(Int32.init), mask: example["mask"]!.map(UInt8.init))
        }
        let parameters = model.namedParameters
        let (fisher, used) = try Fisher.diagonal(model, parameters: parameters, tokens: tokens, limit: 256)
        XCTAssertEqual(used, 3)
        let byName = Dictionary(uniqueKeysWithValues: zip(parameters.map(\.0), fisher))
        let entries = Self.fixture["fisher"] as! [[String: Any]]
        XCTAssertEqual(Set(entries.map { $0["name"] as! String }), Set(parameters.map(\.0)), "two weights of every tensor")
        for entry in entries {
            let name = entry["name"] as! String, index = entry["index"] as! Int, expected = entry["value"] as! Double
            let value = Double(try XCTUnwrap(byName[name]).scalars[index])
            XCTAssertEqual(value, expected, accuracy: 1e-6 + 2e-3 * expected, "\(name)[\(index)]")
        }
    }

    func testPenaltyAndGradientEqualNumpy() throws {
        let p = Self.fixture["penalty"] as! [String: Any]
        func arrays(_ key: String) -> [[Float]] { (p[key] as! [[Double]]).map { $0.map(Float.init) } }
        let shapes = p["shapes"] as! [[Int]]
        let (theta, anchor, importance) = (arrays("theta"), arrays("anchor"), arrays("importance"))
        // Anchored where numpy's θ* is, then moved to its θ.
        let params = zip(anchor, shapes).enumerated().map { ("p\($0)", Tensor($1.0, shape: $1.1, requiresGrad: true)) }
        var objective = AnchoredObjective(ContinualTermsTests.Zero(parameters: params), strength: Float(p["strength"] as! Double),
                                          importance: zip(importance, shapes).map { Tensor($0, shape: $1) })
        for ((_, t), values) in zip(params, theta) { for (i, v) in values.enumerated() { t.pointer[i] = v } }
        var sampler = Sampler(count: 1, seed: 0)
        let loss = try objective.loss(&sampler, rows: 1, draw: 0).loss
        XCTAssertEqual(Double(loss.item), p["value"] as! Double, accuracy: 1e-5)
        try loss.backward()
        for ((_, t), expected) in zip(params, arrays("grad")) {
            for (g, e) in zip(try XCTUnwrap(t.grad).scalars, expected) { XCTAssertEqual(g, e, accuracy: 1e-5) }
        }
    }
}
