#!/usr/bin/env bash
# SmolLM2-135M-Instruct at batch 1 (greedy, 100 new tokens, end-of-text ignored so every run
# decodes 99 steps after the prompt pass): Tailor's `tailor generate --timings` against
# PyTorch + transformers (docs/bench/decode_transformers.py) in one run, 2 threads each.
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for both (this machine pins OpenBLAS to its
# Haswell kernels; PyTorch uses MKL).
#
#   TORCH_VENV=~/.cache/perfbench/venv-torch bash docs/bench/decode-vs-transformers.sh
# The venv needs torch, transformers, gguf and accelerate.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
venv=${TORCH_VENV:-$HOME/.cache/perfbench/venv-torch}
model=$here/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
prompt="Write a haiku about the sea."
cd "$here"
make -s models
swift build -c release --product tailor >/dev/null
echo "== $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p') $(nproc) cores"
tailor() {
  for i in 1 2 3; do
    TAILOR_THREADS=2 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/time -f "peak RSS %M KB" \
      .build/release/tailor generate "$model" --chat --prompt "$prompt" --max-tokens 100 --ignore-eos --timings 2>&1 >/dev/null
  done
}
echo "== Tailor"
tailor
echo "== PyTorch + transformers"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python" docs/bench/decode_transformers.py "$model" --threads 2 \
  --max-new-tokens 100 --prompt "$prompt" --repeat 3 2>/dev/null | tail -1
echo "== Tailor again"
tailor
