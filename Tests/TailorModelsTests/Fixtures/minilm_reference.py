#!/usr/bin/env python3
"""Independent numpy reference for sentence-transformers/all-MiniLM-L6-v2.

Usage:
    python3 minilm_reference.py MODEL_DIR OUT.json

MODEL_DIR is the Hugging Face snapshot (model.safetensors, config.json,
vocab.txt, tokenizer.json, tokenizer_config.json, sentence_bert_config.json,
1_Pooling/config.json, modules.json).

Requirements: numpy, and the Hugging Face `tokenizers` package
(`pip install tokenizers`), used only to cross-check the tokenizer below.
No safetensors / torch / transformers code is used: the weights file is parsed
here with `struct`, `json` and numpy, the BERT WordPiece tokenizer is written
out by hand, and the encoder runs in float64.

The model is a 6-layer post-LayerNorm BERT encoder (width 384, 12 heads of 32,
GELU FFN 1536, learned absolute positions, token-type embeddings), followed by
mean pooling over the attention mask and L2 normalisation.

What it produces (see README.md in this folder):
  * "config"      -- hyper-parameters read from the model files
  * "file"        -- facts about model.safetensors (dtypes, tensor names)
  * "tensors"     -- a few raw weight values, to test a loader on its own
  * "tokenizer"   -- token ids for a set of texts, from the `tokenizers`
                     library, cross-checked against the WordPiece below
  * "embeddings"  -- ids, normalised embedding and un-normalised pooled norm
                     for a set of sentences, each encoded on its own
  * "similarities"-- their cosine-similarity matrix
  * "batch"       -- the same sentences encoded as one padded batch
  * "long_input"  -- a text longer than max_seq_length (truncation)
  * "float32"     -- how far a float32 forward pass lands from float64
  * "debug"       -- hidden states after each layer for the first sentence
"""

import json
import math
import os
import struct
import sys
import time
import unicodedata

import numpy as np

# ---------------------------------------------------------------------------
# safetensors parsing
# ---------------------------------------------------------------------------

# safetensors dtype names -> little-endian numpy dtypes (only those we may meet).
_SAFETENSORS_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}


def load_safetensors(path):
    """Parse a .safetensors file.

    Layout: an 8-byte little-endian unsigned header length N, then N bytes of
    JSON (name -> {dtype, shape, data_offsets: [begin, end]}, plus an optional
    "__metadata__" entry), then the raw little-endian tensor data. Offsets are
    relative to the first byte after the header.

    Returns (tensors, header, header_len) where tensors maps name -> numpy
    array in the stored dtype.
    """
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    data_start = 8 + header_len

    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = np.dtype(_SAFETENSORS_DTYPES[info["dtype"]])
        begin, end = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        assert end - begin == count * dtype.itemsize, f"{name}: size mismatch"
        arr = np.frombuffer(blob, dtype=dtype, count=count, offset=data_start + begin)
        tensors[name] = arr.reshape(info["shape"])
    return tensors, header, header_len


# ---------------------------------------------------------------------------
# BERT WordPiece tokenizer (BertNormalizer + BertPreTokenizer + WordPiece)
# ---------------------------------------------------------------------------

def _is_control(c):
    """Characters dropped by clean_text: Unicode 'other' categories, except \\t \\n \\r."""
    if c in "\t\n\r":
        return False
    return unicodedata.category(c).startswith("C")  # Cc, Cf, Cs, Co, Cn


def _is_whitespace(c):
    """\\t \\n \\r and anything Unicode calls white space."""
    return c in "\t\n\r" or c.isspace()


def _is_chinese_char(cp):
    """The CJK Unified Ideograph blocks BERT isolates (not Hiragana/Katakana/Hangul)."""
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B920 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def _is_punctuation(c):
    """All ASCII non-alphanumeric printable characters, plus Unicode P* categories.

    Note that ASCII symbols such as $ + < = > ^ ` | ~ count as punctuation
    here even though Unicode puts them in S* categories.
    """
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith("P")


class WordPieceTokenizer:
    """BERT uncased tokenizer, written from the algorithm's description.

    Steps, in the order the Hugging Face `tokenizers` BertNormalizer uses:
      1. split out special tokens written literally in the text ([CLS], ...);
         they are matched case-sensitively on the raw text
      2. clean_text: drop NUL, U+FFFD and control characters; map every
         whitespace character to a space
      3. put spaces around CJK ideographs so each becomes its own word
      4. strip accents: NFD, then drop combining marks (category Mn); this is
         on because strip_accents is unset and lowercase is on
      5. lowercase
      6. split on whitespace, and make every punctuation character a word
      7. WordPiece each word: greedy longest prefix in the vocabulary, the
         following pieces with a "##" prefix; a word that cannot be fully
         covered, or has more than max_input_chars_per_word characters,
         becomes a single [UNK]
      8. truncate to max_length - 2 pieces, then wrap in [CLS] ... [SEP]
    """

    def __init__(self, vocab, max_length, lowercase=True, strip_accents=True,
                 unk="[UNK]", cls="[CLS]", sep="[SEP]", max_chars_per_word=100,
                 special_tokens=("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")):
        self.vocab = vocab
        self.max_length = max_length
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.unk_id = vocab[unk]
        self.cls_id = vocab[cls]
        self.sep_id = vocab[sep]
        self.max_chars_per_word = max_chars_per_word
        self.special_tokens = list(special_tokens)

    # -- normalisation ------------------------------------------------------

    def normalize(self, text):
        out = []
        for c in text:
            if c == "\0" or c == "\ufffd" or _is_control(c):
                continue
            if _is_whitespace(c):
                out.append(" ")
            elif _is_chinese_char(ord(c)):
                out.append(" " + c + " ")
            else:
                out.append(c)
        text = "".join(out)
        if self.strip_accents:
            text = "".join(c for c in unicodedata.normalize("NFD", text)
                           if unicodedata.category(c) != "Mn")
        if self.lowercase:
            text = text.lower()
        return text

    # -- pre-tokenisation ---------------------------------------------------

    @staticmethod
    def split_words(text):
        """Split on whitespace; every punctuation character is a word of its own."""
        words, current = [], []
        for c in text:
            if _is_whitespace(c) or _is_punctuation(c):
                if current:
                    words.append("".join(current))
                    current = []
                if _is_punctuation(c):
                    words.append(c)
            else:
                current.append(c)
        if current:
            words.append("".join(current))
        return words

    # -- WordPiece ----------------------------------------------------------

    def wordpiece(self, word):
        if len(word) > self.max_chars_per_word:
            return [self.unk_id]
        ids, start = [], 0
        while start < len(word):
            end = len(word)
            match = None
            while start < end:  # longest piece first
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    match = self.vocab[piece]
                    break
                end -= 1
            if match is None:
                return [self.unk_id]  # the whole word, not just the rest
            ids.append(match)
            start = end
        return ids

    # -- full pipeline ------------------------------------------------------

    def _split_special(self, text):
        """Yield (segment, is_special) with literal special tokens split out.

        Leftmost match wins; the special tokens here cannot overlap.
        """
        pos = 0
        while pos < len(text):
            best = None
            for tok in self.special_tokens:
                i = text.find(tok, pos)
                if i >= 0 and (best is None or i < best[0]
                               or (i == best[0] and len(tok) > len(best[1]))):
                    best = (i, tok)
            if best is None:
                yield text[pos:], False
                return
            i, tok = best
            if i > pos:
                yield text[pos:i], False
            yield tok, True
            pos = i + len(tok)

    def encode(self, text):
        ids = []
        for segment, special in self._split_special(text):
            if special:
                ids.append(self.vocab[segment])
                continue
            for word in self.split_words(self.normalize(segment)):
                ids.extend(self.wordpiece(word))
        ids = ids[: self.max_length - 2]
        return [self.cls_id] + ids + [self.sep_id]


def load_vocab(path):
    """vocab.txt: one token per line; the line number is the id."""
    with open(path, encoding="utf-8") as f:
        tokens = [line.rstrip("\n") for line in f]
    return {tok: i for i, tok in enumerate(tokens)}, tokens


def build_hf_tokenizer(model_dir, max_length):
    """The reference ids come from `tokenizers` loading tokenizer.json.

    tokenizer.json as shipped pads every input to 128 and truncates at 128;
    sentence-transformers overrides both (no padding for single inputs,
    truncation at max_seq_length = 256), so we do the same.
    """
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_length)
    return tok


# ---------------------------------------------------------------------------
# BERT encoder
# ---------------------------------------------------------------------------

_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x):
    """Exact GELU: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))."""
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(x.dtype))


def layer_norm(x, weight, bias, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)  # biased variance
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def linear(x, weight, bias):
    """PyTorch nn.Linear convention: weight is [out_features, in_features]."""
    return x @ weight.T + bias


class MiniLM:
    def __init__(self, tensors, config, dtype=np.float64):
        self.dtype = dtype
        self.n_layers = config["num_hidden_layers"]
        self.n_heads = config["num_attention_heads"]
        self.hidden = config["hidden_size"]
        self.head_dim = self.hidden // self.n_heads
        self.eps = config["layer_norm_eps"]

        def w(name):
            return tensors[name].astype(dtype)

        self.word = w("embeddings.word_embeddings.weight")
        self.position = w("embeddings.position_embeddings.weight")
        self.token_type = w("embeddings.token_type_embeddings.weight")
        self.emb_ln = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        self.layers = []
        for i in range(self.n_layers):
            p = f"encoder.layer.{i}."
            self.layers.append({k: w(p + v) for k, v in {
                "q_w": "attention.self.query.weight", "q_b": "attention.self.query.bias",
                "k_w": "attention.self.key.weight", "k_b": "attention.self.key.bias",
                "v_w": "attention.self.value.weight", "v_b": "attention.self.value.bias",
                "o_w": "attention.output.dense.weight", "o_b": "attention.output.dense.bias",
                "ln1_w": "attention.output.LayerNorm.weight", "ln1_b": "attention.output.LayerNorm.bias",
                "i_w": "intermediate.dense.weight", "i_b": "intermediate.dense.bias",
                "f_w": "output.dense.weight", "f_b": "output.dense.bias",
                "ln2_w": "output.LayerNorm.weight", "ln2_b": "output.LayerNorm.bias",
            }.items()})
        # pooler.dense.* is in the file but sentence-transformers does not use it.

    def forward(self, ids, mask, trace=None):
        """ids, mask: int arrays [batch, seq]. Returns hidden states [batch, seq, hidden].

        Positions are 0..seq-1 for every row (padding is on the right), token
        type ids are all 0. Padded keys are excluded from attention; padded
        query rows are computed but never used by the pooling.
        """
        B, T = ids.shape
        H, D = self.n_heads, self.head_dim
        x = self.word[ids] + self.position[:T][None] + self.token_type[0][None, None]
        x = layer_norm(x, *self.emb_ln, self.eps)
        if trace is not None:
            trace.append(x)

        key_ok = mask.astype(bool)[:, None, None, :]  # [B, 1, 1, T] over keys
        for L in self.layers:
            def heads(t):  # [B, T, hidden] -> [B, H, T, D]
                return t.reshape(B, T, H, D).transpose(0, 2, 1, 3)

            q = heads(linear(x, L["q_w"], L["q_b"]))
            k = heads(linear(x, L["k_w"], L["k_b"]))
            v = heads(linear(x, L["v_w"], L["v_b"]))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(D)  # [B, H, T, T]
            scores = np.where(key_ok, scores, -np.inf)
            scores = scores - scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(B, T, H * D)

            x = layer_norm(x + linear(ctx, L["o_w"], L["o_b"]), L["ln1_w"], L["ln1_b"], self.eps)
            ff = linear(gelu(linear(x, L["i_w"], L["i_b"])), L["f_w"], L["f_b"])
            x = layer_norm(x + ff, L["ln2_w"], L["ln2_b"], self.eps)
            if trace is not None:
                trace.append(x)
        return x

    def embed(self, batch_ids, trace=None):
        """Token id lists -> (normalised embeddings [B, hidden], pooled L2 norms [B]).

        The inputs are right-padded with id 0 ([PAD]) into one batch.
        """
        T = max(len(s) for s in batch_ids)
        ids = np.zeros((len(batch_ids), T), dtype=np.int64)
        mask = np.zeros((len(batch_ids), T), dtype=np.int64)
        for b, s in enumerate(batch_ids):
            ids[b, : len(s)] = s
            mask[b, : len(s)] = 1
        hidden = self.forward(ids, mask, trace)

        # Mean pooling over real tokens (sentence-transformers clamps the count at 1e-9).
        m = mask[:, :, None].astype(self.dtype)
        pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        # L2 normalisation (torch.nn.functional.normalize, eps 1e-12).
        norms = np.linalg.norm(pooled, axis=1)
        return pooled / np.maximum(norms, 1e-12)[:, None], norms


# ---------------------------------------------------------------------------
# Fixture contents
# ---------------------------------------------------------------------------

TOKENIZER_TEXTS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "Héllo WÖRLD, naïve café!",
    "Wait... what?!? (yes) -- [really] {ok} \"quoted\" 'single' $5.00 @user #tag",
    "In 2024, 3.14159 and 1,000,000 people paid $42.50 for 7x24 support.",
    "日本語のテキスト",
    "I love pizza 🍕🍕 and 👍🏽 emoji ❤️ and 👨‍👩‍👧",
    "unbelievably " + "supercalifragilisticexpialidocious" * 4 + " antidisestablishmentarianism",
    "  leading   spaces\tand\t\ttabs\nand\r\nnewlines   ",
    "",
    "Tokens like [CLS] and [MASK] written in the text, but not [cls].",
    "Ångström Straße Ελληνικά Русский العربية हिन्दी 한국어",
    "don't can't it's O'Neil e-mail state-of-the-art",
]

SENTENCES = [
    "A man is playing a guitar.",
    "Someone is strumming a guitar.",
    "The cat sits on the mat.",
    "A cat is sitting on a rug.",
    "The stock market fell sharply today.",
    "Quantum computers use qubits.",
    "Héllo WÖRLD, naïve café!",
    "I am going to the bank to deposit my paycheck this afternoon.",
]

PARAPHRASE_PAIRS = [(0, 1), (2, 3)]
UNRELATED_PAIRS = [(0, 4), (0, 5), (2, 4), (2, 5), (4, 5), (1, 3)]

# Longer than 256 tokens, so truncation decides the embedding.
LONG_TEXT = " ".join(f"sentence number {i} talks about apples and oranges." for i in range(60))


def r(x, digits=7):
    """Round to `digits` significant digits (keeps the JSON small and stable)."""
    return float(f"{float(x):.{digits}g}")


def to_json(obj, indent=""):
    """JSON with one key per line; lists of numbers stay on one line, a matrix is one row a line."""
    inner = indent + "  "
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {to_json(v, inner)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(obj, list) and obj and all(isinstance(v, (dict, list)) for v in obj):
        return "[\n" + ",\n".join(inner + to_json(v, inner) for v in obj) + "\n" + indent + "]"
    return json.dumps(obj, ensure_ascii=False)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    model_dir, out_path = sys.argv[1], sys.argv[2]
    t0 = time.time()

    # -- configuration ------------------------------------------------------

    def read_json(*parts):
        with open(os.path.join(model_dir, *parts), encoding="utf-8") as f:
            return json.load(f)

    cfg = read_json("config.json")
    tok_cfg = read_json("tokenizer_config.json")
    st_cfg = read_json("sentence_bert_config.json")
    pool_cfg = read_json("1_Pooling", "config.json")
    modules = read_json("modules.json")
    assert cfg["hidden_act"] == "gelu" and cfg["position_embedding_type"] == "absolute"
    assert pool_cfg["pooling_mode_mean_tokens"] and not pool_cfg["pooling_mode_cls_token"]
    assert [m["type"].rsplit(".", 1)[-1] for m in modules] == ["Transformer", "Pooling", "Normalize"]

    max_length = st_cfg["max_seq_length"]
    lowercase = tok_cfg["do_lower_case"]
    # strip_accents = None means "follow lowercase" in both BertTokenizer and BertNormalizer.
    strip_accents = lowercase if tok_cfg.get("strip_accents") is None else tok_cfg["strip_accents"]

    config = {
        "architecture": cfg["architectures"][0],
        "vocab_size": cfg["vocab_size"],
        "hidden_size": cfg["hidden_size"],
        "num_hidden_layers": cfg["num_hidden_layers"],
        "num_attention_heads": cfg["num_attention_heads"],
        "head_dim": cfg["hidden_size"] // cfg["num_attention_heads"],
        "intermediate_size": cfg["intermediate_size"],
        "hidden_act": "gelu (exact, erf)",
        "layer_norm_eps": cfg["layer_norm_eps"],
        "max_position_embeddings": cfg["max_position_embeddings"],
        "type_vocab_size": cfg["type_vocab_size"],
        "token_type_id": 0,
        "max_seq_length": max_length,
        "do_lower_case": lowercase,
        "strip_accents": strip_accents,
        "tokenize_chinese_chars": tok_cfg["tokenize_chinese_chars"],
        "max_input_chars_per_word": 100,
        "continuing_subword_prefix": "##",
        "pad_token_id": cfg["pad_token_id"],
        "unk_token_id": None,  # filled in below from the vocabulary
        "cls_token_id": None,
        "sep_token_id": None,
        "pooling": "mean over attention mask",
        "normalize": "L2",
        "embedding_dim": pool_cfg["word_embedding_dimension"],
    }

    # -- weights ------------------------------------------------------------

    tensors, header, header_len = load_safetensors(os.path.join(model_dir, "model.safetensors"))
    dtype_counts = {}
    for name, info in header.items():
        if name != "__metadata__":
            dtype_counts[info["dtype"]] = dtype_counts.get(info["dtype"], 0) + 1
    file_info = {
        "header_length": header_len,
        "data_start": 8 + header_len,
        "metadata": header.get("__metadata__", {}),
        "tensor_count": len(tensors),
        "dtype_counts": dtype_counts,
        "name_prefixes": sorted({n.split(".")[0] + "." for n in tensors}),
        "unused_tensors": ["embeddings.position_ids (I64 [1, 512], 0..511)",
                           "pooler.dense.weight", "pooler.dense.bias"],
    }
    assert np.array_equal(tensors["embeddings.position_ids"][0], np.arange(512))

    def tensor_summary(name):
        t = tensors[name].astype(np.float64)
        flat = t.reshape(t.shape[0], -1) if t.ndim > 1 else t[None]
        return {
            "name": name,
            "dtype": header[name]["dtype"],
            "shape": header[name]["shape"],
            "row0_first8": [r(v) for v in flat[0, :8]],
            "last_row_last8": [r(v) for v in flat[-1, -8:]],
            "sum": r(t.sum()),
        }

    tensor_info = [tensor_summary(n) for n in [
        "embeddings.word_embeddings.weight",
        "embeddings.position_embeddings.weight",
        "embeddings.token_type_embeddings.weight",
        "embeddings.LayerNorm.weight",
        "encoder.layer.0.attention.self.query.weight",
        "encoder.layer.0.intermediate.dense.weight",
        "encoder.layer.5.output.dense.weight",
        "encoder.layer.5.output.LayerNorm.bias",
    ]]

    # -- tokenizer ----------------------------------------------------------

    vocab, vocab_tokens = load_vocab(os.path.join(model_dir, "vocab.txt"))
    assert len(vocab_tokens) == cfg["vocab_size"]
    with open(os.path.join(model_dir, "tokenizer.json"), encoding="utf-8") as f:
        assert json.load(f)["model"]["vocab"] == vocab, "vocab.txt and tokenizer.json disagree"
    config["unk_token_id"] = vocab["[UNK]"]
    config["cls_token_id"] = vocab["[CLS]"]
    config["sep_token_id"] = vocab["[SEP]"]

    own = WordPieceTokenizer(vocab, max_length, lowercase=lowercase, strip_accents=strip_accents)
    hf = build_hf_tokenizer(model_dir, max_length)

    def tokenize(text):
        """ids from `tokenizers`; also report whether our WordPiece agrees."""
        ids = hf.encode(text).ids
        own_ids = own.encode(text)
        return ids, own_ids == ids, own_ids

    tok_cases, all_agree = [], True
    for text in TOKENIZER_TEXTS + [LONG_TEXT]:
        ids, agrees, own_ids = tokenize(text)
        all_agree &= agrees
        if not agrees:
            print(f"WordPiece disagrees on {text!r}:\n  hf  {ids}\n  own {own_ids}")
        case = {"text": text, "ids": ids, "tokens": [vocab_tokens[i] for i in ids],
                "own_wordpiece_agrees": agrees}
        if text == LONG_TEXT:
            case["note"] = "truncated to max_seq_length (256 ids including [CLS] and [SEP])"
            del case["tokens"]
        tok_cases.append(case)
    print(f"[{time.time() - t0:.1f}s] tokenizer: own WordPiece agrees on all texts: {all_agree}")

    # -- embeddings, one sentence at a time --------------------------------

    model = MiniLM(tensors, cfg)
    sent_ids = []
    for s in SENTENCES:
        ids, agrees, _ = tokenize(s)
        assert agrees
        sent_ids.append(ids)

    single = []
    trace = []
    for i, ids in enumerate(sent_ids):
        emb, norm = model.embed([ids], trace if i == 0 else None)
        single.append((emb[0], norm[0]))
    E = np.stack([e for e, _ in single])
    sims = E @ E.T
    print(f"[{time.time() - t0:.1f}s] embeddings (one by one)")

    embeddings = [{
        "text": s,
        "ids": ids,
        "pooled_l2_norm": r(n),
        "embedding": [r(v) for v in e],
    } for s, ids, (e, n) in zip(SENTENCES, sent_ids, single)]

    def pair_list(pairs):
        return [{"a": SENTENCES[i], "b": SENTENCES[j], "cosine": r(sims[i, j])} for i, j in pairs]

    # -- the same sentences as one padded batch ----------------------------

    E_batch, norms_batch = model.embed(sent_ids)
    batch_diff = float(np.abs(E_batch - E).max())
    norm_diff = float(np.abs(norms_batch - np.array([n for _, n in single])).max())
    assert batch_diff < 1e-10, batch_diff
    print(f"[{time.time() - t0:.1f}s] batch: max |padded batch - one by one| = {batch_diff:.3g}")

    # -- truncation --------------------------------------------------------

    long_ids, long_agrees, _ = tokenize(LONG_TEXT)
    assert len(long_ids) == max_length and long_agrees
    long_emb, long_norm = model.embed([long_ids])
    print(f"[{time.time() - t0:.1f}s] long input ({len(long_ids)} ids)")

    # -- float32 forward pass, for tolerances -------------------------------

    model32 = MiniLM(tensors, cfg, dtype=np.float32)
    E32, _ = model32.embed(sent_ids)
    E32 = E32.astype(np.float64)
    f32_diff = float(np.abs(E32 - E).max())
    f32_cos = float(np.abs(E32 @ E32.T - sims).max())
    del model32
    print(f"[{time.time() - t0:.1f}s] float32: max |f32 - f64| = {f32_diff:.3g}")

    # -- debug trace for the first sentence --------------------------------

    debug = {
        "text": SENTENCES[0],
        "note": ("hidden states of the first sentence (batch of one): 'embeddings' is after the "
                 "embedding LayerNorm, then one entry per encoder layer; first8 is the first 8 "
                 "values at position 0 ([CLS]), l2 the Frobenius norm over all positions"),
        "states": [{"after": "embeddings" if k == 0 else f"layer {k - 1}",
                    "cls_first8": [r(v) for v in h[0, 0, :8]],
                    "l2": r(np.linalg.norm(h[0]))} for k, h in enumerate(trace)],
    }

    out = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "generator": "Tests/TailorModelsTests/Fixtures/minilm_reference.py (numpy, float64)",
        "config": config,
        "file": file_info,
        "tensors": tensor_info,
        "tokenizer_note": ("ids from the `tokenizers` library loading tokenizer.json with padding "
                           "off and truncation at max_seq_length (tokenizer.json itself pads and "
                           "truncates at 128); literal [CLS]/[SEP]/[PAD]/[UNK]/[MASK] in the text "
                           "are special tokens (case-sensitive)"),
        "tokenizer_own_wordpiece_agrees": all_agree,
        "tokenizer": tok_cases,
        "embeddings": embeddings,
        "similarities": {
            "texts": SENTENCES,
            "matrix": [[r(v) for v in row] for row in sims],
            "paraphrase_pairs": pair_list(PARAPHRASE_PAIRS),
            "unrelated_pairs": pair_list(UNRELATED_PAIRS),
        },
        "batch": {
            "note": "all sentences right-padded with [PAD] into one batch, attention mask over keys",
            "max_abs_diff_embedding": batch_diff,
            "max_abs_diff_pooled_norm": norm_diff,
        },
        "long_input": {
            "text": LONG_TEXT,
            "ids_count": len(long_ids),
            "pooled_l2_norm": r(long_norm[0]),
            "embedding": [r(v) for v in long_emb[0]],
            "cosine_with_sentences": [r(v) for v in E @ long_emb[0]],
        },
        "float32": {
            "note": "same forward pass with float32 weights and activations, sentences batched",
            "max_abs_diff_embedding": r(f32_diff, 3),
            "max_abs_diff_cosine": r(f32_cos, 3),
        },
        "debug": debug,
    }
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(to_json(out) + "\n")
    print(f"wrote {out_path} in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
