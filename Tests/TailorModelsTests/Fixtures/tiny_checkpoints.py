#!/usr/bin/env python3
"""Tiny random Hugging Face checkpoints (GPT-2 and Llama) with reference logits.

Usage: python3 tiny_checkpoints.py OUT_DIR

Writes, deterministically (numpy default_rng with fixed seeds):

  OUT_DIR/tiny-gpt2/{config.json, model.safetensors}
  OUT_DIR/tiny-llama/{config.json, model.safetensors}
  OUT_DIR/tiny_checkpoints.json   logits (2, 8, 64) of both models for IDS

Only numpy is used. The safetensors files are written by hand; the forward
passes are independent numpy code in float64, run on the float32 values that
are stored in the files. tiny_checkpoints_check_hf.py compares these logits
with Hugging Face transformers.
"""

import hashlib
import json
import os
import struct
import sys

import numpy as np

IDS = [[3, 14, 15, 9, 26, 5, 35, 8], [60, 1, 2, 42, 7, 7, 0, 63]]
GPT2_SEED = 20240601
LLAMA_SEED = 20240602

GPT2_CONFIG = {
    "model_type": "gpt2",
    "architectures": ["GPT2LMHeadModel"],
    "vocab_size": 64,
    "n_positions": 32,
    "n_ctx": 32,
    "n_embd": 32,
    "n_layer": 2,
    "n_head": 4,
    "layer_norm_epsilon": 1e-5,
    "activation_function": "gelu_new",
    "tie_word_embeddings": True,
    # transformers' GPT2Config defaults these to 50256 and warns that it is
    # outside this vocabulary.
    "bos_token_id": 0,
    "eos_token_id": 0,
}

LLAMA_CONFIG = {
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "vocab_size": 64,
    "hidden_size": 32,
    "intermediate_size": 48,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 64,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "hidden_act": "silu",
    "attention_bias": False,
    "mlp_bias": False,
}


# ---------------------------------------------------------------- safetensors

def write_safetensors(path, tensors):
    """tensors: dict name -> float32 ndarray. Written in sorted name order."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        raw = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        assert info["dtype"] == "F32"
        out[name] = np.frombuffer(data[8 + n + b:8 + n + e], dtype="<f4").reshape(info["shape"])
    return out


# ---------------------------------------------------------------- weights

class Gen:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def normal(self, shape, std=0.2, mean=0.0):
        return (mean + std * self.rng.standard_normal(shape)).astype(np.float32)


def gpt2_weights(cfg):
    g = Gen(GPT2_SEED)
    V, P, C = cfg["vocab_size"], cfg["n_positions"], cfg["n_embd"]
    t = {}
    t["transformer.wte.weight"] = g.normal((V, C))
    t["transformer.wpe.weight"] = g.normal((P, C))
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        t[p + "ln_1.weight"] = g.normal((C,), 0.1, 1.0)
        t[p + "ln_1.bias"] = g.normal((C,), 0.1)
        # Conv1D: weight stored (in, out), y = x @ W + b
        t[p + "attn.c_attn.weight"] = g.normal((C, 3 * C))
        t[p + "attn.c_attn.bias"] = g.normal((3 * C,), 0.1)
        t[p + "attn.c_proj.weight"] = g.normal((C, C))
        t[p + "attn.c_proj.bias"] = g.normal((C,), 0.1)
        t[p + "ln_2.weight"] = g.normal((C,), 0.1, 1.0)
        t[p + "ln_2.bias"] = g.normal((C,), 0.1)
        t[p + "mlp.c_fc.weight"] = g.normal((C, 4 * C))
        t[p + "mlp.c_fc.bias"] = g.normal((4 * C,), 0.1)
        t[p + "mlp.c_proj.weight"] = g.normal((4 * C, C))
        t[p + "mlp.c_proj.bias"] = g.normal((C,), 0.1)
    t["transformer.ln_f.weight"] = g.normal((C,), 0.1, 1.0)
    t["transformer.ln_f.bias"] = g.normal((C,), 0.1)
    return t


def llama_weights(cfg):
    g = Gen(LLAMA_SEED)
    V, C, F = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"]
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D = C // H
    t = {}
    t["model.embed_tokens.weight"] = g.normal((V, C))
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = g.normal((C,), 0.1, 1.0)
        # torch Linear: weight stored (out, in), y = x @ W.T
        t[p + "self_attn.q_proj.weight"] = g.normal((H * D, C))
        t[p + "self_attn.k_proj.weight"] = g.normal((Hkv * D, C))
        t[p + "self_attn.v_proj.weight"] = g.normal((Hkv * D, C))
        t[p + "self_attn.o_proj.weight"] = g.normal((C, H * D))
        t[p + "post_attention_layernorm.weight"] = g.normal((C,), 0.1, 1.0)
        t[p + "mlp.gate_proj.weight"] = g.normal((F, C))
        t[p + "mlp.up_proj.weight"] = g.normal((F, C))
        t[p + "mlp.down_proj.weight"] = g.normal((C, F))
    t["model.norm.weight"] = g.normal((C,), 0.1, 1.0)
    t["lm_head.weight"] = g.normal((V, C))
    return t


# ---------------------------------------------------------------- math (float64)

def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def gelu_new(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def silu(x):
    return x / (1.0 + np.exp(-x))


def softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def causal_attention(q, k, v):
    """q: (B, H, T, D); k, v: (B, H, T, D). Returns (B, T, H*D)."""
    B, H, T, D = q.shape
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D)
    mask = np.triu(np.ones((T, T), dtype=bool), 1)
    s = np.where(mask, -np.inf, s)
    o = softmax(s) @ v
    return o.transpose(0, 2, 1, 3).reshape(B, T, H * D)


def gpt2_forward(cfg, w, ids):
    w = {k: v.astype(np.float64) for k, v in w.items()}
    ids = np.asarray(ids)
    B, T = ids.shape
    C, H, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    D = C // H
    x = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][np.arange(T)][None]
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        h = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = np.split(qkv, 3, axis=-1)
        heads = lambda a: a.reshape(B, T, H, D).transpose(0, 2, 1, 3)
        a = causal_attention(heads(q), heads(k), heads(v))
        x = x + a @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        h = gelu_new(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = layer_norm(x, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)
    return x @ w["transformer.wte.weight"].T


def rope(x, theta):
    """x: (B, heads, T, D). Hugging Face rotate_half: pairs (i, i + D/2)."""
    B, NH, T, D = x.shape
    inv_freq = theta ** (-np.arange(0, D, 2, dtype=np.float64) / D)  # (D/2,)
    ang = np.arange(T, dtype=np.float64)[:, None] * inv_freq[None]  # (T, D/2)
    cos = np.cos(np.concatenate([ang, ang], -1))
    sin = np.sin(np.concatenate([ang, ang], -1))
    x1, x2 = x[..., :D // 2], x[..., D // 2:]
    rot = np.concatenate([-x2, x1], -1)
    return x * cos + rot * sin


def llama_forward(cfg, w, ids):
    w = {k: v.astype(np.float64) for k, v in w.items()}
    ids = np.asarray(ids)
    B, T = ids.shape
    C, H, Hkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D, eps, theta = C // H, cfg["rms_norm_eps"], cfg["rope_theta"]
    x = w["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = (h @ w[p + "self_attn.q_proj.weight"].T).reshape(B, T, H, D).transpose(0, 2, 1, 3)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).reshape(B, T, Hkv, D).transpose(0, 2, 1, 3)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).reshape(B, T, Hkv, D).transpose(0, 2, 1, 3)
        q, k = rope(q, theta), rope(k, theta)
        kv_of = np.arange(H) // (H // Hkv)  # query head h uses kv head h // (H/Hkv)
        a = causal_attention(q, k[:, kv_of], v[:, kv_of])
        x = x + a @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        g = silu(h @ w[p + "mlp.gate_proj.weight"].T)
        u = h @ w[p + "mlp.up_proj.weight"].T
        x = x + (g * u) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    return x @ w["lm_head.weight"].T


# ---------------------------------------------------------------- output

def sig7(a):
    if isinstance(a, np.ndarray):
        return [sig7(x) for x in a]
    return float(f"{float(a):.7g}")


def build(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    result = {
        "generator": "tiny_checkpoints.py",
        "ids": IDS,
        "note": "logits[b][t][v] in float64 from the stored float32 weights, 7 significant digits",
        "models": {},
    }
    for name, cfg, make, fwd, seed in (
        ("gpt2", GPT2_CONFIG, gpt2_weights, gpt2_forward, GPT2_SEED),
        ("llama", LLAMA_CONFIG, llama_weights, llama_forward, LLAMA_SEED),
    ):
        folder = f"tiny-{name}"
        d = os.path.join(out_dir, folder)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        st = os.path.join(d, "model.safetensors")
        write_safetensors(st, make(cfg))
        w = read_safetensors(st)  # compute from exactly what was written
        logits = fwd(cfg, w, IDS)
        with open(st, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        result["models"][name] = {
            "folder": folder,
            "model_type": cfg["model_type"],
            "seed": seed,
            "safetensors_sha256": sha,
            "tensor_count": len(w),
            "parameter_count": int(sum(a.size for a in w.values())),
            "argmax": logits.argmax(-1).tolist(),
            "logits_abs_max": sig7(np.abs(logits).max()),
            "logits": sig7(logits),
        }
    with open(os.path.join(out_dir, "tiny_checkpoints.json"), "w") as f:
        json.dump(result, f, separators=(",", ":"))
        f.write("\n")
    return result


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 tiny_checkpoints.py OUT_DIR")
    r = build(sys.argv[1])
    for name, m in r["models"].items():
        print(f"{name}: {m['tensor_count']} tensors, {m['parameter_count']} params, "
              f"|logits|max={m['logits_abs_max']}, sha256={m['safetensors_sha256'][:16]}")
