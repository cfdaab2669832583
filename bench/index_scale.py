"""How the index scales: build time, peak memory and index bytes at 1,000 documents and at 100,000
chunks, flat (exact) against HNSW, with HNSW's search latency and recall against flat. Prints numbers.

    .venv/bin/python bench/index_scale.py                  # 100,000 random unit vectors, dim 384
    .venv/bin/python bench/index_scale.py --docs 1000      # and a 1,000-document folder through MiniLM

Each measurement runs in a child process, so its peak RSS is its own (ru_maxrss of the child).
The 100k vectors are random unit vectors (the hard case for HNSW: no clusters); queries are stored
vectors plus noise (a question close to one chunk) and plain random vectors.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim), dtype="float32")
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def queries(base: np.ndarray, n: int, noise: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q = base[rng.integers(0, len(base), n)] + noise * rng.standard_normal((n, base.shape[1]), dtype="float32")
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def one(kind: str, n: int, dim: int, k: int = 10) -> dict:
    """Build a `kind` index over n vectors; time it, its bytes, its search latency and ids (for recall)."""
    import faiss

    from qa import index as ix

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    x = vectors(n, dim)
    t0 = time.perf_counter()
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 64
    else:
        index = faiss.IndexFlatIP(dim)
    index.add(x)
    build = time.perf_counter() - t0
    size = len(faiss.serialize_index(index))
    out = {"kind": kind, "n": n, "build_s": round(build, 2), "index_bytes": size,
           "qa_picks": "hnsw" if n > ix.HNSW_ABOVE else "flat"}
    for name, q in (("near", queries(x, 200, 0.05)), ("random", queries(x, 200, 100.0))):
        times, ids = [], []
        for row in q:  # one question at a time, as qa searches
            t = time.perf_counter()
            _, i = index.search(row[None], k)
            times.append(time.perf_counter() - t)
            ids.append(i[0].tolist())
        out[f"{name}_search_ms_p50"] = round(1000 * float(np.median(times)), 3)
        out[f"{name}_search_ms_p95"] = round(1000 * float(np.percentile(times, 95)), 3)
        out[f"{name}_ids"] = ids
    return out


def docs(n: int) -> dict:
    """`qa index` of an n-document folder (qa/crash.py's synthetic documents) with MiniLM."""
    from qa.crash import make_docs

    with tempfile.TemporaryDirectory() as t:
        make_docs(Path(t) / "docs", n)
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "qa", "index", str(Path(t) / "docs"), "--index-dir",
                            str(Path(t) / "ix")], capture_output=True, text=True, cwd=ROOT,
                           env={**os.environ, "QA_MODEL": "/nonexistent.gguf", "QA_WHOLE_CHARS": "0"})
        wall = time.perf_counter() - t0
        [d] = (Path(t) / "ix").iterdir()
        data = sum(p.stat().st_size for p in d.iterdir() if p.name != "manifest.json")
        return {"documents": n, "summary": r.stdout.strip(), "build_s": round(wall, 1), "index_bytes": data}


def child(args: list[str]) -> tuple[dict, float]:
    """Run this script with args in a child; (its JSON, its peak RSS in MB)."""
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        raise SystemExit(f"{args} failed")
    return json.loads(out), usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="vectors (100,000)")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--docs", type=int, default=0, help="also index this many documents with MiniLM")
    ap.add_argument("--one", choices=["flat", "hnsw", "docs"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one == "docs":
        print(json.dumps(docs(args.docs)))
        return
    if args.one:
        print(json.dumps(one(args.one, args.n, args.dim)))
        return
    if args.docs:
        got, rss = child(["--one", "docs", "--docs", str(args.docs)])
        print(f"{got['documents']} documents, MiniLM: {got['build_s']} s, peak RSS of the run {rss:.0f} MB, "
              f"index files {got['index_bytes'] / 1e6:.1f} MB ({got['summary']})")
    flat, flat_rss = child(["--one", "flat", "--n", str(args.n), "--dim", str(args.dim)])
    hnsw, hnsw_rss = child(["--one", "hnsw", "--n", str(args.n), "--dim", str(args.dim)])
    for r, rss in ((flat, flat_rss), (hnsw, hnsw_rss)):
        print(f"{r['kind']:>5} {r['n']:,} x {args.dim}: build {r['build_s']} s, index {r['index_bytes'] / 1e6:.1f} MB, "
              f"peak RSS {rss:.0f} MB, search p50/p95 near {r['near_search_ms_p50']}/{r['near_search_ms_p95']} ms, "
              f"random {r['random_search_ms_p50']}/{r['random_search_ms_p95']} ms (qa picks {r['qa_picks']})")
    for name in ("near", "random"):
        hits = [len(set(a) & set(b)) / len(a) for a, b in zip(hnsw[f"{name}_ids"], flat[f"{name}_ids"])]
        top1 = np.mean([a[0] == b[0] for a, b in zip(hnsw[f"{name}_ids"], flat[f"{name}_ids"])])
        print(f"HNSW recall against flat, {name} queries: recall@10 {np.mean(hits):.3f}, top-1 {top1:.3f}")


if __name__ == "__main__":
    main()
