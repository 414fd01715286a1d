#!/usr/bin/env python3
"""Seed corpora for `make fuzz`: one small valid input per shape each target reads.

Usage: make_seeds.py TARGET OUT_DIR. Written with the standard library only (struct, json),
from the formats' public descriptions, so the seeds do not depend on Tailor's own writers.
The data, tokenizer and peft targets read a first byte that picks the reader; it is
prefixed here.
"""
import json
import os
import struct
import sys


def gguf(tensors, metadata):
    """A GGUF v3 file: header, metadata (strings, u32, f32, string arrays), tensor infos, data."""
    def string(s):
        b = s.encode()
        return struct.pack("<Q", len(b)) + b

    def value(v):
        if isinstance(v, str):
            return struct.pack("<I", 8) + string(v)
        if isinstance(v, float):
            return struct.pack("<I", 6) + struct.pack("<f", v)
        if isinstance(v, list):
            if v and isinstance(v[0], str):
                return struct.pack("<IIQ", 9, 8, len(v)) + b"".join(string(x) for x in v)
            return struct.pack("<IIQ", 9, 5, len(v)) + b"".join(struct.pack("<i", x) for x in v)
        return struct.pack("<I", 4) + struct.pack("<I", v)

    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for k, v in metadata.items():
        out += string(k) + value(v)
    blobs, offset = b"", 0
    for name, shape, gtype, data in tensors:
        out += string(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", d) for d in reversed(shape))
        out += struct.pack("<IQ", gtype, offset)
        padded = data + b"\0" * (-len(data) % 32)
        blobs += padded
        offset += len(padded)
    out += b"\0" * (-len(out) % 32)
    return out + blobs


def f32(n, scale=0.01):
    return struct.pack("<%df" % n, *[scale * ((i * 7) % 13 - 6) for i in range(n)])


def tiny_llama():
    c, f, v = 8, 16, 260
    tokens = [bytes([b]).decode("latin-1") for b in range(256)] + ["<s>", "</s>", "he", "hel"]
    meta = {
        "general.architecture": "llama", "general.name": "seed", "llama.embedding_length": c,
        "llama.block_count": 1, "llama.feed_forward_length": f, "llama.attention.head_count": 2,
        "llama.attention.head_count_kv": 1, "llama.context_length": 32,
        "llama.attention.layer_norm_rms_epsilon": 1e-5, "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.tokens": tokens, "tokenizer.ggml.token_type": [1] * 256 + [3, 3, 1, 1],
        "tokenizer.ggml.merges": ["h e", "he l"], "tokenizer.ggml.eos_token_id": 257,
    }
    kv = c // 2
    tensors = [("token_embd.weight", [v, c], 0, f32(v * c)), ("output_norm.weight", [c], 0, f32(c, 1))]
    for name, shape in [("attn_norm", [c]), ("attn_q", [c, c]), ("attn_k", [kv, c]), ("attn_v", [kv, c]),
                        ("attn_output", [c, c]), ("ffn_norm", [c]), ("ffn_gate", [f, c]), ("ffn_up", [f, c]),
                        ("ffn_down", [c, f])]:
        n = 1
        for d in shape:
            n *= d
        tensors.append(("blk.0.%s.weight" % name, shape, 0, f32(n)))
    # One tensor of each quantised type too (Q8_0: a scale and 32 int8; Q4_0: a scale and 16 bytes).
    tensors.append(("extra.q8", [32], 8, struct.pack("<e", 0.5) + bytes(range(32))))
    tensors.append(("extra.q4", [32], 2, struct.pack("<e", 2.0) + bytes(range(16))))
    return gguf(tensors, meta)


def safetensors(tensors):
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, sort_keys=True).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def byte_level():
    """GPT-2's byte → printable character table."""
    keep = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def seeds(target):
    if target == "gguf":
        return {"llama.gguf": tiny_llama()}
    if target == "safetensors":
        return {"mixed.safetensors": safetensors([
            ("a", "F32", [2, 3], f32(6)), ("b", "F16", [4], struct.pack("<4e", 1, -2, 0.5, 3)),
            ("c", "BF16", [2], b"\x80\x3f\x20\xc0"), ("d", "I64", [2], struct.pack("<2q", 1, -1)),
            ("e", "U8", [3], b"\x01\x02\x03"), ("f", "F32", [0], b"")])}
    if target == "tokenizer":
        vocab = {ch: i for i, ch in enumerate(byte_level().values())}
        vocab["he"] = len(vocab)
        bpe = {"model": {"type": "BPE", "vocab": vocab, "merges": ["h e"]},
               "added_tokens": [{"id": len(vocab), "content": "<|endoftext|>"}],
               "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                   {"type": "Digits", "individual_digits": True}, {"type": "ByteLevel"}]}}
        words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", ",", "."]
        wordpiece = {"model": {"type": "WordPiece", "vocab": {w: i for i, w in enumerate(words)}},
                     "normalizer": {"lowercase": True}}
        return {"bpe.json": b"\0" + json.dumps(bpe).encode(), "wordpiece.json": b"\0" + json.dumps(wordpiece).encode(),
                "vocab.txt": b"\1" + "\n".join(words).encode()}
    if target == "peft":
        # Tailor's tiny GPT-2 (width 24): c_attn maps 24 → 72, mlp.c_fc 24 → 96.
        config = {"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["c_attn", "c_fc"],
                  "rank_pattern": {"transformer.h.0.attn.c_attn": 4}, "alpha_pattern": {"transformer.h.0.attn.c_attn": 8}}
        p = "base_model.model.transformer.h.0."
        weights = safetensors([(p + "attn.c_attn.lora_A.weight", "F32", [4, 24], f32(96)),
                               (p + "attn.c_attn.lora_B.weight", "F32", [72, 4], f32(288)),
                               (p + "mlp.c_fc.lora_A.weight", "F32", [2, 24], f32(48)),
                               (p + "mlp.c_fc.lora_B.weight", "F32", [96, 2], f32(192))])
        return {"config.json": b"\0" + json.dumps(config).encode(), "weights.safetensors": b"\1" + weights}
    if target == "data":
        # First byte: reader = b % 3 (jsonl, csv, txt), format = (b // 3) % 7 (text, instruction, chat, …).
        out = {}
        out["text.jsonl"] = bytes([0]) + b'{"text": "one"}\n{"text": "two \\u00e9"}\n'
        out["instruction.jsonl"] = bytes([3]) + b'{"prompt": "2+2", "response": "4"}\n'
        out["chat.jsonl"] = bytes([6]) + b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'
        out["preference.jsonl"] = bytes([9]) + b'{"prompt": "p", "chosen": "a", "rejected": "b"}\n'
        out["classification.csv"] = bytes([13]) + b'text,label\n"good, really",pos\nbad,neg\n"say ""hi""",pos\n'
        out["instruction.csv"] = bytes([4]) + b'prompt,response\r\n"multi\nline",x\r\n'
        out["text.txt"] = bytes([2]) + b"First paragraph.\n\nSecond one,\nover two lines.\n"
        return out
    raise SystemExit("targets with seeds made here: gguf, safetensors, tokenizer, peft, data")


if __name__ == "__main__":
    target, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name, data in seeds(target).items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
