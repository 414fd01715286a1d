"""Reference values for Tailor's retrieval metrics, from pytrec_eval (trec_eval's own code).

Random runs and qrels with ties in the scores, graded and zero grades, unjudged documents, a
query the qrels do not judge and one the run does not rank. Scores are multiples of 1/8, so
they read back exactly as float32. MRR@k is trec_eval's recip_rank on the run cut at k, the
cut taken in trec_eval's own order (score descending, then document id descending).

    pip install pytrec_eval-terrier numpy
    python3 trec_reference.py > trec.json
"""
import json

import numpy as np
import pytrec_eval

rng = np.random.default_rng(7)
docs = [f"d{i:02d}" for i in range(30)]
run, qrels = {}, {}
for q in range(12):
    qid = f"q{q}"
    ranked = rng.choice(docs, size=int(rng.integers(3, 20)), replace=False)
    run[qid] = {d: float(rng.integers(0, 12)) / 8 for d in ranked}  # few values: many ties
    judged = rng.choice(docs, size=int(rng.integers(1, 8)), replace=False)
    qrels[qid] = {d: int(rng.integers(0, 4)) for d in judged}
run["q-unjudged"] = {"d01": 0.5, "d02": 0.25}
qrels["q-unranked"] = {"d03": 1}

cuts = [1, 3, 5, 10]
measures = {f"P_{k}" for k in cuts} | {f"recall_{k}" for k in cuts} | {f"ndcg_cut_{k}" for k in cuts}
full = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
expected = {q: {m: v for m, v in scores.items()} for q, scores in full.items()}
for k in cuts:
    cut = {}
    for q, scores in run.items():
        order = sorted(scores.items(), key=lambda kv: (-kv[1], [-ord(c) for c in kv[0]]))
        cut[q] = dict(order[:k])
    rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(cut)
    for q, scores in rr.items():
        expected[q][f"mrr_{k}"] = scores["recip_rank"]

print(json.dumps({"run": run, "qrels": qrels, "cuts": cuts, "expected": expected}, indent=1, sort_keys=True))
