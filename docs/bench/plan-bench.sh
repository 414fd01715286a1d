#!/usr/bin/env bash
# Times parse + check + plan of generated sweep specs with the release binary:
# median wall time and peak RSS over 5 runs each. Usage: plan-bench.sh TAILOR
set -euo pipefail
tailor=${1:-.build/release/tailor}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '%-8s %-8s %-12s %-12s\n' target nodes "median s" "peak RSS MB"
# The floor: process start-up plus an 8-node plan.
times=()
for _ in 1 2 3 4 5; do
  out=$( { /usr/bin/time -f '%e' "$tailor" plan "$(dirname "$0")/../../specs/quickstart.yaml" > /dev/null; } 2>&1 | tail -1)
  times+=("$out")
done
printf '%-8s %-8s %-12s %-12s\n' floor 8 "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)" -
for n in 100 1000 10000; do
  python3 "$(dirname "$0")/gen_sweep_spec.py" "$n" > "$dir/s$n.yaml"
  nodes=$("$tailor" plan "$dir/s$n.yaml" --json | grep -c '"kind":')
  times=(); rss=0
  for _ in 1 2 3 4 5; do
    out=$( { /usr/bin/time -f '%e %M' "$tailor" plan "$dir/s$n.yaml" > /dev/null; } 2>&1 | tail -1)
    times+=("${out% *}"); r=${out#* }; (( r > rss )) && rss=$r
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
  printf '%-8s %-8s %-12s %-12s\n' "$n" "$nodes" "$median" "$((rss / 1024))"
done
