#!/usr/bin/env bash
# Preference-training step throughput: one DPO step and one reward-model step on a
# randomly initialised GPT-2 (config S: vocab 512, ctx 128, d 128, 4 layers, 4 heads),
# batch 16 pairs, prompt 48 + answer 16 + EOS = 65 tokens per sequence, float32,
# 2 threads. The PyTorch side is TRL's DPOTrainer / RewardTrainer
# (docs/bench/trl_preference.py), one fresh process per case so each peak RSS is its
# own. Each case prints one JSON line; tokens/s counts 2 x batch x 65 tokens per step.
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for every run (PyTorch uses MKL).
#
#   TORCH_VENV=~/.cache/perfbench/venv-torch bash docs/bench/preference-vs-trl.sh
# Overrides: CONFIG=S|M BATCH=16 STEPS=20 WARMUP=2 THREADS=2 PROMPT=48 ANSWER=16.
# The venv needs torch, transformers, trl, datasets, tokenizers and accelerate.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
venv=${TORCH_VENV:-$HOME/.cache/perfbench/venv-torch}
config=${CONFIG:-S} batch=${BATCH:-16} steps=${STEPS:-20} warmup=${WARMUP:-2}
threads=${THREADS:-2} prompt=${PROMPT:-48} answer=${ANSWER:-16}
cd "$here"
echo "== $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p') $(nproc) cores"
echo "== config $config, batch $batch, $warmup warm-up + $steps timed steps, P=$prompt A=$answer, $threads threads"


for case in dpo dpo-precomputed reward; do
  echo "== TRL $case"
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python" docs/bench/trl_preference.py \
    --case "$case" --config "$config" --batch "$batch" --steps "$steps" --warmup "$warmup" \
    --prompt-tokens "$prompt" --answer-tokens "$answer" --threads "$threads" | tail -1
done
