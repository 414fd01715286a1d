#!/usr/bin/env bash
# Single-stream decoding of SmolLM2-135M-Instruct Q4_1, 2 threads: `tailor generate --timings`
# (128 tokens, end-of-text ignored) against llama.cpp's `llama-bench -n 128`, alternating three
# rounds (T, L, T, L…) in one run; then Tailor at batch 8 and 32 (prompts decoded in the same steps).
#
#   LLAMA_BENCH=/path/to/llama-bench bash docs/bench/decode-vs-llama-bench.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bench=${LLAMA_BENCH:?set LLAMA_BENCH to a llama-bench binary built from the llama.cpp source}
model=$here/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
cd "$here"
make -s models
swift build -c release --product tailor >/dev/null 2>&1
echo "== $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p') $(nproc) cores"
for round in 1 2 3; do
  printf 'tailor   '; TAILOR_THREADS=2 .build/release/tailor generate "$model" --prompt "The capital of France is" --max-tokens 128 --ignore-eos \
    --timings 2>&1 >/dev/null | tail -1
  printf 'llama.cpp '; "$bench" -m "$model" -t 2 -p 0 -n 128 -r 1 -o csv 2>/dev/null | tail -1 | tr -d '"' | awk -F, '{print $(NF-1) " tokens/s (tg128)"}'
done
for n in 8 32; do
  prompts=(); for i in $(seq 1 "$n"); do prompts+=(--prompt "Tell me about topic $i"); done
  printf 'tailor batch %s ' "$n"; TAILOR_THREADS=2 .build/release/tailor generate "$model" "${prompts[@]}" --max-tokens 64 --ignore-eos --timings 2>&1 >/dev/null | tail -1
done
