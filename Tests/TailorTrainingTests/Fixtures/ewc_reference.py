"""Reference values for EWC's Fisher diagonal and penalty, computed with numpy.

The Fisher diagonal (Kirkpatrick et al. 2017, empirical form with the data's own answers as
labels): F_j = (1/N) sum_i (d l_i / d theta_j)^2, with l_i the summed next-token loss
-log p(ids[t] | ids[<t]) over the answer positions t (mask[t] = 1, t >= 1) of example i. The
model is the tiny GPT-2 checkpoint of Tests/TailorModelsTests/Fixtures (its float64 numpy forward
pass in tiny_checkpoints.py, independent of Tailor's code), and each derivative is a central
difference in float64 (step 1e-4), for two weights of every tensor.

The penalty: (lambda / 2) sum F (theta - theta*)^2 and its gradient lambda F (theta - theta*), on
seeded arrays.

Run: python3 ewc_reference.py > ewc.json
"""
import json
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
models = os.path.join(here, "..", "..", "TailorModelsTests", "Fixtures")
sys.path.insert(0, models)
import tiny_checkpoints as tc  # noqa: E402

cfg = tc.GPT2_CONFIG
weights = {k: np.array(v, dtype=np.float64) for k, v in tc.read_safetensors(os.path.join(models, "tiny-gpt2", "model.safetensors")).items()}
EXAMPLES = [  # token ids below the vocabulary of 64, and which positions are answer tokens
    {"ids": [3, 14, 15, 9, 26, 5], "mask": [0, 0, 0, 1, 1, 1]},
    {"ids": [60, 1, 2, 42, 7], "mask": [0, 0, 1, 1, 1]},
    {"ids": [8, 33, 21, 0], "mask": [0, 0, 0, 1]},
]


def loss(w, example):
    ids = example["ids"]
    logits = tc.gpt2_forward(cfg, w, [ids])[0]  # (T, V)
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return -sum(logp[t - 1, ids[t]] for t in range(1, len(ids)) if example["mask"][t])


# Hugging Face names to Tailor's (the same (In, Out) layouts).
def tailor_name(hf):
    name = hf.removeprefix("transformer.")
    for a, b in [("wte.weight", "embed"), ("wpe.weight", "embed.position"), ("ln_f", "norm.final")]:
        if name == a or name.startswith(a + "."):
            return b + name[len(a):]
    for a, b in [("ln_1", "norm.attn"), ("ln_2", "norm.mlp"), ("attn.c_attn", "attn.qkv"), ("attn.c_proj", "attn.o"),
                 ("mlp.c_fc", "mlp.up"), ("mlp.c_proj", "mlp.down")]:
        name = name.replace("." + a + ".", "." + b + ".")
    return name.replace("h.", "layers.", 1)


rng = np.random.default_rng(20261203)
h = 1e-4
fisher = []
for hf in sorted(weights):
    w = weights[hf]
    for j in sorted(set([int(rng.integers(w.size)), int(rng.integers(w.size))])):
        total = 0.0
        for example in EXAMPLES:
            original = w.flat[j]
            w.flat[j] = original + h
            up = loss(weights, example)
            w.flat[j] = original - h
            down = loss(weights, example)
            w.flat[j] = original
            total += ((up - down) / (2 * h)) ** 2
        fisher.append({"name": tailor_name(hf), "index": j, "value": total / len(EXAMPLES)})

strength = 3.0
shapes = [[2, 3], [4]]
theta = [rng.normal(size=s) for s in shapes]
anchor = [t + rng.normal(scale=0.5, size=t.shape) for t in theta]
importance = [rng.uniform(0, 2, size=s) for s in shapes]
value = strength / 2 * sum(float(np.sum(f * (t - a) ** 2)) for t, a, f in zip(theta, anchor, importance))
grad = [strength * f * (t - a) for t, a, f in zip(theta, anchor, importance)]

print(json.dumps({
    "examples": EXAMPLES, "fisher": fisher,
    "penalty": {"strength": strength, "shapes": shapes, "theta": [t.ravel().tolist() for t in theta],
                "anchor": [a.ravel().tolist() for a in anchor], "importance": [f.ravel().tolist() for f in importance],
                "value": value, "grad": [g.ravel().tolist() for g in grad]},
}, indent=1, sort_keys=True))
