"""PyTorch + TRL reference for preference-training throughput on CPU: one DPO step
or one reward-model step on a randomly initialised GPT-2, timed per optimizer step.

Cases (run one per process so the peak RSS belongs to that case alone):
  dpo              TRL DPOTrainer, sigmoid loss, beta 0.1; the reference model is the
                   frozen copy TRL builds itself (ref_model=None, no PEFT), so each step
                   runs policy forward+backward and a no-grad reference forward.
  dpo-precomputed  the same with precompute_ref_log_probs=True: TRL scores the whole
                   training set with the reference weights once, before training (its
                   time is reported as precompute_s), and the steps read the stored
                   log-probs; no reference model is kept.
  reward           TRL RewardTrainer on GPT2ForSequenceClassification (num_labels 1):
                   Bradley-Terry loss -logsigmoid(r_chosen - r_rejected), no extra terms
                   (center_rewards_coefficient left at its default, None).

Data: B*(warmup+steps) synthetic pairs drawn from a seeded RNG. TRL only accepts text
for DPO, so the script builds a word-level tokenizer in memory (no downloads): each
word "w<id>" is one token, so a prompt of P words and answers of A words tokenize to
exactly P and A tokens, and TRL appends one EOS to every answer. Every sequence is
therefore prompt+answer+eos = P+A+1 tokens, with no padding and no truncation.

Precision: float32 everywhere. TRL 1.16's configs default to bf16=True and
gradient_checkpointing=True (trl/trainer/base_config.py); both are switched off here
unless --bf16 / --gradient-checkpointing are given. Other settings stay at the
TRL/transformers defaults: AdamW (adamw_torch_fused), linear LR decay, no warmup,
weight decay 0, gradient clipping at norm 1.0.

Timing: a TrainerCallback stamps time.perf_counter() at on_step_begin and on_step_end.
"step" = begin->end (forward, backward, clipping, optimizer; the batch is already
collated); "wall" = end->end of consecutive steps (adds data loading/collation and
the trainer's per-step bookkeeping). The first --warmup steps are dropped.
Tokens per step = 2 * batch * (P + A + 1): chosen and rejected sequences, each counted
once, although DPO also runs them through the reference model (dpo case).

    ~/.cache/perfbench/venv-torch/bin/python docs/bench/trl_preference.py --case dpo --threads 2
Prints one JSON line on stdout.
"""
import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import warnings

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--case", required=True, choices=["dpo", "dpo-precomputed", "reward"])
p.add_argument("--config", default="S", choices=["S", "M", "smollm2"],
               help="smollm2: SmolLM2-135M-Instruct read from models/smollm2's GGUF (dequantized by transformers), "
                    "LoRA r8/alpha 16 on q_proj and v_proj through PEFT, the reference being the base with the adapter disabled")
p.add_argument("--batch", type=int, default=16, help="preference pairs per optimizer step")
p.add_argument("--steps", type=int, default=20, help="timed steps")
p.add_argument("--warmup", type=int, default=2, help="untimed steps before them")
p.add_argument("--prompt-tokens", type=int, default=48)
p.add_argument("--answer-tokens", type=int, default=16, help="tokens per answer, before EOS")
p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
p.add_argument("--bf16", action="store_true", help="TRL's default autocast instead of float32")
p.add_argument("--gradient-checkpointing", action="store_true", help="TRL's default, off here")
args = p.parse_args()

# Keep the run offline and quiet; set before importing the libraries.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("WANDB_DISABLED", "true")
warnings.filterwarnings("ignore")

import torch  # noqa: E402
import transformers  # noqa: E402
import trl  # noqa: E402
from datasets import Dataset  # noqa: E402
from tokenizers import Tokenizer, models, pre_tokenizers  # noqa: E402
from transformers import (GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel,  # noqa: E402
                          PreTrainedTokenizerFast, TrainerCallback)
from trl import DPOConfig, DPOTrainer, RewardConfig, RewardTrainer  # noqa: E402

transformers.logging.set_verbosity_error()
torch.set_num_threads(args.threads)

# Reference shapes: vocab, context, width, layers, heads (SmolLM2's from its config).
SHAPES = {"S": (512, 128, 128, 4, 4), "M": (4096, 256, 384, 6, 6), "smollm2": (49152, 8192, 576, 30, 9)}
vocab, ctx, d, n_layer, n_head = SHAPES[args.config]
GGUF_DIR, GGUF_FILE = "models/smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
assert args.config != "smollm2" or args.case != "reward", "the SmolLM2 case is DPO with LoRA"
P, A = args.prompt_tokens, args.answer_tokens
seq_len = P + A + 1
assert seq_len <= ctx, f"P+A+1 = {seq_len} exceeds the {ctx}-token context of config {args.config}"

# --- Tokenizer: ids 0-2 are special, every other id is the word "w<id>". ----------
SPECIAL = ["<pad>", "<eos>", "<unk>"]
word_vocab = {t: i for i, t in enumerate(SPECIAL)}
word_vocab.update({f"w{i}": i for i in range(len(SPECIAL), vocab)})
core = Tokenizer(models.WordLevel(vocab=word_vocab, unk_token="<unk>"))
core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
tok = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")
PAD, EOS = tok.pad_token_id, tok.eos_token_id

# --- Synthetic pairs. TRL joins prompt + answer as strings, so answers start with a
# space; "<eos>" is a registered special token, so "w7<eos>" still splits in two. ---
n_steps = args.warmup + args.steps
n_pairs = args.batch * n_steps  # exactly one epoch, every batch full
rng = random.Random(0)


def words(n):
    return " ".join(f"w{rng.randrange(len(SPECIAL), vocab)}" for _ in range(n))


rows = {"prompt": [], "chosen": [], "rejected": []}
for _ in range(n_pairs):
    rows["prompt"].append(words(P))
    rows["chosen"].append(" " + words(A))
    rows["rejected"].append(" " + words(A))
dataset = Dataset.from_dict(rows)
# Check the claim above: the joined text is P+A tokens, EOS still to be added by TRL.
assert len(tok(rows["prompt"][0] + rows["chosen"][0]).input_ids) == P + A

# --- Model: GPT-2, random init, tied embeddings, no dropout. ------------------------
def gpt2_config(**extra):
    return GPT2Config(vocab_size=vocab, n_positions=ctx, n_embd=d, n_layer=n_layer, n_head=n_head,
                      resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, summary_first_dropout=0.0,
                      tie_word_embeddings=True, bos_token_id=EOS, eos_token_id=EOS, pad_token_id=PAD,
                      **extra)


torch.manual_seed(0)


# --- Step timer. ----------------------------------------------------------------------
class StepTimer(TrainerCallback):
    def __init__(self):
        self.begin, self.end = [], []

    def on_step_begin(self, targs, state, control, **kw):
        self.begin.append(time.perf_counter())

    def on_step_end(self, targs, state, control, **kw):
        self.end.append(time.perf_counter())


# Settings shared by both TRL configs: no eval, no checkpoints, no external loggers.
common = dict(
    per_device_train_batch_size=args.batch, max_steps=n_steps, learning_rate=1e-4,
    num_train_epochs=1, eval_strategy="no", save_strategy="no", logging_strategy="no",
    report_to=[], use_cpu=True, dataloader_num_workers=0, seed=0, data_seed=0,
    bf16=args.bf16, gradient_checkpointing=args.gradient_checkpointing,
    max_length=seq_len, disable_tqdm=True, remove_unused_columns=True,
)

timer = StepTimer()
precompute_s = None
with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    if args.case in ("dpo", "dpo-precomputed"):
        # TRL builds the reference model by reloading the policy's checkpoint path
        # (DPOTrainer.__init__ -> create_model_from_path(config._name_or_path)), so the
        # random policy is saved once and loaded back from disk.
        peft_config = None
        if args.config == "smollm2":
            from peft import LoraConfig
            from transformers import AutoModelForCausalLM
            # Dequantized to float32 on load (as Tailor holds it). transformers still marks the
            # model as GGUF-quantized and refuses to train it; its weights are plain float32
            # tensors, so the mark is cleared.
            model = AutoModelForCausalLM.from_pretrained(GGUF_DIR, gguf_file=GGUF_FILE, torch_dtype=torch.float32)
            model.is_quantized, model.hf_quantizer = False, None
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            assert all(p.dtype == torch.float32 for p in model.parameters())
            model.config.pad_token_id = PAD
            peft_config = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
        else:
            GPT2LMHeadModel(gpt2_config()).save_pretrained(os.path.join(tmp, "init"))
            model = GPT2LMHeadModel.from_pretrained(os.path.join(tmp, "init"))

        class TimedDPO(DPOTrainer):
            # Times the one-off reference pass that precompute_ref_log_probs=True runs
            # inside __init__ (DPOTrainer._precompute_ref_logps).
            def _precompute_ref_logps(self, *a, **kw):
                global precompute_s
                t = time.perf_counter()
                out = super()._precompute_ref_logps(*a, **kw)
                precompute_s = (precompute_s or 0.0) + time.perf_counter() - t
                return out

        cfg = DPOConfig(output_dir=os.path.join(tmp, "out"), beta=0.1, loss_type="sigmoid",
                        precompute_ref_log_probs=args.case == "dpo-precomputed", **common)
        trainer = TimedDPO(model=model, ref_model=None, args=cfg, train_dataset=dataset,
                           processing_class=tok, callbacks=[timer], peft_config=peft_config)
        has_ref_model = trainer.ref_model is not None
    else:
        model = GPT2ForSequenceClassification(gpt2_config(num_labels=1))
        cfg = RewardConfig(output_dir=os.path.join(tmp, "out"), **common)
        trainer = RewardTrainer(model=model, args=cfg, train_dataset=dataset,
                                processing_class=tok, callbacks=[timer])
        has_ref_model = False
    setup_s = time.perf_counter() - t0
    # Keep stdout to the one JSON line: drop the callback that prints the final train log.
    trainer.remove_callback(transformers.trainer_callback.PrinterCallback)

    # Sanity: TRL kept every pair and every sequence is seq_len tokens, unpadded.
    batch = next(iter(trainer.get_train_dataloader()))
    assert len(trainer.train_dataset) == n_pairs, len(trainer.train_dataset)
    assert tuple(batch["input_ids"].shape) == (2 * args.batch, seq_len), tuple(batch["input_ids"].shape)
    assert bool(batch["attention_mask"].all())

    t0 = time.perf_counter()
    result = trainer.train()
    train_s = time.perf_counter() - t0

assert len(timer.begin) == len(timer.end) == n_steps, (len(timer.begin), len(timer.end))
step = [e - b for b, e in zip(timer.begin, timer.end)][args.warmup:]
wall = [timer.end[i] - timer.end[i - 1] for i in range(max(args.warmup, 1), n_steps)]


def peak_rss_mb():
    # VmHWM: this process's peak resident set size, in kB.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


tokens_per_step = 2 * args.batch * seq_len
med = statistics.median(step)
print(json.dumps({
    "case": args.case,
    "config": args.config,
    "shape": {"vocab": vocab, "ctx": ctx, "d": d, "layers": n_layer, "heads": n_head,
              "params": sum(t.numel() for t in trainer.model.parameters()),  # tied weights once
              # the LM head shares the embedding matrix (the reward model has a score head instead)
              "tied": trainer.model.get_output_embeddings().weight is trainer.model.get_input_embeddings().weight
              if trainer.model.get_output_embeddings() is not None else None,
              "trainable": sum(t.numel() for t in trainer.model.parameters() if t.requires_grad)},
    "batch": args.batch,
    "prompt_tokens": P,
    "answer_tokens": A,
    "seq_tokens": seq_len,
    "warmup": args.warmup,
    "steps_timed": len(step),
    "median_s": round(med, 5),
    "mean_s": round(statistics.mean(step), 5),
    "min_s": round(min(step), 5),
    "wall_median_s": round(statistics.median(wall), 5) if wall else None,
    "pairs_per_s": round(args.batch / med, 2),
    "tokens_per_s": round(tokens_per_step / med, 1),
    "tokens_counted": "2*batch*(P+A+1) per step",
    "setup_s": round(setup_s, 3),
    "precompute_s": None if precompute_s is None else round(precompute_s, 3),
    "train_s": round(train_s, 3),
    "train_loss": round(result.training_loss, 4),
    "ref_model_in_memory": has_ref_model,
    "bf16": args.bf16,
    "gradient_checkpointing": args.gradient_checkpointing,
    "optim": str(cfg.optim.value if hasattr(cfg.optim, "value") else cfg.optim),
    "max_grad_norm": cfg.max_grad_norm,
    "peak_rss_mb": peak_rss_mb(),
    "threads": torch.get_num_threads(),
    "torch": torch.__version__,
    "trl": trl.__version__,
    "transformers": transformers.__version__,
    "python": sys.version.split()[0],
}))
