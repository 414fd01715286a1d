#!/usr/bin/env bash
# Tailor's runtime against the PyTorch reference (../shared/bench/training), in one run:
# GPT-2-style configs S and M, batch 8 × full context, one step = forward + CE +
# backward + AdamW, 2 threads. Both sides run with OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE unset (this machine's environment pins OpenBLAS to its AVX2 Haswell
# kernels, halving sgemm; PyTorch does not use OpenBLAS). PyTorch runs stock and with
# MKL forced onto its AVX-512 path (the reference's [mkl-avx512] shim).
#
#   TORCH_VENV=~/.cache/perfbench/venv-torch bash docs/bench/runtime-vs-torch.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
ref=${REF:-$here/../shared/bench/training}
venv=${TORCH_VENV:-$HOME/.cache/perfbench/venv-torch}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$here"
swift build -c release --product TailorBench >/dev/null
gcc -shared -fPIC -O2 -o "$work/libmkl_intel_shim.so" "$ref/mkl_intel_shim.c"
echo "== $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p') $(nproc) cores"
echo "== Tailor (TAILOR_THREADS=2)"
TAILOR_THREADS=2 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .build/release/TailorBench sgemm s m m-lora
for variant in stock mkl-avx512; do
  pre=""; [ "$variant" = mkl-avx512 ] && pre="$work/libmkl_intel_shim.so"
  for args in "--mode eager --config S" "--mode eager --config M" "--mode lora --config M"; do
    echo "== torch $variant $args"
    LD_PRELOAD=$pre env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python" "$ref/gpt_train_bench.py" case --fw torch $args \
      --threads 2 --out "$work/torch.jsonl" 2>&1 | tail -2
  done
done
echo "== Tailor again (TAILOR_THREADS=2)"
TAILOR_THREADS=2 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .build/release/TailorBench s m m-lora
