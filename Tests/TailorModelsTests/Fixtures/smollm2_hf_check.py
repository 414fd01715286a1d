"""Checks that a Hugging Face folder written by `tailor convert` from the SmolLM2 GGUF loads in
transformers and behaves like the reference: token ids of every fixture text, the chat template,
the greedy answer to the first chat prompt, and the last-prompt logits against smollm2.json.

    tailor convert models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf /tmp/smollm2-hf
    PYTHON_WITH_TRANSFORMERS Tests/TailorModelsTests/Fixtures/smollm2_hf_check.py /tmp/smollm2-hf

Run from the repository root (needs torch and transformers; not part of `make test`).
"""
import sys, json, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
folder = sys.argv[1]
tok = AutoTokenizer.from_pretrained(folder)
model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
fx = json.load(open('Tests/TailorModelsTests/Fixtures/smollm2.json'))
bad = [t['text'] for t in fx['tokenizer'] if tok(t['text'], add_special_tokens=False)['input_ids'] != t['ids']]
print("tokenizer mismatches:", bad)
msgs = [{"role": "user", "content": "What is the capital of France?"}]
text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
print("template equals fixture:", text == fx['chat'][0]['text'])
ids = tok(text, return_tensors='pt', add_special_tokens=False).input_ids
out = model.generate(ids, max_new_tokens=24, do_sample=False)
print(repr(tok.decode(out[0][ids.shape[1]:])))
with torch.no_grad():
    logits = model(ids).logits[0, -1].double()
top = fx['chat'][0]['last_logits']['top']
print("max |logit - reference| over top-20:", max(abs(logits[i].item() - v) for i, v in top))
