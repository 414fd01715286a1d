"""Writes a spec whose sweep expands to about N plan nodes (for `make bench`).

Each variant adds 3 nodes of its own (a LoRA model, its eval, the eval report)
on top of a shared upstream of 8 nodes, so N nodes need (N - 8) / 3 variants,
spread over a grid of ranks (at most 100) and learning rates.
"""
import sys

target = int(sys.argv[1])
variants = max(1, (target - 8) // 3)
lrs = -(-variants // 100)
grid_ranks = list(range(1, -(-variants // lrs) + 1))
grid_lrs = [f"{(i + 1) * 1e-5:.5g}" for i in range(lrs)]
print(f"""tailor: 1
name: bench-{target}
seed: 1
data:
  corpus: {{ generate: stories, count: 1000 }}
  skill:  {{ generate: reverse, count: 1000 }}
  parts:  {{ from: skill, split: {{ train: 0.9, test: 0.1 }} }}
tokenizers:
  bpe: {{ train: {{ from: corpus, vocab: 512 }} }}
models:
  base:
    arch: gpt2
    size: {{ layers: 2, width: 64, heads: 2, context: 32 }}
    tokenizer: bpe
    pretrain: {{ data: corpus, steps: 10 }}
  tuned:
    from: base
    lora: {{ rank: 4 }}
    train: {{ data: parts.train, steps: 10, lr: 1e-4 }}
evals:
  e: {{ models: [tuned], data: parts.test, metrics: [loss] }}
sweep:
  models.tuned.lora.rank: [{", ".join(map(str, grid_ranks))}]
  models.tuned.train.lr: [{", ".join(grid_lrs)}]
""")
