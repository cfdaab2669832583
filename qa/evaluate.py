"""`qa eval`: answer every question of a JSONL test set and score the answers.

    qa eval tests/data/nato_qa.jsonl --out runs/eval
    -> runs/eval/metrics.json   aggregate metrics (see qa.metrics.aggregate) + run settings
       runs/eval/answers.jsonl  one line per question: answer, citations, abstained, timings, correct
       runs/eval/report.md      table, worst misses, and report.png (per-category accuracy, latency)

Test set lines: {"id", "question", "answers": [...], "answerable": bool, "evidence": [...]}
(extra fields ignored; "category" used for the per-category chart when present). Questions
whose answer is not one phrase carry "must": [[any-of phrases], ...] and "min": N (a right
answer holds a phrase of N groups at least; all by default), a yes/no one "polarity": "yes"|"no"
(a shown answer opening with the other word is an inverted claim), and "kind" (metrics by_kind).
Decoding is greedy, so a second run gives the same metrics.json, timings aside.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from . import cite, documents, steps
from .config import Config
from .errors import QAError
from .metrics import Scored, aggregate, score

TIMING_KEYS = ("first_token_p50_s", "total_p50_s", "total_p95_s")


def load_testset(path: str, limit: int | None = None) -> list[dict]:
    """Parse and check a test set; a bad line is a one-line error naming it."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise QAError(f"{path}: cannot read test set ({e})") from None
    items = []
    for no, line in enumerate(lines, 1):
        if limit and len(items) >= limit:
            break
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            assert isinstance(item["question"], str) and isinstance(item["answerable"], bool)
            assert isinstance(item.get("answers", []), list)
            assert all(isinstance(g, list) and g for g in item.get("must", []))
            assert item.get("polarity", "yes") in ("yes", "no")
        except (ValueError, KeyError, AssertionError, TypeError):
            raise QAError(f"{path}:{no}: needs question (str), answerable (bool), answers (list); "
                          f"must, if given, a list of non-empty phrase lists; polarity yes or no") from None
        item.setdefault("id", str(no))
        items.append(item)
    return items


def evaluate(items: list[dict], pipeline, progress=True) -> list[tuple[dict, object, Scored]]:
    """Ask every question; returns (item, Answer, Scored) triples in test-set order."""
    from tqdm import tqdm

    out = []
    # a log file (not a terminal) gets an update every 30 s instead of one per question
    bar = tqdm(items, desc="eval", unit="q", file=sys.stderr, disable=not progress,
               mininterval=0.1 if sys.stderr.isatty() else 30)
    for item in bar:
        answer = pipeline.ask(item["question"])
        valid = tuple(documents.text_of(c.doc)[c.start:c.end] == c.quote for c in answer.citations)
        out.append((item, answer, Scored(
            id=str(item["id"]), answerable=item["answerable"], abstained=answer.abstained, answer=answer.text,
            golds=tuple(item.get("answers", [])), evidence=tuple(item.get("evidence", []) or []),
            quotes=tuple(c.quote for c in answer.citations), quotes_valid=valid,
            retrieved=tuple(p.chunk.text for p in answer.passages),
            first_token_s=answer.timings.get("first_token_s"), total_s=answer.timings["total_s"],
            category=item.get("category", "answerable" if item["answerable"] else "unanswerable"),
            stage=stage(answer), raw=answer.raw or "", kind=item.get("kind", ""),
            must=tuple(tuple(g) for g in item.get("must", [])), min_points=int(item.get("min", 0)),
            polarity=item.get("polarity", ""))))
    return out


def stage(answer) -> str:
    """Where a reply went (metrics.STAGES): shown; or abstained by the retrieval gate (the model
    never ran), by the model's own reply, by the citation check, or by the check of steps.CHECKS
    that ran last (the first that withholds an answer ends the checks)."""
    if not answer.abstained:
        return "shown"
    if "generate_s" not in answer.timings:
        return "gate"
    if cite.is_abstention(answer.raw or ""):
        return "model"
    return next((name for name in reversed(steps.NAMES) if f"{name}_s" in answer.timings), "citations")


def run(testset: str, config: Config, out: str = "runs/eval", limit: int | None = None, pipeline=None) -> dict:
    from .api import Pipeline

    items = load_testset(testset, limit)
    pipeline = pipeline or Pipeline(config)
    results = evaluate(items, pipeline)
    metrics = aggregate([r for _, _, r in results])
    metrics["settings"] = {"testset": str(testset), "docs": pipeline.documents(),
                           "model": getattr(pipeline.generator, "name", "?"), "top_k": config.top_k,
                           "check_model": config.check_model if config.min_support > 0 else None,
                           "min_support": config.min_support}
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    with open(outdir / "answers.jsonl", "w", encoding="utf-8") as f:
        for item, answer, rec in results:
            row = {"id": rec.id, "question": item["question"], "answerable": rec.answerable,
                   "gold": list(rec.golds), **answer.to_json(), "raw": answer.raw, "support": answer.support,
                   **score(rec)}
            row.pop("passages")
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    from .report import write_report

    write_report(outdir, metrics, results)
    print(table(metrics))
    print(f"wrote {outdir}/metrics.json, answers.jsonl, report.md")
    return metrics


def table(m: dict) -> str:
    keys = ["n", "answerable_accuracy", "unanswerable_abstention", "false_abstention", "exact_match", "f1",
            "quote_validity", "citation_precision", "retrieval_recall_at_k", "keypoint_accuracy",
            "inverted_claims", *TIMING_KEYS]
    width = max(map(len, keys))
    return "\n".join(f"{k:<{width}}  {m[k]}" for k in keys)
