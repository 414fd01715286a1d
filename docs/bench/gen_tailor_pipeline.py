#!/usr/bin/env python3
"""Writes the DVC/Snakemake comparison pipeline of ../shared/bench/pipelines as a Tailor spec.

Same DAG and the same shell commands as gen_pipeline.py (prep -> K train -> K eval -> report),
as `command` datasets: each stage lists the stages it needs, so their output files are in its
working folder; train_i's `lr` and `note` are command params (read from TAILOR_PARAM_LR, and
`note` tracked but not written, as in the reference). Writes OUTDIR/tailor/{pipeline.yaml,
data/raw.txt}.

    python3 docs/bench/gen_tailor_pipeline.py N OUTDIR
"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "shared", "bench", "pipelines"))
import gen_pipeline  # noqa: E402  (the reference generator: the stage list comes from it)

n, outdir = int(sys.argv[1]), sys.argv[2]
K = max(1, (n - 2) // 2)
d = os.path.join(outdir, "tailor")
os.makedirs(os.path.join(d, "data"), exist_ok=True)
open(os.path.join(d, "data", "raw.txt"), "w").write("raw-data-v1\n")

lines = ["tailor: 1", "name: pipeline", "data:"]
for name, deps, params, outs, cmd in gen_pipeline.stage_cmds(K):
    # The reference's train stage greps its lr from params.yaml; here the value comes from the
    # command's own params, printed the same way, so the outputs are byte-identical.
    if name.startswith("train_"):
        i = name.split("_")[1]
        cmd = f"mkdir -p models && {{ cat data/prep.txt; echo \"t{i}_lr: $TAILOR_PARAM_LR\"; }} > models/t{i}.txt"
    need_names = []
    for dep in deps:
        if dep == "data/raw.txt":
            continue
        base = os.path.basename(dep).split(".")[0]          # prep, t3, e3
        need_names.append("prep" if base == "prep" else ("train_" if base[0] == "t" else "eval_") + base[1:])
    command = {"run": [cmd], "shell": True, "output": outs[0]}
    if "data/raw.txt" in deps:
        command["inputs"] = ["data/raw.txt"]
    if need_names:
        command["needs"] = need_names
    if params:
        command["params"] = {"lr": "0.01", "note": "base"}
    lines.append(f"  {name}: {{ command: {json.dumps(command)}, format: text }}")
open(os.path.join(d, "pipeline.yaml"), "w").write("\n".join(lines) + "\n")
print(json.dumps({"N": 2 * K + 2, "K": K, "mid": K // 2}))
