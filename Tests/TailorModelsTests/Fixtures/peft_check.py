"""Checks a LoRA adapter Tailor exported in PEFT's layout against Hugging Face peft: loads the
base model folder (a run's model artifact) with transformers, applies the adapter with
PeftModel, and compares the logits with Tailor's merged export of the same model.

    PYTHON_WITH_PEFT Tests/TailorModelsTests/Fixtures/peft_check.py BASE_DIR ADAPTER_DIR MERGED_DIR

Needs torch, transformers and peft; not part of `make test`.
"""
import sys, torch, json
from transformers import AutoModelForCausalLM
from peft import PeftModel
base_dir, adapter_dir, merged_dir = sys.argv[1:4]
ids = torch.tensor([[5, 17, 42, 9, 100, 3, 77, 8]])
base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
with torch.no_grad(): plain = base(ids).logits
model = PeftModel.from_pretrained(base, adapter_dir)
with torch.no_grad(): adapted = model(ids).logits
merged = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=torch.float32)
with torch.no_grad(): m = merged(ids).logits
print("adapter changes the base by", (adapted - plain).abs().max().item())
print("PEFT(base + Tailor adapter) vs Tailor's merged export: max |diff|", (adapted - m).abs().max().item())
