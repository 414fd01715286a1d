import TailorRuntime

/// Losses over preference pairs, on scores already computed for the chosen and the rejected
/// answer of each pair, so they can be checked on fixed numbers against a reference.
public enum PreferenceLoss {
    /// The Bradley–Terry loss of a reward model, as TRL's `RewardTrainer` computes it:
    /// mean −log σ(r_chosen − r_rejected − margin). `chosen`, `rejected`: (B).
    public static func bradleyTerry(chosen: Tensor, rejected: Tensor, margin: Float) -> Tensor {
        (-((chosen - rejected - Tensor([margin], shape: [1])).logSigmoid())).mean()
    }
}
