#!/usr/bin/env bash
# Tailor's vector index against FAISS on the same vectors, in one run (docs/performance.md):
# for each size, docs/bench/faiss_index.py draws the clustered unit vectors, writes them and
# measures FAISS (IndexFlatIP, IndexHNSWFlat M=32 efConstruction=200); then TailorBench reads
# the same files and measures FlatIndex and HNSWIndex with the same settings. Both on 2 threads.
# Usage: docs/bench/index-vs-faiss.sh [TAILORBENCH]; PYTHON names the venv with faiss-cpu
# (see faiss_index.py), SIZES the base sizes, OUT where vectors and JSON go.
set -euo pipefail
bench=${1:-.build/release/TailorBench}
python=${PYTHON:-$HOME/.cache/perfbench/venv-torch/bin/python}
out=${OUT:-/tmp/tailor-index-bench}
mkdir -p "$out"
for n in ${SIZES:-10000 100000}; do
  data="$out/clustered-$n"
  "$python" docs/bench/faiss_index.py --n "$n" --kind clustered --threads 2 --write "$data" > "$data.faiss.json"
  TAILOR_THREADS=2 INDEX_DATA="$data" "$bench" index | tail -1 > "$data.tailor.json"
  echo "== $n vectors: FAISS"; cat "$data.faiss.json"
  echo "== $n vectors: Tailor"; cat "$data.tailor.json"
done
