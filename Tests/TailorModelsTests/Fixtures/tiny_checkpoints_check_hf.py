#!/usr/bin/env python3
"""Compare Hugging Face transformers logits with tiny_checkpoints.json.

Usage (with a python that has torch + transformers):
  python tiny_checkpoints_check_hf.py [FOLDER ...]

Without arguments, checks tiny-gpt2/ and tiny-llama/ next to this script.
Each FOLDER (e.g. a checkpoint another program wrote) is loaded with
AutoModelForCausalLM, run on the reference ids, and compared with the
reference logits of the model with the same config.json model_type.
Exits 1 if any max abs difference is above --tol (default 1e-4).
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folders", nargs="*")
    ap.add_argument("--ref", default=os.path.join(HERE, "tiny_checkpoints.json"))
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()

    ref = json.load(open(args.ref))
    folders = args.folders or [os.path.join(os.path.dirname(os.path.abspath(args.ref)), m["folder"])
                               for m in ref["models"].values()]
    ids = torch.tensor(ref["ids"], dtype=torch.long)
    ok = True
    for folder in folders:
        model_type = json.load(open(os.path.join(folder, "config.json")))["model_type"]
        if model_type not in ref["models"]:
            print(f"{folder}: no reference for model_type {model_type!r}")
            ok = False
            continue
        expected = np.array(ref["models"][model_type]["logits"], dtype=np.float64)
        # transformers >= 4.56 calls it `dtype` (torch_dtype still works, with a warning)
        dtype_kw = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
        model, info = AutoModelForCausalLM.from_pretrained(
            folder, output_loading_info=True, **{dtype_kw: torch.float32})
        model.eval()
        problems = {k: v for k, v in info.items() if v}
        if problems:
            print(f"{folder}: loading info: {problems}")
            ok = False
        with torch.no_grad():
            logits = model(ids).logits.double().numpy()
        diff = np.abs(logits - expected).max()
        same_argmax = bool((logits.argmax(-1) == expected.argmax(-1)).all())
        print(f"{folder}: model_type={model_type} class={type(model).__name__} "
              f"max_abs_diff={diff:.3e} argmax_equal={same_argmax}")
        ok &= bool(diff <= args.tol)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
