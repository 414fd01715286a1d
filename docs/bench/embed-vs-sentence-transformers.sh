#!/usr/bin/env bash
# MiniLM embedding throughput, Tailor against sentence-transformers on PyTorch, on the same
# 2,000 seeded passages in one run (docs/performance.md), both on 2 threads; Tailor's vectors
# are compared with sentence-transformers' (the largest difference is printed).
# Usage: docs/bench/embed-vs-sentence-transformers.sh [TAILORBENCH]; PYTHON names the venv with
# torch and sentence-transformers (see embed_sentence_transformers.py), OUT where files go.
set -euo pipefail
bench=${1:-.build/release/TailorBench}
python=${PYTHON:-$HOME/.cache/perfbench/venv-torch/bin/python}
out=${OUT:-/tmp/tailor-embed-bench}
mkdir -p "$out"
"$python" docs/bench/embed_sentence_transformers.py --make-sample "$out/passages.jsonl" --sample-count 2000 > /dev/null
"$python" docs/bench/embed_sentence_transformers.py --texts "$out/passages.jsonl" --threads 2 --out "$out/st.f32" > "$out/st.json"
TAILOR_THREADS=2 EMBED_TEXTS="$out/passages.jsonl" EMBED_COMPARE="$out/st.f32" "$bench" embed | tail -1 > "$out/tailor.json"
echo "== sentence-transformers"; cat "$out/st.json"
echo "== Tailor"; cat "$out/tailor.json"
