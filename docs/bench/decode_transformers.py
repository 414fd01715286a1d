"""PyTorch + Hugging Face transformers reference for LLM inference on CPU, batch 1.

Loads a llama-architecture GGUF (transformers dequantises it to float32), renders
the chat prompt with the tokenizer's chat template, then per repeat times one
forward pass over the whole prompt (prefill) and greedy decoding with the KV cache.
Prints one JSON line.

Token accounting (same as model.generate): the prefill's logits give generated
token 1; each decode step then feeds the last token through the model with the KV
cache and takes the argmax, so max_new_tokens tokens need max_new_tokens - 1 decode
steps. EOS does not stop the loop, so the step count is fixed.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ~/.cache/perfbench/venv-torch/bin/python \
        docs/bench/decode_transformers.py models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import argparse
import inspect
import json
import os
import statistics
import time

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer


def peak_rss_mb():
    # VmHWM: the process's peak resident set size, in kB.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("gguf", help="path to the .gguf file")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--max-new-tokens", type=int, default=100)
p.add_argument("--prompt", default="Write a haiku about the sea.")
p.add_argument("--repeat", type=int, default=3)
args = p.parse_args()
torch.set_num_threads(args.threads)
folder, name = os.path.split(os.path.abspath(args.gguf))

# (a) Load, both read from the GGUF: the tokenizer, then the model (weights
# dequantised to float32 by transformers/gguf-py).
t0 = time.perf_counter()
tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
t1 = time.perf_counter()
model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
model.eval()
load_s, tokenizer_load_s = time.perf_counter() - t1, t1 - t0

# The template adds the model's default system prompt and the assistant header.
text = tok.apply_chat_template([{"role": "user", "content": args.prompt}],
                               tokenize=False, add_generation_prompt=True)
ids = tok(text, return_tensors="pt", add_special_tokens=False).input_ids  # [1, n]

# The KV-cache argument/output is `cache` in recent transformers 5.x, `past_key_values` before.
CACHE = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

prompt_tps, decode_tps, first_run = [], [], None
decode_steps = args.max_new_tokens - 1
with torch.inference_mode():
    for _ in range(args.repeat):
        # (b) Prefill: one forward pass over the prompt, filling a fresh KV cache.
        t0 = time.perf_counter()
        out = model(input_ids=ids, use_cache=True)
        prompt_tps.append(ids.shape[1] / (time.perf_counter() - t0))
        kv = out[CACHE]  # a DynamicCache; each later call appends to it in place
        nxt = out.logits[:, -1].argmax(-1, keepdim=True)  # [1, 1]
        gen = [nxt.item()]

        # (c) Greedy decode: one token per step through the KV cache, no EOS stop.
        t0 = time.perf_counter()
        for _ in range(decode_steps):
            out = model(input_ids=nxt, use_cache=True, **{CACHE: kv})
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            gen.append(nxt.item())
        decode_tps.append(decode_steps / (time.perf_counter() - t0))
        if first_run is None:
            first_run = gen

print(json.dumps({
    "load_s": round(load_s, 3),  # model only
    "tokenizer_load_s": round(tokenizer_load_s, 3),
    "prompt_tokens": ids.shape[1],
    "prompt_tok_s": round(statistics.median(prompt_tps), 1),
    "decode_steps": decode_steps,
    "decode_tok_s": round(statistics.median(decode_tps), 1),
    "peak_rss_mb": round(peak_rss_mb(), 1),  # (d) includes the load-time peak
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "threads": torch.get_num_threads(),
    "repeat": args.repeat,
    "first_40_ids": first_run[:40],
    "first_40_text": tok.decode(first_run[:40]),
}))
