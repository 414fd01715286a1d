#!/usr/bin/env python3
"""Independent numpy reference for SmolLM2-135M-Instruct (GGUF, llama architecture).

Usage:
    python3 smollm2_reference.py PATH_TO_GGUF OUT.json

Requirements: numpy, and the Hugging Face `tokenizers` package
(`pip install tokenizers`). No GGUF library is used: the file is parsed here
with `struct` and numpy so that this script is an independent check of the
Swift loader, dequantiser, tokenizer and forward pass.

What it produces (see README.md in this folder):
  * "config"    -- hyper-parameters read from the GGUF metadata
  * "file"      -- facts about the file (tensor types, alignment, data offset)
  * "tensors"   -- a few dequantised values of selected tensors
  * "tokenizer" -- token ids for a set of texts, from the `tokenizers` library,
                   cross-checked against the small BPE implemented below
  * "chat"      -- for three chat prompts: the prompt ids, the greedy
                   continuation and logits at the last prompt position
  * "debug"     -- the residual stream after each block for the first prompt

All model math is done in float64.
"""

import json
import struct
import sys
import time
import unicodedata

import numpy as np

# ---------------------------------------------------------------------------
# GGUF parsing
# ---------------------------------------------------------------------------

# GGUF metadata value types -> struct format for the scalar ones.
_SCALAR_FORMATS = {
    0: "B",  # uint8
    1: "b",  # int8
    2: "H",  # uint16
    3: "h",  # int16
    4: "I",  # uint32
    5: "i",  # int32
    6: "f",  # float32
    7: "?",  # bool
    10: "Q",  # uint64
    11: "q",  # int64
    12: "d",  # float64
}
_TYPE_STRING = 8
_TYPE_ARRAY = 9

# ggml tensor type ids used by this script.
GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q4_1, GGML_Q8_0, GGML_BF16 = 0, 1, 2, 3, 8, 30
GGML_TYPE_NAMES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 8: "Q8_0", 30: "BF16"}


class GGUFReader:
    """Minimal little-endian GGUF v2/v3 reader: metadata + tensor infos + raw data."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.buf = f.read()
        self.pos = 0

        if self.buf[:4] != b"GGUF":
            raise ValueError("not a GGUF file (bad magic)")
        self.pos = 4
        self.version = self._read("I")
        tensor_count = self._read("Q")
        kv_count = self._read("Q")

        self.metadata = {}
        for _ in range(kv_count):
            key = self._read_string()
            value_type = self._read("I")
            self.metadata[key] = self._read_value(value_type)

        # Tensor infos: name, n_dims, dims (ne[0] fastest varying), type, offset.
        self.tensors = {}
        self.tensor_order = []
        for _ in range(tensor_count):
            name = self._read_string()
            n_dims = self._read("I")
            dims = [self._read("Q") for _ in range(n_dims)]
            ggml_type = self._read("I")
            offset = self._read("Q")
            self.tensors[name] = {"dims": dims, "type": ggml_type, "offset": offset}
            self.tensor_order.append(name)

        # Tensor data begins at the next multiple of general.alignment.
        self.alignment = int(self.metadata.get("general.alignment", 32))
        self.data_offset = (self.pos + self.alignment - 1) // self.alignment * self.alignment

    # -- primitive readers --------------------------------------------------
    def _read(self, fmt):
        value = struct.unpack_from("<" + fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize("<" + fmt)
        return value

    def _read_string(self):
        n = self._read("Q")
        s = self.buf[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def _read_value(self, value_type):
        if value_type in _SCALAR_FORMATS:
            return self._read(_SCALAR_FORMATS[value_type])
        if value_type == _TYPE_STRING:
            return self._read_string()
        if value_type == _TYPE_ARRAY:
            elem_type = self._read("I")
            count = self._read("Q")
            return [self._read_value(elem_type) for _ in range(count)]
        raise ValueError(f"unknown GGUF value type {value_type}")

    # -- tensors ------------------------------------------------------------
    def tensor(self, name):
        """Dequantise a tensor to float64 with numpy shape (ne[n-1], ..., ne[0])."""
        info = self.tensors[name]
        dims = info["dims"]
        n = int(np.prod(dims))
        start = self.data_offset + info["offset"]
        values = dequantize(self.buf, start, n, info["type"])
        return values.reshape(tuple(reversed(dims)))


def dequantize(buf, start, n, ggml_type):
    """Return n float64 values of the given ggml type starting at byte `start`.

    Quantised types use blocks of 32 values:
      Q8_0: f16 d, 32 x int8 q                -> d * q
      Q4_0: f16 d, 16 bytes                   -> d * (nibble - 8)
      Q4_1: f16 d, f16 m, 16 bytes            -> d * nibble + m
    In the 4-bit types byte j of a block holds element j in its low nibble and
    element j + 16 in its high nibble.
    """
    if ggml_type == GGML_F32:
        return np.frombuffer(buf, "<f4", n, start).astype(np.float64)
    if ggml_type == GGML_F16:
        return np.frombuffer(buf, "<f2", n, start).astype(np.float64)
    if ggml_type == GGML_BF16:
        raw = np.frombuffer(buf, "<u2", n, start).astype(np.uint32) << 16
        return raw.view(np.float32).astype(np.float64)

    assert n % 32 == 0, "quantised tensors hold whole blocks of 32"
    nblocks = n // 32
    if ggml_type == GGML_Q8_0:
        block = np.dtype([("d", "<f2"), ("qs", "i1", 32)])
        b = np.frombuffer(buf, block, nblocks, start)
        out = b["d"].astype(np.float64)[:, None] * b["qs"].astype(np.float64)
        return out.reshape(-1)
    if ggml_type in (GGML_Q4_0, GGML_Q4_1):
        if ggml_type == GGML_Q4_0:
            block = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
        else:
            block = np.dtype([("d", "<f2"), ("m", "<f2"), ("qs", "u1", 16)])
        b = np.frombuffer(buf, block, nblocks, start)
        qs = b["qs"]
        # Elements 0..15 come from the low nibbles, 16..31 from the high nibbles.
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float64)
        d = b["d"].astype(np.float64)[:, None]
        if ggml_type == GGML_Q4_0:
            out = d * (nibbles - 8.0)
        else:
            out = d * nibbles + b["m"].astype(np.float64)[:, None]
        return out.reshape(-1)
    raise NotImplementedError(f"ggml type {ggml_type} not supported")


# ---------------------------------------------------------------------------
# Tokenizer: our own byte-level BPE
# ---------------------------------------------------------------------------

def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def _is_letter(c):  # \p{L}
    return unicodedata.category(c).startswith("L")


def _is_number(c):  # \p{N}  (Nd, Nl, No)
    return unicodedata.category(c).startswith("N")


def _is_space(c):  # \s
    return c.isspace()


def split_digits(text):
    """HF Digits(individual_digits=True): every \\p{N} character is its own piece."""
    pieces, current = [], ""
    for c in text:
        if _is_number(c):
            if current:
                pieces.append(current)
                current = ""
            pieces.append(c)
        else:
            current += c
    if current:
        pieces.append(current)
    return pieces


_CONTRACTIONS = ("s", "t", "re", "ve", "m", "ll", "d")


def gpt2_split(s):
    """Hand-written scanner equivalent to the GPT-2 pre-tokenizer regex

        's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+

    applied left to right (alternatives are tried in order at each position).
    """
    pieces = []
    i, n = 0, len(s)

    def run(j, pred):  # end of the run of characters satisfying pred from j
        while j < n and pred(s[j]):
            j += 1
        return j

    def is_other(c):
        return not (_is_space(c) or _is_letter(c) or _is_number(c))

    while i < n:
        c = s[i]
        # 's 't 're 've 'm 'll 'd  (case-sensitive)
        if c == "'":
            match = next((x for x in _CONTRACTIONS if s.startswith(x, i + 1)), None)
            if match is not None:
                pieces.append(s[i:i + 1 + len(match)])
                i += 1 + len(match)
                continue
        # ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+'
        body = i + 1 if (c == " " and i + 1 < n) else i
        matched = False
        for pred in (_is_letter, _is_number, is_other):
            if pred(s[body]):
                j = run(body, pred)
                pieces.append(s[i:j])
                i = j
                matched = True
                break
        if matched:
            continue
        # '\s+(?!\S)' then '\s+'
        j = run(i, _is_space)
        assert j > i
        if j < n and j - i >= 2:
            j -= 1  # leave one space to prefix the following word
        pieces.append(s[i:j])
        i = j
    return pieces


class SimpleBPE:
    """Straightforward byte-level BPE (the cross-check for `tokenizers`)."""

    def __init__(self, tokens, merges, token_types):
        self.vocab = {t: i for i, t in enumerate(tokens)}
        self.id_to_token = list(tokens)
        self.ranks = {tuple(m.split(" ")): r for r, m in enumerate(merges)}
        # Control tokens (type 3) are matched as whole strings before pre-tokenisation.
        # Longest first so that a token that is a prefix of another cannot win.
        self.specials = sorted((t for t, ty in zip(tokens, token_types) if ty == 3),
                               key=len, reverse=True)
        self.special_set = set(self.specials)
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}

    def _split_specials(self, text):
        """Yield (is_special, chunk) in order."""
        i, start = 0, 0
        while i < len(text):
            hit = next((sp for sp in self.specials if text.startswith(sp, i)), None)
            if hit is None:
                i += 1
                continue
            if start < i:
                yield False, text[start:i]
            yield True, hit
            i += len(hit)
            start = i
        if start < len(text):
            yield False, text[start:]

    def _bpe(self, word):
        symbols = list(word)
        while len(symbols) > 1:
            pairs = [(self.ranks.get((a, b)), k)
                     for k, (a, b) in enumerate(zip(symbols, symbols[1:]))]
            pairs = [(r, k) for r, k in pairs if r is not None]
            if not pairs:
                break
            _, k = min(pairs)  # the lowest-ranked (earliest) merge present
            first, second = symbols[k], symbols[k + 1]
            # Merge every occurrence of that pair, left to right.
            merged, k = [], 0
            while k < len(symbols):
                if k + 1 < len(symbols) and symbols[k] == first and symbols[k + 1] == second:
                    merged.append(first + second)
                    k += 2
                else:
                    merged.append(symbols[k])
                    k += 1
            symbols = merged
        return [self.vocab[sym] for sym in symbols]

    def encode(self, text):
        ids = []
        for is_special, chunk in self._split_specials(text):
            if is_special:
                ids.append(self.vocab[chunk])
                continue
            for piece in split_digits(chunk):
                for word in gpt2_split(piece):
                    mapped = "".join(self.byte_encoder[b] for b in word.encode("utf-8"))
                    ids.extend(self._bpe(mapped))
        return ids

    def decode(self, ids):
        out, pending = [], bytearray()
        for i in ids:
            tok = self.id_to_token[i]
            if tok in self.special_set:
                out.append(pending.decode("utf-8", errors="replace"))
                pending = bytearray()
                out.append(tok)
            else:
                pending.extend(self.byte_decoder[ch] for ch in tok)
        out.append(pending.decode("utf-8", errors="replace"))
        return "".join(out)


def build_hf_tokenizer(tokens, merges, token_types):
    """The reference tokenizer, built with the Hugging Face `tokenizers` library."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    vocab = {t: i for i, t in enumerate(tokens)}
    merge_pairs = [tuple(m.split(" ")) for m in merges]
    tok = Tokenizer(models.BPE(vocab, merge_pairs))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    specials = [t for t, ty in zip(tokens, token_types) if ty == 3]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    for t in specials:  # the added tokens must keep their vocab ids
        assert tok.token_to_id(t) == vocab[t], t
    return tok


# ---------------------------------------------------------------------------
# Model (llama architecture, float64)
# ---------------------------------------------------------------------------

class Llama:
    def __init__(self, gguf):
        md = gguf.metadata
        arch = md["general.architecture"]
        self.n_layers = md[f"{arch}.block_count"]
        self.dim = md[f"{arch}.embedding_length"]
        self.n_heads = md[f"{arch}.attention.head_count"]
        self.n_kv_heads = md[f"{arch}.attention.head_count_kv"]
        self.head_dim = self.dim // self.n_heads
        self.eps = float(md[f"{arch}.attention.layer_norm_rms_epsilon"])
        self.rope_base = float(md[f"{arch}.rope.freq_base"])

        self.tok_embd = gguf.tensor("token_embd.weight")  # (vocab, dim)
        # Tied output: use output.weight if present, else the token embedding.
        self.output = (gguf.tensor("output.weight") if "output.weight" in gguf.tensors
                       else self.tok_embd)
        self.output_norm = gguf.tensor("output_norm.weight")
        self.layers = []
        for l in range(self.n_layers):
            p = f"blk.{l}."
            # GGUF [in, out] -> numpy (out, in); y = x @ W.T
            self.layers.append({k: gguf.tensor(p + k + ".weight") for k in (
                "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
                "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")})

        # RoPE inverse frequencies base^(-2i/d) for the adjacent-pair convention.
        i = np.arange(self.head_dim // 2, dtype=np.float64)
        self.inv_freq = self.rope_base ** (-2.0 * i / self.head_dim)

    def rmsnorm(self, x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def rope(self, x, positions):
        """x: (T, heads, head_dim). Rotate pairs (x[2i], x[2i+1]) by pos * inv_freq[i]."""
        angles = positions[:, None] * self.inv_freq[None, :]  # (T, head_dim/2)
        cos = np.cos(angles)[:, None, :]
        sin = np.sin(angles)[:, None, :]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = x0 * cos - x1 * sin
        out[..., 1::2] = x0 * sin + x1 * cos
        return out

    def new_cache(self):
        return [{"k": np.zeros((0, self.n_kv_heads, self.head_dim)),
                 "v": np.zeros((0, self.n_kv_heads, self.head_dim))}
                for _ in range(self.n_layers)]

    def forward(self, ids, cache, trace=None):
        """Run the new tokens `ids` after those already in `cache`.

        Returns logits (T, vocab) for every new position. If `trace` is a list,
        the residual stream of the last position after each block is appended.
        """
        start = cache[0]["k"].shape[0]
        T = len(ids)
        positions = np.arange(start, start + T, dtype=np.float64)
        group = self.n_heads // self.n_kv_heads
        x = self.tok_embd[np.asarray(ids)]  # (T, dim)

        for layer, c in zip(self.layers, cache):
            # --- attention ---
            h = self.rmsnorm(x, layer["attn_norm"])
            q = (h @ layer["attn_q"].T).reshape(T, self.n_heads, self.head_dim)
            k = (h @ layer["attn_k"].T).reshape(T, self.n_kv_heads, self.head_dim)
            v = (h @ layer["attn_v"].T).reshape(T, self.n_kv_heads, self.head_dim)
            q = self.rope(q, positions)
            k = self.rope(k, positions)
            c["k"] = np.concatenate([c["k"], k])
            c["v"] = np.concatenate([c["v"], v])
            S = c["k"].shape[0]

            # Causal mask: new token t (absolute position start+t) sees keys 0..start+t.
            mask = np.arange(S)[None, :] > (start + np.arange(T))[:, None]  # (T, S)
            attn = np.empty((T, self.n_heads, self.head_dim))
            for hd in range(self.n_heads):
                kv = hd // group  # GQA: query head hd uses kv head hd // group
                scores = q[:, hd, :] @ c["k"][:, kv, :].T / np.sqrt(self.head_dim)
                scores = np.where(mask, -np.inf, scores)
                scores -= scores.max(axis=1, keepdims=True)
                p = np.exp(scores)
                p /= p.sum(axis=1, keepdims=True)
                attn[:, hd, :] = p @ c["v"][:, kv, :]
            x = x + attn.reshape(T, self.dim) @ layer["attn_output"].T

            # --- SwiGLU feed-forward ---
            n = self.rmsnorm(x, layer["ffn_norm"])
            gate = n @ layer["ffn_gate"].T
            up = n @ layer["ffn_up"].T
            silu = gate / (1.0 + np.exp(-gate))
            x = x + (silu * up) @ layer["ffn_down"].T

            if trace is not None:
                trace.append(x[-1].copy())

        x = self.rmsnorm(x, self.output_norm)
        return x @ self.output.T


# ---------------------------------------------------------------------------
# Fixture generation
# ---------------------------------------------------------------------------

def r(x, digits=7):
    """Round to `digits` significant digits for a compact JSON."""
    return float(f"{float(x):.{digits}g}")


def to_json(obj, indent=""):
    """JSON with one key per line but short lists (ids, [id, logit]) kept on one line."""
    inner = indent + "  "
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {to_json(v, inner)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(obj, list) and any(isinstance(v, dict) for v in obj):
        return "[\n" + ",\n".join(inner + to_json(v, inner) for v in obj) + "\n" + indent + "]"
    return json.dumps(obj, ensure_ascii=False)


TOKENIZER_TEXTS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "In 2024 we had 12,345.67 dollars",
    "Café naïve façade",
    "日本語のテキスト",
    "I ❤️ 🤖 and 👨‍👩‍👧",
    "a  b   c\n\n\td",
    "   leading and trailing spaces   ",
    " ",
    "\n",
    "def f(x):\n    return x**2  # square\n",
    "I'm sure they'll've",
    "DON'T SHOUT'S",
    "<|im_start|>user\nhi<|im_end|>\n",
    "x<|im_end|>y <|endoftext|>",
    "½ ² Ⅻ and x²",
    "",
]

SYSTEM_PROMPT = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
CHAT_PROMPTS = [
    "What is the capital of France?",
    "List three primary colors.",
    "Write a haiku about the sea.",
]
MAX_NEW_TOKENS = 24


def chat_text(prompt):
    return (f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n"
            f"<|im_start|>user\n{prompt}<|im_end|>\n"
            f"<|im_start|>assistant\n")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    gguf_path, out_path = sys.argv[1], sys.argv[2]
    t0 = time.time()

    gguf = GGUFReader(gguf_path)
    md = gguf.metadata
    arch = md["general.architecture"]
    config = {
        "architecture": arch,
        "gguf_version": gguf.version,
        "block_count": md[f"{arch}.block_count"],
        "context_length": md[f"{arch}.context_length"],
        "embedding_length": md[f"{arch}.embedding_length"],
        "feed_forward_length": md[f"{arch}.feed_forward_length"],
        "head_count": md[f"{arch}.attention.head_count"],
        "head_count_kv": md[f"{arch}.attention.head_count_kv"],
        "rope_dimension_count": md[f"{arch}.rope.dimension_count"],
        "rope_freq_base": md[f"{arch}.rope.freq_base"],
        "rms_norm_eps": md[f"{arch}.attention.layer_norm_rms_epsilon"],
        "vocab_size": md.get(f"{arch}.vocab_size", len(md["tokenizer.ggml.tokens"])),
        "file_type": md.get("general.file_type"),
        "tokenizer_model": md["tokenizer.ggml.model"],
        "tokenizer_pre": md.get("tokenizer.ggml.pre"),
        "bos_token_id": md.get("tokenizer.ggml.bos_token_id"),
        "eos_token_id": md.get("tokenizer.ggml.eos_token_id"),
        "unknown_token_id": md.get("tokenizer.ggml.unknown_token_id"),
        "padding_token_id": md.get("tokenizer.ggml.padding_token_id"),
        "add_bos_token": md.get("tokenizer.ggml.add_bos_token"),
        "add_space_prefix": md.get("tokenizer.ggml.add_space_prefix"),
        "merges_count": len(md["tokenizer.ggml.merges"]),
        "tied_output": "output.weight" not in gguf.tensors,
    }

    type_counts = {}
    for info in gguf.tensors.values():
        name = GGML_TYPE_NAMES.get(info["type"], str(info["type"]))
        type_counts[name] = type_counts.get(name, 0) + 1
    file_info = {
        "tensor_count": len(gguf.tensors),
        "kv_count": len(md),
        "alignment": gguf.alignment,
        "data_offset": gguf.data_offset,
        "tensor_type_counts": type_counts,
    }

    # A few dequantised values, for testing the loader/dequantiser in isolation.
    tensors = []
    for name in ["token_embd.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight",
                 "blk.0.ffn_down.weight", "blk.29.ffn_gate.weight",
                 "blk.0.attn_norm.weight", "output_norm.weight"]:
        w = gguf.tensor(name)
        rows = w if w.ndim == 2 else w[None, :]
        tensors.append({
            "name": name,
            "dims": gguf.tensors[name]["dims"],
            "type": GGML_TYPE_NAMES[gguf.tensors[name]["type"]],
            "offset": gguf.tensors[name]["offset"],
            "row0_first8": [r(v) for v in rows[0, :8]],
            "row0_elems32_40": [r(v) for v in rows[0, 32:40]],
            "last_row_last8": [r(v) for v in rows[-1, -8:]],
            "row0_sum": r(rows[0].sum()),
            "sum": r(w.sum()),
        })

    # --- tokenizer ---------------------------------------------------------
    tokens = md["tokenizer.ggml.tokens"]
    merges = md["tokenizer.ggml.merges"]
    token_types = md["tokenizer.ggml.token_type"]
    hf = build_hf_tokenizer(tokens, merges, token_types)
    own = SimpleBPE(tokens, merges, token_types)

    def encode(text):
        return hf.encode(text, add_special_tokens=False).ids

    def decode(ids):
        return hf.decode(ids, skip_special_tokens=False)

    tok_cases, all_agree = [], True
    for text in TOKENIZER_TEXTS:
        ids = encode(text)
        own_ids = own.encode(text)
        agree = own_ids == ids
        all_agree &= agree
        if not agree:
            print(f"BPE MISMATCH for {text!r}:\n  tokenizers {ids}\n  own        {own_ids}")
        roundtrip = decode(ids)
        assert own.decode(ids) == roundtrip, text
        tok_cases.append({"text": text, "ids": ids,
                          "tokens": [tokens[i] for i in ids],
                          "own_bpe_agrees": agree,
                          "decodes_to_input": roundtrip == text})
    print(f"tokenizer: own BPE agrees with tokenizers on all texts: {all_agree}")
    print(f"[{time.time() - t0:.1f}s] loading weights")

    # --- model -------------------------------------------------------------
    model = Llama(gguf)
    print(f"[{time.time() - t0:.1f}s] weights dequantised")
    eos_ids = {md["tokenizer.ggml.eos_token_id"]}  # <|im_end|>

    chats, debug = [], None
    for n_prompt, prompt in enumerate(CHAT_PROMPTS):
        text = chat_text(prompt)
        prompt_ids = encode(text)
        assert own.encode(text) == prompt_ids
        cache = model.new_cache()
        trace = [] if n_prompt == 0 else None
        logits = model.forward(prompt_ids, cache, trace)[-1]
        last = logits

        if trace is not None:
            debug = {
                "prompt": prompt,
                "note": "residual stream at the last prompt position after each block",
                "embedding_first8": [r(v) for v in model.tok_embd[prompt_ids[-1], :8]],
                "blocks": [{"block": l, "first8": [r(v) for v in x[:8]],
                            "l2": r(np.linalg.norm(x))} for l, x in enumerate(trace)],
            }

        generated, margins = [], []
        for _ in range(MAX_NEW_TOKENS):
            order = np.argsort(-logits)
            nxt = int(order[0])
            margins.append(r(logits[order[0]] - logits[order[1]], 4))
            generated.append(nxt)
            if nxt in eos_ids:
                break
            logits = model.forward([nxt], cache)[-1]

        top = np.argsort(-last)[:20]
        sample_ids = list(range(0, len(tokens), 1000))
        chats.append({
            "prompt": prompt,
            "text": text,
            "prompt_ids": prompt_ids,
            "generated_ids": generated,
            "generated_text": decode(generated),
            "top1_top2_margins": margins,
            "last_logits": {
                "top": [[int(i), r(last[i])] for i in top],
                "sample_ids": sample_ids,
                "sample_logits": [r(last[i]) for i in sample_ids],
            },
        })
        print(f"[{time.time() - t0:.1f}s] {prompt!r} -> {decode(generated)!r}")

    out = {
        "model": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "generator": "Tests/TailorModelsTests/Fixtures/smollm2_reference.py (numpy, float64)",
        "config": config,
        "file": file_info,
        "tensors": tensors,
        "tokenizer": tok_cases,
        "tokenizer_own_bpe_agrees": all_agree,
        "chat_template": chat_text("{prompt}"),
        "chat": chats,
        "debug": debug,
    }
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(to_json(out) + "\n")
    print(f"wrote {out_path} in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
