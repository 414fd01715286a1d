#!/usr/bin/env bash
# Tailor on the DVC/Snakemake comparison pipeline (../shared/bench/pipelines): the same DAG and
# shell commands as a Tailor spec (docs/bench/gen_tailor_pipeline.py), the same steps as the
# reference driver: plan of a fresh copy, full run, no-op rerun, plan of the built pipeline,
# plan after a change, the change (train_mid's lr), a tracked param whose output does not change
# (note), back to the first config (revert), `touch data/raw.txt`. One job, for parity with DVC
# (sequential) and Snakemake (-c1). Median of 3 (wall and user+sys CPU seconds, /usr/bin/time),
# with how many nodes ran.
#
#   bash docs/bench/pipeline-bench.sh [N ...]        (default: 100 1000)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
swift build -c release --product tailor >/dev/null
T=$here/.build/release/tailor
echo "== $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
measure() {  # label, then the command; prints median wall (median CPU) and the nodes that ran
  local label=$1; shift
  local walls=() cpus=() ran=""
  for rep in 1 2 3; do
    local out
    out=$( { /usr/bin/time -f "TIME %e %U %S" "$@" 2>&1; } )
    local t
    t=$(grep '^TIME' <<<"$out" | tail -1)
    walls+=("$(awk '{print $2}' <<<"$t")")
    cpus+=("$(awk '{printf "%.2f", $3 + $4}' <<<"$t")")
    ran=$(grep -o '[0-9]* ran' <<<"$out" | head -1 || true)
    [ "${REPEATABLE:-yes}" = yes ] || break
  done
  local mw mc
  mw=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (${#walls[@]} + 1) / 2 ))p")
  mc=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(( (${#cpus[@]} + 1) / 2 ))p")
  printf '%-34s %7s (%s)  %s\n' "$label" "$mw" "$mc" "$ran"
}
for n in "${@:-100 1000}"; do
  work=$(mktemp -d)
  meta=$(python3 docs/bench/gen_tailor_pipeline.py "$n" "$work")
  mid=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['mid'])" "$meta")
  cd "$work/tailor"
  echo "-- N=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['N'])" "$meta") (mid = train_$mid)"
  set_lr=(--set "data.train_$mid.command.params.lr=0.02")
  set_note=(--set "data.train_$mid.command.params.note=changed")
  measure "plan, never run"       "$T" plan pipeline.yaml
  REPEATABLE=no measure "full run"       "$T" run pipeline.yaml --jobs 1 --quiet
  measure "no-op rerun"           "$T" run pipeline.yaml --jobs 1 --quiet
  measure "plan, built"           "$T" plan pipeline.yaml
  measure "plan, lr changed"      "$T" plan pipeline.yaml "${set_lr[@]}"
  REPEATABLE=no measure "change: lr (first time)"   "$T" run pipeline.yaml --jobs 1 --quiet "${set_lr[@]}"
  REPEATABLE=no measure "note changed, output same" "$T" run pipeline.yaml --jobs 1 --quiet "${set_lr[@]}" "${set_note[@]}"
  REPEATABLE=no measure "revert to the first config" "$T" run pipeline.yaml --jobs 1 --quiet
  touch data/raw.txt
  REPEATABLE=no measure "touch data/raw.txt"  "$T" run pipeline.yaml --jobs 1 --quiet
  cd "$here"
  rm -rf "$work"
done
