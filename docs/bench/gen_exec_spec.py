#!/usr/bin/env python3
"""Writes an executable Tailor spec of N trivial data nodes (the executor's overhead benchmark):
one generated dataset, then N/3 chains of take -> filter -> filter.

    python3 docs/bench/gen_exec_spec.py 1000 /tmp/big/big.yaml
"""
import sys

n, path = int(sys.argv[1]), sys.argv[2]
chains = max(1, (n - 1) // 3)
lines = ["tailor: 1", "name: big", "seed: 1", "data:", "  base: { generate: addition, count: 200 }"]
for i in range(chains):
    lines.append(f"  t{i}: {{ from: base, take: {i % 199 + 1} }}")
    lines.append(f"  f{i}: {{ from: t{i}, filter: {{ min_chars: {i % 5} }} }}")
    lines.append(f"  g{i}: {{ from: f{i}, filter: {{ max_chars: {100 + i} }} }}")
open(path, "w").write("\n".join(lines) + "\n")
print(f"{1 + 3 * chains} nodes -> {path}")
