"""Retrieval on a document collection: recall of the gold answer against the characters given to the model.

    python bench/retrieval.py                      # bench/data/squad2_corpus, its dev questions
    python bench/retrieval.py --docs D --questions Q.jsonl

For each way of retrieving, prints per k: recall (a gold answer string is in the passages, answerable
questions only), the right document among them (questions with a "doc" field) and the mean characters
of passages. A benchmark, not a test: it prints numbers and decides nothing.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import documents, index as ix  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.metrics import contains_answer  # noqa: E402
from qa.retrieve import Retriever, best_sentences  # noqa: E402


def measure(name, search, items, ks, stem_of) -> None:
    rows = {k: [0, 0, 0] for k in ks}  # k -> [recall hits, doc hits, chars]
    t0 = time.perf_counter()
    ans = [it for it in items if it["answerable"]]
    for it in ans:
        got = search(it["question"], max(ks))
        for k in ks:
            texts = [p.chunk.text for p in got[:k]]
            rows[k][0] += any(contains_answer(t, it["answers"]) for t in texts)
            rows[k][1] += any(stem_of(p.chunk.doc) == it.get("doc") for p in got[:k])
            rows[k][2] += sum(map(len, texts))
    ms = (time.perf_counter() - t0) / max(1, len(ans)) * 1000
    print(f"\n{name}  ({ms:.0f} ms/question)")
    print("   k  recall  right_doc  chars")
    for k in ks:
        r, d, c = rows[k]
        print(f"  {k:>2}  {r / len(ans):.3f}   {d / len(ans):.3f}     {c / len(ans):6.0f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", default=str(ROOT / "bench/data/squad2_corpus/docs"))
    ap.add_argument("--questions", default=str(ROOT / "bench/data/squad2_corpus/dev.jsonl"))
    ap.add_argument("--index-dir", default="/tmp/qa-retrieval-bench")
    ap.add_argument("--ks", default="1,2,3,4,5,6,8,10")
    ap.add_argument("--focus", default="", help="top-N lists to cut to their best sentences, e.g. 3,5")
    args = ap.parse_args(argv)
    from qa.embed import SentenceTransformerEmbedder

    items = [json.loads(line) for line in open(args.questions, encoding="utf-8") if line.strip()]
    ks = [int(k) for k in args.ks.split(",")]
    emb = SentenceTransformerEmbedder()
    stem_of = lambda doc: Path(doc).stem  # noqa: E731
    base = Config(docs=(args.docs,), index_dir=args.index_dir)
    variants = [("3-sentence chunks (default)", base),
                ("2-sentence chunks", replace(base, chunk_sentences=2, chunk_overlap=1)),
                ("1-sentence chunks", replace(base, chunk_sentences=1, chunk_overlap=0))]
    for label, cfg in variants[:1 if args.focus else None]:
        t0 = time.perf_counter()
        idx = ix.build(cfg, emb)
        print(f"\n== {label}: {len(idx.chunks)} chunks, built/loaded in {time.perf_counter() - t0:.0f} s")
        r = Retriever(idx, emb)
        measure(label + ", hybrid", r.search, items, ks, stem_of)
        for depth in map(int, args.focus.split(",")) if args.focus else ():
            for budget in (400, 600, 800, 1000, 1200):
                def search(q, k, depth=depth, budget=budget):
                    return best_sentences(r.search(q, depth), q, emb, documents.text_of, budget, idx.sentences,
                                          r.query_vector(q))
                measure(f"{label}, top {depth} cut to the best sentences within {budget} chars", search, items,
                        [1, 2, 3, 20], stem_of)
    return 0


if __name__ == "__main__":
    sys.exit(main())
