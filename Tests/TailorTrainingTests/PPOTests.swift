import Foundation
import TailorRuntime
@testable import TailorTraining
import XCTest

/// PPO's arithmetic on a fixed rollout against the numpy reference in
/// Fixtures/ppo_reference.py (its output is Fixtures/ppo.json).
final class PPOTests: XCTestCase {
    nonisolated(unsafe) static let fixture: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ppo.json")
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }()

    func floats(_ v: Any?) -> [Float] { (v as! [Double]).map(Float.init) }
    func number(_ key: String) -> Float { Float(Self.fixture[key] as! Double) }
    var rollouts: [[String: Any]] { Self.fixture["rollouts"] as! [[String: Any]] }

    func assertClose(_ got: [Float], _ want: [Float], _ what: String, accuracy: Float = 1e-5) {
        XCTAssertEqual(got.count, want.count, what)
        for (g, w) in zip(got, want) { XCTAssertEqual(g, w, accuracy: accuracy, what) }
    }

    func testTokenRewardsAdvantagesAndReturnsMatchTheReference() {
        var all: [Float] = []
        for (i, r) in rollouts.enumerated() {
            let rewards = PPOMath.tokenRewards(score: Float(r["score"] as! Double), logps: floats(r["old"]), referenceLogps: floats(r["ref"]),
                                               klCoefficient: number("kl_coef"))
            assertClose(rewards, floats((Self.fixture["token_rewards"] as! [Any])[i]), "rewards \(i)")
            let (a, ret) = PPOMath.advantages(rewards: rewards, values: floats(r["values"]), gamma: number("gamma"), lambda: number("lambda"))
            assertClose(a, floats((Self.fixture["advantages"] as! [Any])[i]), "advantages \(i)")
            assertClose(ret, floats((Self.fixture["returns"] as! [Any])[i]), "returns \(i)")
            all += a
        }
        assertClose(PPOMath.whiten(all), floats(Self.fixture["whitened"]), "whitened")
    }

    func testClippedPolicyAndValueLossesAndTheirGradientsMatchTheReference() throws {
        let old = rollouts.flatMap { floats($0["old"]) }, new = rollouts.flatMap { floats($0["new"]) }
        let logps = Tensor(new, shape: [new.count], requiresGrad: true)
        let (pg, pgClip) = PPOMath.policyLoss(logps: logps, old: old, advantages: floats(Self.fixture["whitened"]), clip: number("clip"))
        XCTAssertEqual(Double(pg.item), Self.fixture["policy_loss"] as! Double, accuracy: 1e-6)
        XCTAssertEqual(pgClip, Self.fixture["policy_clipfrac"] as! Double, accuracy: 1e-12)
        try pg.backward()
        assertClose(logps.grad!.scalars, floats(Self.fixture["policy_grad"]), "policy gradient", accuracy: 1e-6)

        let vOld = rollouts.flatMap { floats($0["values"]) }, vNew = rollouts.flatMap { floats($0["new_values"]) }
        let returns = (Self.fixture["returns"] as! [Any]).flatMap { floats($0) }
        let values = Tensor(vNew, shape: [vNew.count], requiresGrad: true)
        let (vf, vfClip) = PPOMath.valueLoss(values: values, old: vOld, returns: returns, clip: number("value_clip"))
        XCTAssertEqual(Double(vf.item), Self.fixture["value_loss"] as! Double, accuracy: 1e-6)
        XCTAssertEqual(vfClip, Self.fixture["value_clipfrac"] as! Double, accuracy: 1e-12)
        try vf.backward()
        assertClose(values.grad!.scalars, floats(Self.fixture["value_grad"]), "value gradient", accuracy: 1e-6)
    }

    /// k3 never goes negative (k1 can), and the adaptive controller moves as Ziegler et al.'s.
    func testKLEstimatorsAndTheAdaptiveController() {
        for (i, r) in rollouts.enumerated() {
            XCTAssertEqual(PPOMath.klK3(logps: floats(r["old"]), referenceLogps: floats(r["ref"])), (Self.fixture["kl_k3"] as! [Double])[i], accuracy: 1e-6)
            XCTAssertEqual(PPOMath.klK1(logps: floats(r["old"]), referenceLogps: floats(r["ref"])), (Self.fixture["kl_k1"] as! [Double])[i], accuracy: 1e-6)
        }
        XCTAssertLessThan(PPOMath.klK1(logps: [-2, -2], referenceLogps: [-1, -1]), 0)
        XCTAssertGreaterThan(PPOMath.klK3(logps: [-2, -2], referenceLogps: [-1, -1]), 0)
        let a = Self.fixture["adaptive"] as! [String: Any]
        var controller = PPOMath.AdaptiveKL(coefficient: a["start"] as! Double, target: Double(a["target"] as! Int), horizon: Double(a["horizon"] as! Int))
        for kl in a["kls"] as! [Double] { controller.update(kl: kl, batch: a["batch"] as! Int) }
        XCTAssertEqual(controller.coefficient, a["coefficient"] as! Double, accuracy: 1e-12)
    }
}
