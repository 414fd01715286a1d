"""Reference values for TailorRuntime's composite blocks, computed independently in
float64 NumPy with hand-written backward passes. Run from this folder:

    python3 make_fixtures.py > fixtures.json

Each case gives inputs, the output, and the gradients of sum(output * R) for a
given R. The Swift tests (FixtureTests.swift) must match to 1e-5 relative error.
"""
import json

import numpy as np

rng = np.random.default_rng(20261126)


def arr(*shape, scale=1.0):
    return rng.standard_normal(shape) * scale


def pack(x):
    return {"shape": list(x.shape), "values": [float(v) for v in np.ravel(x)]}


def layer_norm_case():
    x, w, b = arr(4, 16), 1 + arr(16, scale=0.3), arr(16, scale=0.3)
    eps = 1e-5
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    rstd = 1 / np.sqrt(var + eps)
    norm = (x - mean) * rstd
    y = norm * w + b
    r = arr(*y.shape)
    dnorm = r * w
    dx = rstd * (dnorm - dnorm.mean(-1, keepdims=True) - norm * (dnorm * norm).mean(-1, keepdims=True))
    return {"x": pack(x), "w": pack(w), "b": pack(b), "r": pack(r), "y": pack(y),
            "dx": pack(dx), "dw": pack((r * norm).sum(0)), "db": pack(r.sum(0))}


def cross_entropy_case():
    logits = arr(6, 11, scale=2.0)
    targets = np.array([3, 0, 10, -100, 7, 7])
    weights = np.array([1.0, 0.5, 2.0, 1.0, 0.0, 1.5])
    keep = targets != -100
    m = logits.max(-1, keepdims=True)
    lse = (m + np.log(np.exp(logits - m).sum(-1, keepdims=True)))[:, 0]
    picked = np.array([logits[i, t] if keep[i] else 0.0 for i, t in enumerate(targets)])
    w = weights * keep
    loss = (w * (lse - picked)).sum() / w.sum()
    p = np.exp(logits - lse[:, None])
    onehot = np.zeros_like(logits)
    for i, t in enumerate(targets):
        if keep[i]:
            onehot[i, t] = 1
    dlogits = (w / w.sum())[:, None] * (p - onehot)
    return {"logits": pack(logits), "targets": targets.tolist(), "weights": weights.tolist(),
            "loss": float(loss), "dlogits": pack(dlogits)}


def gelu(x):
    c = np.sqrt(2 / np.pi)
    return 0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x ** 3)))


def gelu_grad(x):
    c = np.sqrt(2 / np.pi)
    t = np.tanh(c * (x + 0.044715 * x ** 3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t ** 2) * c * (1 + 3 * 0.044715 * x ** 2)


def mlp_case():
    x = arr(2, 5, 8)
    w1, b1 = arr(8, 32, scale=0.3), arr(32, scale=0.1)
    w2, b2 = arr(32, 8, scale=0.3), arr(8, scale=0.1)
    h = x @ w1 + b1
    a = gelu(h)
    y = a @ w2 + b2
    r = arr(*y.shape)
    da = r @ w2.T
    dh = da * gelu_grad(h)
    return {"x": pack(x), "w1": pack(w1), "b1": pack(b1), "w2": pack(w2), "b2": pack(b2), "r": pack(r), "y": pack(y),
            "dx": pack(dh @ w1.T), "dw1": pack(np.einsum("btc,btf->cf", x, dh)), "db1": pack(dh.sum((0, 1))),
            "dw2": pack(np.einsum("btf,btc->fc", a, r)), "db2": pack(r.sum((0, 1)))}


def attention_case():
    b, h, t, d = 2, 3, 5, 4
    q, k, v = arr(b, h, t, d), arr(b, h, t, d), arr(b, h, t, d)
    scale = 1 / np.sqrt(d)
    mask = np.tril(np.ones((t, t), dtype=bool))
    s = np.where(mask, q @ k.transpose(0, 1, 3, 2) * scale, -1e9)
    s = s - s.max(-1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(-1, keepdims=True)
    o = p @ v
    r = arr(*o.shape)
    dv = p.transpose(0, 1, 3, 2) @ r
    dp = r @ v.transpose(0, 1, 3, 2)
    ds = p * (dp - (dp * p).sum(-1, keepdims=True))
    ds = np.where(mask, ds, 0) * scale
    return {"q": pack(q), "k": pack(k), "v": pack(v), "r": pack(r), "o": pack(o),
            "dq": pack(ds @ k), "dk": pack(ds.transpose(0, 1, 3, 2) @ q), "dv": pack(dv)}


print(json.dumps({
    "layer_norm": layer_norm_case(),
    "cross_entropy": cross_entropy_case(),
    "mlp": mlp_case(),
    "attention": attention_case(),
}))
