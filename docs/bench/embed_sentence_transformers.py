"""sentence-transformers reference for sentence-embedding throughput on CPU: all-MiniLM-L6-v2
(6-layer BERT, 384 wide, mean pooling, L2 normalisation) in float32, read from the local
folder models/all-MiniLM-L6-v2 (HF_HUB_OFFLINE=1, nothing is fetched).

Input: --texts FILE, JSONL with a "text" field per line; the first --limit lines (all by
default). One untimed warm-up call on the first 64 texts, then --repeats timed calls of
    model.encode(texts, batch_size=--batch-size, normalize_embeddings=True,
                 convert_to_numpy=True, show_progress_bar=False)
over all of them, each timed with time.perf_counter() around the call. chunks_per_s =
texts / seconds for each run; the median run is the headline. One call includes
everything encode does: tokenizing each batch (fast tokenizer, TOKENIZERS_PARALLELISM=false
so on one thread), the forward pass, mean pooling, normalisation and the copy to numpy.

Batching as sentence-transformers does it: encode orders the texts by character length,
longest first (numpy.argsort of -len(text)), cuts that order into batches of --batch-size,
pads each batch to its longest member (truncated at max_seq_length = 256 tokens for this
model) and returns the rows in input order. The JSON reports the real token count per
text (mean_tokens, [CLS] and [SEP] included, truncated at max_seq_length, counted with the
model's own tokenizer), how many texts were cut by truncation, and padded_tokens_per_text,
the batch rows times the batch's longest length summed over that same batching, i.e. the
positions the model actually computes.

Threads: torch.set_num_threads(--threads) (intra-op); reported as torch.get_num_threads().

--out FILE writes the embeddings of the last timed run as raw little-endian float32, row
after row in input order (texts x 384), for comparison with another implementation.
--make-sample FILE writes a seeded synthetic corpus (--sample-count passages of 30-80
words from a fixed English word list, random.Random(--seed)) and exits.

    python3 -m venv ~/.cache/perfbench/venv-torch
    ~/.cache/perfbench/venv-torch/bin/python -m pip install \
        /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl sentence-transformers
    (a CPU-only torch wheel; plain `pip install sentence-transformers` brings PyPI's torch,
    which also pulls the CUDA libraries)
    ~/.cache/perfbench/venv-torch/bin/python docs/bench/embed_sentence_transformers.py \
        --make-sample /tmp/passages.jsonl --sample-count 2000
    ~/.cache/perfbench/venv-torch/bin/python docs/bench/embed_sentence_transformers.py \
        --texts /tmp/passages.jsonl --threads 2
Prints one JSON line on stdout.
"""
import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time
import warnings

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--texts", help="JSONL file, one {\"text\": ...} per line")
p.add_argument("--limit", type=int, default=None, help="use the first N lines (default all)")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
p.add_argument("--model", default=os.path.join(REPO, "models", "all-MiniLM-L6-v2"),
               help="local sentence-transformers folder (default: the repo's models/all-MiniLM-L6-v2)")
p.add_argument("--batch-size", type=int, default=32)
p.add_argument("--repeats", type=int, default=3, help="timed runs over all texts")
p.add_argument("--warmup-texts", type=int, default=64, help="texts in the untimed warm-up call")
p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
p.add_argument("--out", metavar="FILE", help="write the embeddings as raw float32, row after row")
p.add_argument("--make-sample", metavar="FILE", help="write a synthetic JSONL corpus and exit")
p.add_argument("--sample-count", type=int, default=2000)
p.add_argument("--seed", type=int, default=0)
args = p.parse_args()

# A few hundred common English words; passages are drawn from them with a seeded RNG.
WORDS = """
the of and to in is was for on that with as by at from his her it an were are which this
be or has had not but have they one their first new also after two who its been other
more time into only during would over most city year some world when can there three
state school system part people used between many later under such while then him them
where years all known made national early group because since well both through about
water power film music team game house book river road train light paper market model
data value number point level place home work life day night week month change order
small large long short high low good great old young public local general common free
open simple strong clear early late full hard real true whole ready quick bright quiet
build write read learn teach speak hear watch find keep hold bring carry move turn start
stop begin end show tell ask answer follow lead grow fall rise stand sit walk run drive
fly swim send receive choose decide explain describe measure compare test check store
north south east west center edge line field garden forest island valley mountain ocean
coast bridge tower street station village county region country border harbor airport
engine machine signal network record report letter story history science language art
teacher student doctor farmer worker writer player leader member family friend child
morning evening summer winter spring autumn weather storm rain snow wind cloud sun moon
""".split()


def make_sample(path, count):
    rng = random.Random(args.seed)
    with open(path, "w") as f:
        for i in range(count):
            sentences, left = [], rng.randint(30, 80)
            while left > 0:
                m = min(left, rng.randint(6, 16))
                s = " ".join(rng.choice(WORDS) for _ in range(m))
                sentences.append(s[0].upper() + s[1:] + ".")
                left -= m
            f.write(json.dumps({"id": i, "text": " ".join(sentences)}) + "\n")


if args.make_sample:
    make_sample(args.make_sample, args.sample_count)
    print(json.dumps({"wrote": args.make_sample, "passages": args.sample_count, "seed": args.seed}))
    sys.exit(0)
if not args.texts:
    p.error("--texts is required (or --make-sample)")

# Offline and quiet; set before importing the libraries.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
import sentence_transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

transformers.logging.set_verbosity_error()
torch.set_num_threads(args.threads)

texts = []
with open(args.texts) as f:
    for line in f:
        if args.limit is not None and len(texts) >= args.limit:
            break
        if line.strip():
            texts.append(json.loads(line)["text"])
assert texts, f"no texts in {args.texts}"

t0 = time.perf_counter()
model = SentenceTransformer(args.model, device="cpu")
model = model.to(torch.float32)
load_s = time.perf_counter() - t0
assert all(t.dtype == torch.float32 for t in model.parameters())
max_len = model.max_seq_length
tok = model.tokenizer

# Token counts with the model's tokenizer: real lengths, then the padded batches encode builds.
lengths = np.array([len(ids) for ids in tok(texts, truncation=True, max_length=max_len)["input_ids"]])
untruncated = np.array([len(ids) for ids in tok(texts, truncation=False)["input_ids"]])
order = np.argsort([-len(t) for t in texts])  # the same call as SentenceTransformer.encode
if getattr(model, "_can_flatten_inputs", lambda: False)():
    order = model._interleave_sorted_indices(order)  # not taken on CPU; kept for fidelity
padded = sum(len(b) * int(lengths[b].max()) for b in
             (order[i:i + args.batch_size] for i in range(0, len(texts), args.batch_size)))

enc = dict(batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
model.encode(texts[:args.warmup_texts], **enc)

runs = []
emb = None
for _ in range(args.repeats):
    t0 = time.perf_counter()
    emb = model.encode(texts, **enc)
    runs.append(time.perf_counter() - t0)
assert emb.shape == (len(texts), model.get_sentence_embedding_dimension()) and emb.dtype == np.float32

if args.out:
    np.ascontiguousarray(emb, dtype="<f4").tofile(args.out)


def peak_rss_mb():
    # VmHWM: this process's peak resident set size, in kB.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return None


med = statistics.median(runs)
hf = model[0].auto_model
print(json.dumps({
    "bench": "embed_sentence_transformers",
    "model": os.path.basename(os.path.normpath(args.model)),
    "texts": len(texts),
    "texts_file": args.texts,
    "batch_size": args.batch_size,
    "max_seq_length": max_len,
    "embedding_dim": int(emb.shape[1]),
    "mean_tokens": round(float(lengths.mean()), 2),
    "min_tokens": int(lengths.min()),
    "max_tokens": int(lengths.max()),
    "truncated_texts": int((untruncated > max_len).sum()),
    "padded_tokens_per_text": round(padded / len(texts), 2),
    "tokens_counted": "with [CLS] and [SEP], after truncation at max_seq_length",
    "warmup_texts": min(args.warmup_texts, len(texts)),
    "run_s": [round(r, 4) for r in runs],
    "chunks_per_s": [round(len(texts) / r, 2) for r in runs],
    "median_s": round(med, 4),
    "median_chunks_per_s": round(len(texts) / med, 2),
    "median_tokens_per_s": round(float(lengths.sum()) / med, 1),
    "load_s": round(load_s, 3),
    "dtype": "float32",
    "attn_implementation": getattr(hf.config, "_attn_implementation", None),
    "embeddings_out": args.out,
    "embedding_norm_mean": round(float(np.linalg.norm(emb, axis=1).mean()), 6),
    "peak_rss_mb": peak_rss_mb(),
    "threads": torch.get_num_threads(),
    "torch": torch.__version__,
    "sentence_transformers": sentence_transformers.__version__,
    "transformers": transformers.__version__,
    "numpy": np.__version__,
    "python": sys.version.split()[0],
    "cpu": cpu_model(),
    "cores": os.cpu_count(),
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
}))
