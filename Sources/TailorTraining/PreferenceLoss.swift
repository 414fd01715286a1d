import TailorRuntime

/// Losses over preference pairs, on scores already computed for the chosen and the rejected
/// answer of each pair, so they can be checked on fixed numbers against a reference.
public enum PreferenceLoss {
    /// The Bradley–Terry loss of a reward model, as TRL's `RewardTrainer` computes it:
    /// mean −log σ(r_chosen − r_rejected − margin). `chosen`, `rejected`: (B).
    public static func bradleyTerry(chosen: Tensor, rejected: Tensor, margin: Float) -> Tensor {
        (-((chosen - rejected - Tensor([margin], shape: [1])).logSigmoid())).mean()
    }

    /// DPO's loss types, as TRL names them.
    public enum Kind: String, Sendable, CaseIterable {
        /// DPO (Rafailov et al. 2023): −log σ(β·h), with label smoothing ε (cDPO):
        /// −(1 − ε)·log σ(β·h) − ε·log σ(−β·h).
        case sigmoid
        /// IPO (Azar et al. 2023, eq. 17): (h − 1/(2β))², on log-probabilities averaged over
        /// each answer's tokens (as TRL's `loss_type="ipo"` does).
        case ipo
    }

    /// The DPO family's loss over a batch, mean over pairs, where
    /// h = (log π(chosen) − log π(rejected)) − (log π_ref(chosen) − log π_ref(rejected)).
    /// All four inputs are (B); only the policy's carry gradients.
    public static func dpo(chosen: Tensor, rejected: Tensor, referenceChosen: Tensor, referenceRejected: Tensor,
                           beta: Float, kind: Kind, labelSmoothing: Float) -> Tensor {
        let h = (chosen - rejected) - (referenceChosen - referenceRejected)  // (B)
        switch kind {
        case .sigmoid:
            let wins = -((h * beta).logSigmoid()) * (1 - labelSmoothing)
            guard labelSmoothing > 0 else { return wins.mean() }
            return (wins - (h * -beta).logSigmoid() * labelSmoothing).mean()
        case .ipo:
            return (h - 1 / (2 * beta)).square().mean()
        }
    }
}
