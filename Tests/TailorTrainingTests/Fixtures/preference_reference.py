"""Reference values for Tailor's preference losses and reward metrics, computed with numpy.

The Bradley-Terry loss is TRL's RewardTrainer loss: mean(-log(sigmoid(r_chosen - r_rejected - margin))).
Its gradient is written out by hand (d/dx -log sigmoid(x) = -sigmoid(-x)), independently of Tailor's
autodiff. Accuracy follows TRL's compute_accuracy: ties are left out. Quantiles are numpy's default
(linear), std numpy's default (population).

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


print(json.dumps({
    "chosen": chosen.tolist(), "rejected": rejected.tolist(), "bradley_terry": cases,
    "metrics": {"pairs": len(chosen), "ties": ties, "accuracy": right / (len(chosen) - ties),
                "mean_margin": float(np.mean(chosen - rejected)),
                "chosen_scores": distribution(chosen), "rejected_scores": distribution(rejected)},
}, indent=1, sort_keys=True))
