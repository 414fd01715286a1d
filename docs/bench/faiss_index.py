"""FAISS reference for the vector-index benchmark on CPU: exact inner-product search
(IndexFlatIP) and HNSW (IndexHNSWFlat, inner product) over unit-length float32 vectors,
k = 10. Cosine similarity and inner product are the same thing on these vectors.

Data (--n base rows, --queries query rows, --dim columns, every row scaled to unit L2
length in float32). All draws come from one numpy.random.default_rng(--seed), in this
order, so a run is reproducible from the seed alone:
  gaussian   base = standard_normal((n, dim), float32), then
             queries = standard_normal((queries, dim), float32).
  clustered  centres = standard_normal((--clusters, dim), float32) (1000 by default), then
             for the base: ids = integers(0, clusters, n), noise = standard_normal((n, dim),
             float32), row = centres[ids] + --sigma * noise (0.5 by default); then the queries
             the same way from the same centres (new ids, new noise). With dim 384 and
             sigma 0.5 a point has cosine ~0.89 with its centre, two points of one cluster
             ~0.8, points of different clusters ~0; at n = 100000 a cluster holds ~100
             points, so a query's 10 neighbours lie in its own cluster.
--write DIR also writes DIR/base.f32 and DIR/queries.f32 (raw little-endian float32, row
after row, no header; the unit-length rows exactly as searched) and DIR/meta.json (n, dim,
queries, kind, seed, sigma, clusters), so another program can search the same vectors.
--read DIR searches those files instead of generating (n and queries come from the file
sizes and --dim).

Threads: faiss.omp_set_num_threads(--threads), and OMP_NUM_THREADS / OPENBLAS_NUM_THREADS
are set to the same number before faiss is imported (FAISS's batched flat search calls
sgemm). The count in the result is faiss.omp_get_max_threads() after setting it.

Measured (time.perf_counter_ns; latencies in milliseconds):
  flat.build_s          IndexFlatIP(dim) constructed + add(base).
  flat.single_query_ms  index.search(q, 10) with q one (1, dim) row, one call per query,
                        over all queries, after 20 untimed warm-up calls (queries 0-19);
                        p50 / p99 are numpy.percentile (linear interpolation), plus mean.
  flat.batch_s / _qps   one index.search(all queries, 10) call. Its top-10 ids are the
                        exact answer that recall is measured against.
  hnsw.build_s          IndexHNSWFlat(dim, --hnsw-m, METRIC_INNER_PRODUCT) constructed,
                        hnsw.efConstruction = --ef-construction set, add(base).
  hnsw.runs[]           per efSearch (16, 32, 64, 128, 256 unless --ef-search says
                        otherwise): the one-query-at-a-time p50 / p99 / mean latency, as
                        for flat (20 warm-up calls first), recall@10 of those answers =
                        mean over queries of |approx top-10 ∩ exact top-10| / 10, and the
                        throughput of one batched search call (batch_qps).
Data generation (or reading) is timed separately as data_s and is not part of any build.

    python3 -m venv ~/.cache/perfbench/venv-torch
    ~/.cache/perfbench/venv-torch/bin/python -m pip install faiss-cpu numpy
    ~/.cache/perfbench/venv-torch/bin/python docs/bench/faiss_index.py --n 100000 --kind clustered --threads 2
Prints one JSON line on stdout.
"""
import argparse
import datetime
import json
import os
import platform
import sys
import time

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--n", type=int, default=10000, help="base vectors (10000 or 100000 in the benchmark)")
p.add_argument("--dim", type=int, default=384)
p.add_argument("--queries", type=int, default=1000)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--kind", default="gaussian", choices=["gaussian", "clustered"])
p.add_argument("--clusters", type=int, default=1000, help="clustered: number of centres")
p.add_argument("--sigma", type=float, default=0.5, help="clustered: per-coordinate noise std")
p.add_argument("--k", type=int, default=10)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--hnsw-m", type=int, default=32)
p.add_argument("--ef-construction", type=int, default=200)
p.add_argument("--ef-search", default="16,32,64,128,256", help="comma-separated efSearch values")
p.add_argument("--warmup", type=int, default=20, help="untimed single-query calls before each latency loop")
p.add_argument("--no-hnsw", action="store_true", help="exact search only")
g = p.add_mutually_exclusive_group()
g.add_argument("--write", metavar="DIR", help="also write DIR/base.f32, DIR/queries.f32, DIR/meta.json")
g.add_argument("--read", metavar="DIR", help="search DIR/base.f32 and DIR/queries.f32 instead of generating")
args = p.parse_args()

# Thread counts for FAISS's OpenMP loops and its BLAS; set before the import.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402
import faiss  # noqa: E402

faiss.omp_set_num_threads(args.threads)
K = args.k


# --- Data. -----------------------------------------------------------------------------
def unit_rows(x):
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x, dtype=np.float32)


def generate():
    rng = np.random.default_rng(args.seed)
    d = args.dim
    if args.kind == "gaussian":
        xb = rng.standard_normal((args.n, d), dtype=np.float32)
        xq = rng.standard_normal((args.queries, d), dtype=np.float32)
    else:
        centres = rng.standard_normal((args.clusters, d), dtype=np.float32)

        def draw(count):
            ids = rng.integers(0, args.clusters, count)
            noise = rng.standard_normal((count, d), dtype=np.float32)
            return centres[ids] + np.float32(args.sigma) * noise

        xb = draw(args.n)
        xq = draw(args.queries)
    return unit_rows(xb), unit_rows(xq)


def read_rows(path, d):
    raw = np.fromfile(path, dtype="<f4")
    assert raw.size % d == 0, f"{path}: {raw.size} floats is not a multiple of dim {d}"
    return np.ascontiguousarray(raw.reshape(-1, d), dtype=np.float32)


t0 = time.perf_counter()
meta = {"n": args.n, "dim": args.dim, "queries": args.queries, "kind": args.kind, "seed": args.seed,
        "sigma": args.sigma if args.kind == "clustered" else None,
        "clusters": args.clusters if args.kind == "clustered" else None}
if args.read:
    xb = read_rows(os.path.join(args.read, "base.f32"), args.dim)
    xq = read_rows(os.path.join(args.read, "queries.f32"), args.dim)
    meta_path = os.path.join(args.read, "meta.json")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        assert meta["dim"] == args.dim, f"{meta_path} says dim {meta['dim']}, not {args.dim}"
    else:
        meta = {"kind": "read", "seed": None, "sigma": None, "clusters": None}
    meta.update(n=len(xb), queries=len(xq), dim=args.dim)
else:
    xb, xq = generate()
    if args.write:
        os.makedirs(args.write, exist_ok=True)
        xb.astype("<f4").tofile(os.path.join(args.write, "base.f32"))
        xq.astype("<f4").tofile(os.path.join(args.write, "queries.f32"))
        with open(os.path.join(args.write, "meta.json"), "w") as f:
            json.dump(meta, f)
data_s = time.perf_counter() - t0
n, d = xb.shape
nq = len(xq)
assert xq.shape[1] == d and nq > 0
assert K <= n


# --- Timing helpers. ---------------------------------------------------------------------
def single_query_loop(index):
    """One search call per query, each timed alone; returns (latencies in ns, top-k ids)."""
    rows = [xq[i:i + 1] for i in range(nq)]  # (1, d) C-contiguous views, sliced outside the timer
    for i in range(min(args.warmup, nq)):
        index.search(rows[i], K)
    lat = np.empty(nq, dtype=np.int64)
    ids = np.empty((nq, K), dtype=np.int64)
    clock = time.perf_counter_ns
    for i, q in enumerate(rows):
        t = clock()
        _, I = index.search(q, K)
        lat[i] = clock() - t
        ids[i] = I[0]
    return lat, ids


def lat_stats(lat_ns):
    ms = lat_ns / 1e6
    p50, p99 = np.percentile(ms, [50, 99])
    return {"p50": round(float(p50), 4), "p99": round(float(p99), 4), "mean": round(float(ms.mean()), 4),
            "min": round(float(ms.min()), 4), "max": round(float(ms.max()), 4)}


def recall_at_k(approx, exact):
    hits = 0
    for a, e in zip(approx, exact):
        hits += len(set(a[a >= 0].tolist()) & set(e.tolist()))
    return hits / (len(exact) * K)


# --- Exact: IndexFlatIP. ----------------------------------------------------------------
t0 = time.perf_counter_ns()
flat = faiss.IndexFlatIP(d)
flat.add(xb)
flat_build_s = (time.perf_counter_ns() - t0) / 1e9

flat_lat, flat_single_ids = single_query_loop(flat)

t0 = time.perf_counter_ns()
_, exact = flat.search(xq, K)
flat_batch_s = (time.perf_counter_ns() - t0) / 1e9
# The one-at-a-time answers should be the batch answers (ties aside).
flat_single_agree = recall_at_k(flat_single_ids, exact)

result = {
    "bench": "faiss_index",
    "n": n, "dim": d, "queries": nq, "k": K,
    "kind": meta["kind"], "seed": meta["seed"],
    "clusters": meta.get("clusters"), "sigma": meta.get("sigma"),
    "data": f"read {args.read}" if args.read else ("generated, written to " + args.write if args.write else "generated"),
    "data_s": round(data_s, 3),
    "threads": faiss.omp_get_max_threads(),
    "flat": {
        "index": "IndexFlatIP",
        "build_s": round(flat_build_s, 4),
        "single_query_ms": lat_stats(flat_lat),
        "single_vs_batch_overlap": round(flat_single_agree, 5),
        "batch_s": round(flat_batch_s, 4),
        "batch_qps": round(nq / flat_batch_s, 1),
    },
}

# --- Approximate: IndexHNSWFlat, inner product. -------------------------------------------
if not args.no_hnsw:
    t0 = time.perf_counter_ns()
    hnsw = faiss.IndexHNSWFlat(d, args.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = args.ef_construction
    hnsw.add(xb)
    hnsw_build_s = (time.perf_counter_ns() - t0) / 1e9
    runs = []
    for ef in [int(v) for v in args.ef_search.split(",") if v.strip()]:
        hnsw.hnsw.efSearch = ef
        lat, ids = single_query_loop(hnsw)
        t0 = time.perf_counter_ns()
        hnsw.search(xq, K)
        batch_s = (time.perf_counter_ns() - t0) / 1e9
        runs.append({"ef_search": ef, "recall_at_10" if K == 10 else f"recall_at_{K}": round(recall_at_k(ids, exact), 5),
                     "single_query_ms": lat_stats(lat), "batch_s": round(batch_s, 4),
                     "batch_qps": round(nq / batch_s, 1)})
    result["hnsw"] = {
        "index": "IndexHNSWFlat(METRIC_INNER_PRODUCT)",
        "M": args.hnsw_m,
        "ef_construction": hnsw.hnsw.efConstruction,
        "max_level": int(hnsw.hnsw.max_level),
        "build_s": round(hnsw_build_s, 3),
        "runs": runs,
    }


def peak_rss_mb():
    # VmHWM: this process's peak resident set size, in kB.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


result.update({
    "peak_rss_mb": peak_rss_mb(),
    "faiss": faiss.__version__,
    "faiss_compile_options": faiss.get_compile_options().strip() if hasattr(faiss, "get_compile_options") else None,
    "numpy": np.__version__,
    "python": sys.version.split()[0],
    "cpu": cpu_model(),
    "cores": os.cpu_count(),
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
})
print(json.dumps(result))
