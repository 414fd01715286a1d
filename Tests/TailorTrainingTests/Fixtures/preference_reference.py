"""Reference values for Tailor's preference losses and reward metrics, computed with numpy.

The Bradley-Terry loss is TRL's RewardTrainer loss: mean(-log(sigmoid(r_chosen - r_rejected - margin))).
Its gradient is written out by hand (d/dx -log sigmoid(x) = -sigmoid(-x)), independently of Tailor's
autodiff. Accuracy follows TRL's compute_accuracy: ties are left out. Quantiles are numpy's default
(linear), std numpy's default (population).

DPO follows TRL's DPOTrainer.dpo_loss: h = (pi_c - pi_r) - (ref_c - ref_r);
sigmoid: -(1 - eps) log sigmoid(beta h) - eps log sigmoid(-beta h); ipo: (h - 1 / (2 beta))^2, on
log-probabilities divided by each answer's token count (TRL's concatenated_forward for loss_type "ipo").
Rewards are beta (pi - ref) per side; accuracy is the fraction with chosen reward > rejected reward
(strictly, as TRL's (chosen_rewards > rejected_rewards).float().mean()). Gradients by hand:
dL/dh = -(1 - eps) beta sigmoid(-beta h) + eps beta sigmoid(beta h) (sigmoid), 2 (h - 1/(2 beta)) (ipo),
and dh/d pi_c = 1, dh/d pi_r = -1, each divided by the count for ipo, and the mean divides by N.

Run: python3 preference_reference.py > preference.json
"""
import json

import numpy as np

chosen = np.array([1.5, -0.25, 0.75, 2.0, -1.0, 0.3, 0.1, 4.0], dtype=np.float64)
rejected = np.array([0.5, 0.25, 0.75, -1.0, -3.0, 1.2, 0.1, -20.0], dtype=np.float64)


def log_sigmoid(x):
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


cases = []
for margin in [0.0, 0.5]:
    d = chosen - rejected - margin
    loss = np.mean(-log_sigmoid(d))
    g = -sigmoid(-d) / len(d)  # d loss / d chosen; d loss / d rejected is its negative
    cases.append({"margin": margin, "loss": loss, "grad_chosen": g.tolist(), "grad_rejected": (-g).tolist()})

ties = int(np.sum(chosen == rejected))
right = int(np.sum(chosen > rejected))


def distribution(v):
    return {"mean": float(np.mean(v)), "std": float(np.std(v)), "min": float(np.min(v)),
            "p25": float(np.quantile(v, 0.25)), "median": float(np.median(v)),
            "p75": float(np.quantile(v, 0.75)), "max": float(np.max(v))}


# DPO: sequence log-probabilities (sums over answer tokens) of a policy and its reference.
pi_c = np.array([-3.5, -10.25, -2.0, -7.5, -1.25, -6.0], dtype=np.float64)
pi_r = np.array([-4.0, -9.0, -8.5, -7.5, -3.0, -2.5], dtype=np.float64)
ref_c = np.array([-3.75, -9.5, -4.0, -7.0, -1.5, -5.0], dtype=np.float64)
ref_r = np.array([-3.0, -9.25, -6.0, -8.0, -2.0, -3.5], dtype=np.float64)
count_c = np.array([2, 5, 1, 3, 1, 4], dtype=np.float64)
count_r = np.array([3, 4, 2, 3, 2, 1], dtype=np.float64)

dpo_cases = []
for kind, beta, eps in [("sigmoid", 0.1, 0.0), ("sigmoid", 0.5, 0.2), ("ipo", 0.1, 0.0), ("ipo", 2.0, 0.0)]:
    if kind == "ipo":
        c, r, rc, rr = pi_c / count_c, pi_r / count_r, ref_c / count_c, ref_r / count_r
        scale_c, scale_r = 1 / count_c, 1 / count_r
    else:
        c, r, rc, rr = pi_c, pi_r, ref_c, ref_r
        scale_c, scale_r = np.ones_like(pi_c), np.ones_like(pi_r)
    h = (c - r) - (rc - rr)
    n = len(h)
    if kind == "sigmoid":
        losses = -(1 - eps) * log_sigmoid(beta * h) - eps * log_sigmoid(-beta * h)
        dh = -(1 - eps) * beta * sigmoid(-beta * h) + eps * beta * sigmoid(beta * h)
    else:
        losses = (h - 1 / (2 * beta)) ** 2
        dh = 2 * (h - 1 / (2 * beta))
    rew_c, rew_r = beta * (c - rc), beta * (r - rr)
    dpo_cases.append({
        "loss_type": kind, "beta": beta, "label_smoothing": eps, "loss": float(np.mean(losses)),
        "grad_chosen": (dh * scale_c / n).tolist(), "grad_rejected": (-dh * scale_r / n).tolist(),
        "metrics": {"rewards/chosen": float(np.mean(rew_c)), "rewards/rejected": float(np.mean(rew_r)),
                    "rewards/margins": float(np.mean(rew_c - rew_r)),
                    "rewards/accuracies": float(np.mean(rew_c > rew_r)),
                    "logps/chosen": float(np.mean(c)), "logps/rejected": float(np.mean(r))},
    })

print(json.dumps({
    "chosen": chosen.tolist(), "rejected": rejected.tolist(), "bradley_terry": cases,
    "dpo": {"policy_chosen": pi_c.tolist(), "policy_rejected": pi_r.tolist(), "reference_chosen": ref_c.tolist(),
            "reference_rejected": ref_r.tolist(), "count_chosen": count_c.astype(int).tolist(),
            "count_rejected": count_r.astype(int).tolist(), "cases": dpo_cases},
    "metrics": {"pairs": len(chosen), "ties": ties, "accuracy": right / (len(chosen) - ties),
                "mean_margin": float(np.mean(chosen - rejected)),
                "chosen_scores": distribution(chosen), "rejected_scores": distribution(rejected)},
}, indent=1, sort_keys=True))
