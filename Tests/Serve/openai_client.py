"""The official `openai` Python client against `tailor serve` (CommandLineTests starts the
server and runs this with its base URL, key and model name). Exits non-zero on the first
check that fails; prints one line per check that passed."""
import sys

import openai

base, key, model = sys.argv[1:4]
client = openai.OpenAI(base_url=base, api_key=key, max_retries=0, timeout=120)

ids = [m.id for m in client.models.list().data]
assert ids == [model], ids
print("models", ids)

messages = [{"role": "user", "content": "Name the capital of France."}]
chat = client.chat.completions.create(model=model, messages=messages, max_tokens=12, temperature=0)
text = chat.choices[0].message.content
assert "Paris" in text, text
assert chat.usage.total_tokens == chat.usage.prompt_tokens + chat.usage.completion_tokens, chat.usage
print("chat", repr(text), chat.choices[0].finish_reason, chat.usage.completion_tokens)

stream = client.chat.completions.create(model=model, messages=messages, max_tokens=12, temperature=0, stream=True,
                                        stream_options={"include_usage": True})
pieces, finish, usage = [], None, None
for chunk in stream:
    if chunk.usage is not None:
        usage = chunk.usage
    for choice in chunk.choices:
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finish = choice.finish_reason
assert "".join(pieces) == text, (pieces, text)
assert finish == chat.choices[0].finish_reason, finish
assert usage is not None and usage.completion_tokens == chat.usage.completion_tokens, usage
print("stream", len(pieces), "pieces, the same text")

completion = client.completions.create(model=model, prompt="The capital of France is", max_tokens=3, temperature=0)
assert "Paris" in completion.choices[0].text, completion.choices[0].text
print("completion", repr(completion.choices[0].text))

try:
    client.chat.completions.create(model="gpt-4", messages=messages)
    raise SystemExit("an unknown model was answered")
except openai.NotFoundError as e:
    assert e.body["code"] == "model_not_found", e.body
    print("unknown model refused:", e.status_code)

try:
    openai.OpenAI(base_url=base, api_key="wrong", max_retries=0).models.list()
    raise SystemExit("a wrong key was let in")
except openai.AuthenticationError as e:
    print("wrong key refused:", e.status_code)

try:
    client.chat.completions.create(model=model, messages=messages, max_tokens=0)
    raise SystemExit("max_tokens 0 was accepted")
except openai.BadRequestError as e:
    assert e.body["param"] == "max_tokens", e.body
    print("bad max_tokens refused:", e.status_code)
