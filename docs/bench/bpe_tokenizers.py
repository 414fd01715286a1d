"""Byte-level BPE training with Hugging Face `tokenizers` on the same texts as
`TailorBench bpe`: /usr/lib/python3.11/*.py, vocabulary 8,192, min frequency 2, GPT-2's
ByteLevel pre-tokenizer. Prints train time (median of 3), encode time and bytes per token.

    PYTHON_WITH_TOKENIZERS docs/bench/bpe_tokenizers.py [--threads N]
"""
import argparse, glob, os, statistics, time

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--folder", default="/usr/lib/python3.11")
args = parser.parse_args()
os.environ["RAYON_NUM_THREADS"] = str(args.threads)  # tokenizers' thread pool; set before import

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

texts = [open(p, encoding="utf-8").read() for p in sorted(glob.glob(args.folder + "/*.py"))]
size = sum(len(t.encode()) for t in texts)
times = []
for _ in range(3):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=8192, min_frequency=2, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    t0 = time.perf_counter()
    tok.train_from_iterator(texts, trainer=trainer)
    times.append(time.perf_counter() - t0)
t0 = time.perf_counter()
ids = sum(len(e.ids) for e in tok.encode_batch(texts))
encode = time.perf_counter() - t0
print(f"tokenizers {args.threads} thread(s): {len(texts)} files, {size / 1e6:.2f} MB, vocab {tok.get_vocab_size()}: "
      f"train {statistics.median(times):.2f} s (median of 3), encode {encode:.2f} s ({size / 1e6 / encode:.1f} MB/s), "
      f"{size / ids:.2f} bytes/token")
