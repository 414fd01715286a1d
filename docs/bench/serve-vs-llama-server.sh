#!/usr/bin/env bash
# `tailor serve` against llama.cpp's `llama-server` on the same GGUF (SmolLM2-135M-Instruct
# Q4_1), in one run, 2 threads each: 1, 8 and 32 concurrent clients streaming greedy chat
# completions of up to 128 tokens (docs/bench/serve_load.py), and Tailor again with the requests
# spread over the base and two LoRA adapters (docs/bench/lora_adapter.py). Rounds alternate the
# servers (T, L, T, L…) so a slow phase of the machine hits both.
#
#   LLAMA_SERVER=/path/to/llama-server bash docs/bench/serve-vs-llama-server.sh
# llama-server is built from llama.cpp's public source for the benchmark only (its source is
# not part of Tailor): cmake -B build -DLLAMA_CURL=OFF && cmake --build build --target llama-server
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
llama=${LLAMA_SERVER:?set LLAMA_SERVER to a llama-server binary}
model=$here/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
rounds=${ROUNDS:-2}
levels=${LEVELS:-1 8 32}
out=${OUT:-/tmp/tailor-serve-bench}
cd "$here"
make -s models
swift build -c release --product tailor >/dev/null
mkdir -p "$out"
python3 docs/bench/lora_adapter.py "$out/lora-a" 1
python3 docs/bench/lora_adapter.py "$out/lora-b" 2
echo "== $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p') $(nproc) cores"

pid=
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; fi; }
trap stop EXIT
# Waits until the server at port $1 lists its models.
ready() { for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$1/v1/models" >/dev/null && return 0; sleep 0.2; done; echo "server on $1 did not start" >&2; exit 1; }
load() {  # port models label
  for c in $levels; do
    python3 docs/bench/serve_load.py --port "$1" --models "$2" --clients "$c" --requests "${REQUESTS:-4}" --max-tokens 128 --label "$3"
  done
}
for round in $(seq 1 "$rounds"); do
  echo "-- round $round"
  TAILOR_THREADS=2 .build/release/tailor serve "$model" --name smol --port 8101 --max-batch 32 --max-queue 256 --max-tokens 128 \
    --adapter "a=$out/lora-a" --adapter "b=$out/lora-b" 2>/dev/null &
  pid=$!
  ready 8101
  python3 docs/bench/serve_load.py --port 8101 --models smol --clients 1 --requests 1 --max-tokens 8 >/dev/null  # warm-up
  load 8101 smol tailor
  load 8101 smol,a,b tailor-adapters
  stop
  "$llama" -m "$model" -t 2 -tb 2 -c 16384 -np 32 --port 8102 --log-disable >/dev/null 2>&1 &
  pid=$!
  ready 8102
  python3 docs/bench/serve_load.py --port 8102 --models smol --clients 1 --requests 1 --max-tokens 8 >/dev/null
  load 8102 smol llama.cpp
  stop
done
