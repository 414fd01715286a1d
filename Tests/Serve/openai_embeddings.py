"""The official `openai` Python client's embeddings against `tailor serve` of a sentence encoder
(CommandLineTests starts it): the client asks for base64 by default and decodes it itself."""
import math
import struct
import sys

import openai

base, key, model = sys.argv[1:4]
client = openai.OpenAI(base_url=base, api_key=key, max_retries=0, timeout=120)
texts = ["A man is playing a guitar.", "Someone strums an instrument.", "The stock market fell."]
result = client.embeddings.create(model=model, input=texts)
vectors = [d.embedding for d in result.data]
assert [len(v) for v in vectors] == [384] * 3, [len(v) for v in vectors]
assert all(abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-5 for v in vectors), "unit length"
cos = lambda a, b: sum(x * y for x, y in zip(a, b))
assert cos(vectors[0], vectors[1]) > cos(vectors[0], vectors[2]) + 0.2, (cos(vectors[0], vectors[1]), cos(vectors[0], vectors[2]))
floats = client.embeddings.create(model=model, input=texts[0], encoding_format="float").data[0].embedding
# JSON writes each float32 in its shortest form, which Python reads as the nearest double; the
# same float32 either way.
as_float32 = lambda v: struct.unpack(f"{len(v)}f", struct.pack(f"{len(v)}f", *v))
assert as_float32(floats) == as_float32(vectors[0]), "base64 and float give the same vector"
print("embeddings", len(vectors), "paraphrase", round(cos(vectors[0], vectors[1]), 3), "unrelated", round(cos(vectors[0], vectors[2]), 3),
      "tokens", result.usage.prompt_tokens)
