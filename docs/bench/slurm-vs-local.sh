#!/usr/bin/env bash
# `tailor run` locally against `--backend slurm` on the single-host cluster of .ci/slurm-up, each
# from an empty cache: the quickstart (8 nodes) and an 8-variant sweep (docs/bench/slurm-sweep.yaml).
# Rounds alternate the two, so a slow phase of the machine hits both. Prints wall seconds, the
# nodes run, and the Slurm run's extra seconds per job; it stops if the two caches hold different
# artifact keys.
#   bash .ci/slurm-up && bash docs/bench/slurm-vs-local.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
swift build -c release --product tailor >/dev/null
tailor=$here/.build/release/tailor
work=${OUT:-/tmp/tailor-slurm-bench}
echo "== $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p') $(nproc) cores, $(sbatch --version)"
for round in $(seq 1 "${ROUNDS:-2}"); do
  for spec in specs/quickstart.yaml docs/bench/slurm-sweep.yaml; do
    name=$(basename "$spec" .yaml)
    for backend in local slurm; do
      rm -rf "$work/$name-$backend"
      mkdir -p "$work/$name-$backend"
      start=$(date +%s.%N)
      "$tailor" run "$spec" --cache "$work/$name-$backend/cache" --backend "$backend" --quiet > "$work/$name-$backend/out.txt"
      end=$(date +%s.%N)
      runs=$(grep -o '[0-9]* ran' "$work/$name-$backend/out.txt" | cut -d' ' -f1)
      awk -v a="$start" -v b="$end" 'BEGIN { print b - a }' > "$work/$name-$backend/seconds"
      printf 'round %s %-12s %-6s %6.1f s  %s nodes ran\n' "$round" "$name" "$backend" "$(cat "$work/$name-$backend/seconds")" "$runs"
    done
    # The same artifacts under the same keys, whichever backend built them.
    keys() { (cd "$1/cache/artifacts" && ls -d */* | sort); }
    [ "$(keys "$work/$name-local")" = "$(keys "$work/$name-slurm")" ] || { echo "the two caches differ" >&2; exit 1; }
    l=$(cat "$work/$name-local/seconds"); s=$(cat "$work/$name-slurm/seconds")
    jobs=$(ls "$work/$name-slurm/cache/slurm/"*.job.json | wc -l)
    awk -v r="$round" -v n="$name" -v l="$l" -v s="$s" -v j="$jobs" \
      'BEGIN { printf "round %s %-12s slurm - local = %.1f s over %d jobs: %.2f s a job\n", r, n, s - l, j, (s - l) / j }'
  done
done
