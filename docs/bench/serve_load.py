#!/usr/bin/env python3
"""Load for an OpenAI-compatible server (docs/performance.md, "Serving"): CLIENTS concurrent
clients, each sending REQUESTS streamed chat completions one after another, greedy, with
`stream_options.include_usage`, so every server counts its own answer's tokens. Prints one JSON
line: completion tokens per second over the whole run, time to first token (p50, p99) and each
request's decoding rate after its first token (median). Standard library only (threads and
http.client), so the same client loads every server.

Usage: serve_load.py --port P --models smol[,a,b] --clients C --requests R --max-tokens N
(--models: requests take them in turn, to mix adapters)."""
import argparse
import http.client
import json
import statistics
import threading
import time

PROMPTS = [
    "Write a long story about a lighthouse keeper who finds a message in a bottle.",
    "Explain in detail how a bicycle works, part by part.",
    "Describe a walk through a busy market in a large city, with every sound and smell.",
    "Write a long letter from a sailor to his family about a storm at sea.",
    "Tell the history of bread, from the first farmers to modern bakeries.",
    "Describe how to plan a vegetable garden through the four seasons.",
    "Write a long story about two friends who build a boat together.",
    "Explain how a city's water reaches every home, step by step.",
]


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def ask(port, model, prompt, max_tokens, extra):
    """One streamed chat completion: (seconds to the first content, seconds in all, completion tokens)."""
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
            "temperature": 0, "stream": True, "stream_options": {"include_usage": True}, **extra}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    start = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"status {response.status}: {response.read()[:300]!r}")
    first, tokens = None, None
    while True:
        line = response.readline()
        if not line:
            break
        line = line.strip()
        if not line.startswith(b"data: "):
            continue
        data = line[6:]
        if data == b"[DONE]":
            break
        event = json.loads(data)
        if "error" in event:
            raise RuntimeError(event["error"])
        for choice in event.get("choices") or []:
            if first is None and (choice.get("delta") or {}).get("content"):
                first = time.perf_counter() - start
        if event.get("usage"):
            tokens = event["usage"]["completion_tokens"]
    total = time.perf_counter() - start
    conn.close()
    if tokens is None:
        raise RuntimeError("the stream carried no usage")
    return first if first is not None else total, total, tokens


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--models", required=True)
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--requests", type=int, default=2, help="per client")
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--label", default="")
    args = p.parse_args()
    models = args.models.split(",")
    results, errors, lock = [], [], threading.Lock()

    def client(c):
        for r in range(args.requests):
            n = c * args.requests + r
            try:
                out = ask(args.port, models[n % len(models)], PROMPTS[n % len(PROMPTS)], args.max_tokens, {})
                with lock:
                    results.append(out)
            except Exception as e:  # reported, not hidden
                with lock:
                    errors.append(str(e))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    tokens = sum(r[2] for r in results)
    ttft = [r[0] for r in results]
    rates = [(r[2] - 1) / (r[1] - r[0]) for r in results if r[2] > 1 and r[1] > r[0]]
    print(json.dumps({
        "label": args.label, "clients": args.clients, "models": models, "requests": len(results), "errors": errors[:3],
        "completion_tokens": tokens, "seconds": round(wall, 2), "tokens_per_s": round(tokens / wall, 1),
        "ttft_p50_ms": round(1000 * percentile(ttft, 50)) if ttft else None,
        "ttft_p99_ms": round(1000 * percentile(ttft, 99)) if ttft else None,
        "decode_per_request_tok_s": round(statistics.median(rates), 1) if rates else None,
    }))


if __name__ == "__main__":
    main()
