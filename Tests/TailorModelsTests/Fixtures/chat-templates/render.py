#!/usr/bin/env python3
"""Render the chat templates in this folder the way Hugging Face transformers does
(`PreTrainedTokenizerBase.apply_chat_template` -> `_compile_jinja_template`) and
write `expected.json`.

Environment, as in transformers:
  jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
      extensions=[jinja2.ext.loopcontrols])   (keep_trailing_newline stays False)
  filter  tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
  global  raise_exception(message) -> raises jinja2.exceptions.TemplateError(message)
  render(messages=..., tools=None, documents=None, add_generation_prompt=...,
         bos_token=..., eos_token=...)
(transformers' AssistantTracker extension, for `{% generation %}`, is left out: none
of these templates uses it.)

Needs only jinja2 (tested with 3.1.6). Run: python3 render.py
"""
import json
import os

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))

# template name -> the tokens transformers would pass from the tokenizer's special tokens
TEMPLATES = {
    "smollm2": {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"},
    "llama3": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "qwen2": {"bos_token": "", "eos_token": "<|im_end|>"},
    "mistral": {"bos_token": "<s>", "eos_token": "</s>"},
    "gemma": {"bos_token": "<bos>", "eos_token": "<eos>"},
}

CONVERSATIONS = [
    (
        "single_user",
        [{"role": "user", "content": "Hello"}],
    ),
    (
        "system_user_assistant_user",
        [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "2+2 is 4."},
            {"role": "user", "content": "And 3+3?"},
        ],
    ),
    (
        "multi_turn_whitespace",
        [
            {"role": "user", "content": "  hi there \n"},
            {"role": "assistant", "content": "\n Hello! How can I help?  "},
            {"role": "user", "content": "Tell me a joke.\n\n"},
            {"role": "assistant", "content": "   Why did the chicken cross the road?\t"},
        ],
    ),
    (
        "system_then_user",
        [
            {"role": "system", "content": "Answer in French."},
            {"role": "user", "content": "Good morning"},
        ],
    ),
]


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent,
                      separators=separators, sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def main():
    env = environment()
    cases = []
    for name, tokens in TEMPLATES.items():
        with open(os.path.join(HERE, name + ".jinja"), encoding="utf-8", newline="") as f:
            source = f.read()
        template = env.from_string(source)
        for conversation, messages in CONVERSATIONS:
            for add_generation_prompt in (True, False):
                case = {
                    "template": name,
                    "conversation": conversation,
                    "messages": messages,
                    "add_generation_prompt": add_generation_prompt,
                    "bos_token": tokens["bos_token"],
                    "eos_token": tokens["eos_token"],
                }
                try:
                    case["output"] = template.render(
                        messages=messages, tools=None, documents=None,
                        add_generation_prompt=add_generation_prompt, **tokens)
                except jinja2.exceptions.TemplateError as error:
                    case["error"] = str(error)
                cases.append(case)
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=2)
        f.write("\n")
    errors = sum(1 for c in cases if "error" in c)
    print(f"wrote expected.json: {len(cases)} cases, {errors} expected errors")


if __name__ == "__main__":
    main()
