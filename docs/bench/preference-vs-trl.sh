#!/usr/bin/env bash
# Preference-training step throughput, Tailor beside TRL in one run: one DPO step and one
# reward-model step on a randomly initialised GPT-2 (config S: vocab 512, ctx 128, d 128,
# 4 layers, 4 heads; M: vocab 4096, ctx 256, d 384, 6 layers, 6 heads), batch 16 pairs,
# prompt 48 + answer 16 + EOS = 65 tokens per sequence, float32, 2 threads.
#   Tailor: `TailorBench dpo-s|dpo-m|reward-s|reward-m` (Sources/TailorBench/PreferenceBench.swift),
#           its own Trainer, DPO's reference log-probabilities computed before training.
#   TRL:    DPOTrainer (with its reference model, and with precompute_ref_log_probs=True) and
#           RewardTrainer (docs/bench/trl_preference.py).
# Every case is a fresh process (its peak RSS is its own), the sides interleaved for ROUNDS
# rounds (T, P, T, P …) so a slow phase of the machine hits both; the sgemm rate is printed
# before each round. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for every run.
#
#   swift build -c release --product TailorBench
#   TORCH_VENV=~/.cache/perfbench/venv-torch bash docs/bench/preference-vs-trl.sh
# Overrides: CONFIGS="S M" ROUNDS=3 THREADS=2; SMOLLM2=1 adds DPO with LoRA on SmolLM2-135M
# (TRL + PEFT, the GGUF read by transformers). The venv needs torch, transformers, trl,
# datasets, tokenizers and accelerate, and peft and gguf for SMOLLM2=1.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
venv=${TORCH_VENV:-$HOME/.cache/perfbench/venv-torch}
configs=${CONFIGS:-S M} rounds=${ROUNDS:-3} threads=${THREADS:-2}
cd "$here"
bench=.build/release/TailorBench
[ -x "$bench" ] || { echo "build it first: swift build -c release --product TailorBench" >&2; exit 2; }
echo "== $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p') $(nproc) cores, $threads threads, $rounds rounds"
run() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; }
trl() {
  run "$venv/bin/python" docs/bench/trl_preference.py --case "$1" --config "$2" --threads "$threads" | tail -1
}
for round in $(seq "$rounds"); do
  echo "== round $round: $(TAILOR_THREADS=$threads run "$bench" sgemm | tail -1)"
  for config in $configs; do
    lower=$(echo "$config" | tr 'A-Z' 'a-z')
    echo "-- Tailor $(TAILOR_THREADS=$threads run "$bench" "dpo-$lower" | tail -1)"
    echo "-- TRL dpo $config $(trl dpo "$config")"
    echo "-- TRL dpo-precomputed $config $(trl dpo-precomputed "$config")"
    echo "-- Tailor $(TAILOR_THREADS=$threads run "$bench" "reward-$lower" | tail -1)"
    echo "-- TRL reward $config $(trl reward "$config")"
  done
  if [ "${SMOLLM2:-0}" = 1 ]; then  # DPO with LoRA on SmolLM2-135M-Instruct (`make models`), 4 pairs, 8 timed steps
    echo "-- Tailor $(TAILOR_THREADS=$threads run "$bench" dpo-smollm2-lora | tail -1)"
    for case in dpo dpo-precomputed; do
      echo "-- TRL+PEFT $case smollm2 $(run "$venv/bin/python" docs/bench/trl_preference.py --case "$case" --config smollm2 \
        --batch 4 --steps 8 --threads "$threads" 2>/dev/null | tail -1)"
    done
  fi
done
