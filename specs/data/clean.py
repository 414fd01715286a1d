"""Example user preparation script: strip whitespace and drop empty answers."""
import json
import sys

src, dst = sys.argv[1], sys.argv[2]
with open(src) as f, open(dst, "w") as out:
    for line in f:
        row = json.loads(line)
        if row["answer"].strip():
            out.write(json.dumps({"prompt": row["question"].strip(), "response": row["answer"].strip()}) + "\n")
