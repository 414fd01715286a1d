#!/usr/bin/env bash
# Executor overhead on N trivial data nodes (release build): full run, no-op rerun, plan with
# status on the built cache, a one-parameter change. Wall and CPU seconds from /usr/bin/time,
# three no-op reruns.
#
#   bash docs/bench/exec-bench.sh [N]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$here"
swift build -c release --product tailor >/dev/null
T=$here/.build/release/tailor
python3 docs/bench/gen_exec_spec.py "$n" "$work/big.yaml"
cd "$work"
echo "== $(date -u +%FT%TZ) $(nproc) cores"
t() { /usr/bin/time -f "$1: %e s wall, %U+%S s CPU" "${@:2}" >/dev/null; }
t "full run" "$T" run big.yaml --quiet
for i in 1 2 3; do t "no-op rerun" "$T" run big.yaml --quiet; done
t "check only" "$T" check big.yaml
t "plan with status" "$T" plan big.yaml
t "one change (rerun)" "$T" run big.yaml --quiet --set data.f1.filter.min_chars=9
