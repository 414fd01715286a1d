#!/usr/bin/env python3
"""Writes a PEFT LoRA adapter folder for SmolLM2-135M with random (non-zero) A and B on v, o and
the MLP (GGUF's interleaved q and k are left out: Tailor refuses Hugging Face q/k adapters on a
GGUF base), rank 8, so serving benchmarks run real adapter updates. numpy only.

Usage: lora_adapter.py FOLDER SEED"""
import json
import os
import sys

import numpy as np

folder, seed = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(seed)
width, kv, ffn, layers, rank = 576, 192, 1536, 30, 8
modules = {"self_attn.v_proj": (width, kv), "self_attn.o_proj": (width, width), "mlp.gate_proj": (width, ffn),
           "mlp.up_proj": (width, ffn), "mlp.down_proj": (ffn, width)}
tensors = {}
for i in range(layers):
    for name, (inputs, outputs) in modules.items():
        key = f"base_model.model.model.layers.{i}.{name}"
        tensors[key + ".lora_A.weight"] = (rng.standard_normal((rank, inputs)) / np.sqrt(inputs)).astype("<f4")
        tensors[key + ".lora_B.weight"] = (rng.standard_normal((outputs, rank)) * 0.02).astype("<f4")
header, offset, blobs = {}, 0, []
for key, value in tensors.items():
    blob = value.tobytes()
    header[key] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [offset, offset + len(blob)]}
    offset += len(blob)
    blobs.append(blob)
encoded = json.dumps(header).encode()
encoded += b" " * (-len(encoded) % 8)
os.makedirs(folder, exist_ok=True)
with open(os.path.join(folder, "adapter_model.safetensors"), "wb") as f:
    f.write(len(encoded).to_bytes(8, "little") + encoded + b"".join(blobs))
with open(os.path.join(folder, "adapter_config.json"), "w") as f:
    json.dump({"peft_type": "LORA", "r": rank, "lora_alpha": 16,
               "target_modules": ["v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]}, f)
