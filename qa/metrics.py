"""Pure evaluation metrics: answer normalisation, SQuAD v2 EM/F1, containment,
citation support, latency percentiles, and the per-question `Scored` record with
its aggregate. Nothing here touches the index, the model or the disk, so every
number in a benchmark report can be recomputed from the records alone.
"""
from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from dataclasses import dataclass

from .kinds import polarity_of
from .prompts import MARKER
from .steps import NAMES

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ASCII_PUNCT = set(string.punctuation)
_MIN_RUN = 8  # shared consecutive tokens that count as a quote overlapping evidence


def _is_punct(ch: str) -> bool:
    # Curly quotes and dashes are category P* but not in string.punctuation.
    return ch in _ASCII_PUNCT or unicodedata.category(ch).startswith("P")


def normalize_answer(s: str) -> str:
    """SQuAD v2 normalisation, widened to unicode punctuation.

    >>> normalize_answer("The  Nato-Russia “Council”!")
    'natorussia council'
    """
    s = s.lower()
    s = "".join(ch for ch in s if not _is_punct(ch))
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def strip_citations(text: str) -> str:
    """Remove citation markers so they do not count as answer tokens.

    >>> strip_citations("Paris [1][2], on the Seine [3, 4].")
    'Paris, on the Seine.'
    """
    return MARKER.sub("", text)  # "[1][2]" is two matches


def _gold_list(golds: list[str] | tuple[str, ...]) -> list[str]:
    # As the official script: golds that normalise to nothing are dropped, and an
    # unanswerable question has the single gold "" (only abstaining matches it).
    kept = [g for g in golds if normalize_answer(g)]
    return kept or [""]


def exact_match(prediction: str, golds: list[str]) -> float:
    """1.0 if the normalised prediction equals some normalised gold.

    >>> exact_match("The cat.", ["cat"]), exact_match("", [])
    (1.0, 1.0)
    """
    p = normalize_answer(prediction)
    return max(float(p == normalize_answer(g)) for g in _gold_list(golds))


def _f1_one(pred_toks: list[str], gold_toks: list[str]) -> float:
    if not pred_toks or not gold_toks:
        return float(pred_toks == gold_toks)  # official rule: both empty scores 1
    common = sum((Counter(pred_toks) & Counter(gold_toks)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred_toks), common / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def f1(prediction: str, golds: list[str]) -> float:
    """Token-overlap F1, max over golds.

    >>> f1("the cat sat", ["cat sat down"])  # P=1, R=2/3
    0.8
    """
    p = normalize_answer(prediction).split()
    return max(_f1_one(p, normalize_answer(g).split()) for g in _gold_list(golds))


def _contains(hay: str, needle: str) -> bool:
    # Both already normalised; padding makes "100" miss "100000".
    return bool(needle) and f" {needle} " in f" {hay} "


def contains_answer(prediction: str, golds: list[str] | tuple[str, ...]) -> bool:
    """Some non-empty normalised gold occurs in the prediction on word boundaries.

    >>> contains_answer("about 100,000 troops", ["100"])
    False
    """
    p = normalize_answer(prediction)
    return any(_contains(p, normalize_answer(g)) for g in golds)


def _either_contains(a: str, b: str) -> bool:
    na, nb = normalize_answer(a), normalize_answer(b)
    return _contains(na, nb) or _contains(nb, na)


def _overlaps(a: str, b: str) -> bool:
    """Normalised containment either way, or a shared run of _MIN_RUN tokens."""
    if _either_contains(a, b):
        return True
    ta, tb = normalize_answer(a).split(), normalize_answer(b).split()
    runs = {tuple(tb[i:i + _MIN_RUN]) for i in range(len(tb) - _MIN_RUN + 1)}
    return any(tuple(ta[i:i + _MIN_RUN]) in runs for i in range(len(ta) - _MIN_RUN + 1))


def percentile(values: list[float], q: float) -> float:
    """q in [0, 100], linear interpolation as numpy.percentile's default.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    if not values:
        return 0.0
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass(frozen=True)
class Scored:
    id: str
    answerable: bool
    abstained: bool
    answer: str              # answer text as shown (citation markers inside)
    golds: tuple[str, ...]
    evidence: tuple[str, ...]
    quotes: tuple[str, ...]          # the quotes of the shown citations
    quotes_valid: tuple[bool, ...]   # quote == document[start:end] for each citation
    retrieved: tuple[str, ...]       # texts of retrieved passages
    first_token_s: float | None
    total_s: float
    category: str = ""
    stage: str = ""                  # where a reply went: STAGES (evaluate.stage)
    raw: str = ""                    # the model's reply before the checks
    kind: str = ""                   # question kind (fact, yesno, list, summary, why, compare, twopart)
    must: tuple[tuple[str, ...], ...] = ()  # key points: a right answer contains a phrase of each group...
    min_points: int = 0              # ...or of this many groups at least (0: all)
    polarity: str = ""               # a yes/no question's true answer, "yes" or "no"


# Where a reply ends up: shown, or abstained by the retrieval gate (no model pass), by the model
# itself, by the citation check (cite.verify), or by one of the checks of steps.CHECKS.
STAGES = ("shown", "gate", "model", "citations", *NAMES)


def _supported(quote: str, r: Scored) -> bool:
    return any(_overlaps(quote, e) for e in r.evidence) or contains_answer(quote, r.golds)


def key_points(prediction: str, must) -> int:
    """How many key-point groups have a phrase in the prediction (normalised, on word boundaries).

    >>> key_points("Sherman said Russia brought nothing new [3].", [["Sherman"], ["nothing new", "no change"], ["troops"]])
    2
    """
    def norm(text: str) -> str:  # "Russia-Nato summit" holds "Nato": a hyphen joins words, it does not make one
        return normalize_answer(re.sub(r"[-‐‑–]", " ", text))

    p = norm(prediction)
    return sum(any(_contains(p, norm(phrase)) for phrase in group) for group in must)


def score(r: Scored) -> dict:
    """Per-question fields; None where a field does not apply to the question. A shown yes/no answer
    whose polarity is the opposite of the true one is an inverted claim."""
    pred = "" if r.abstained else strip_citations(r.answer)
    golds = list(r.golds) if r.answerable else []
    points = key_points(pred, r.must) if r.must and not r.abstained else 0
    said = polarity_of(pred)
    inverted = bool(r.polarity and said and said != r.polarity)
    if r.answerable:
        if r.must or r.polarity:
            correct = (not r.abstained and points >= (r.min_points or len(r.must))
                       and (not r.polarity or said == r.polarity))
        else:
            correct = not r.abstained and contains_answer(pred, golds)
        hit = any(contains_answer(t, golds) or any(_either_contains(t, e) for e in r.evidence)
                  for t in r.retrieved)
    else:
        correct, hit = r.abstained, None
    # Without evidence or golds there is nothing to support a quote against.
    hits = sum(_supported(q, r) for q in r.quotes) if (r.evidence or r.golds) else None
    return {"id": r.id, "correct": correct, "em": exact_match(pred, golds),
            "f1": f1(pred, golds), "retrieval_hit": hit, "citation_hits": hits,
            "key_points": points if r.must else None, "inverted": inverted}


def _share(num: float, den: float, empty: float = 0.0) -> float:
    return round(num / den, 4) if den else empty


def aggregate(records: list[Scored]) -> dict:
    """Dataset-level numbers; shares rounded to 4 decimals, keys deterministic."""
    rows = [(r, score(r)) for r in records]
    ans = [(r, s) for r, s in rows if r.answerable]
    una = [(r, s) for r, s in rows if not r.answerable]
    valid = [v for r in records for v in r.quotes_valid]
    cited = [(len(r.quotes), s["citation_hits"]) for r, s in rows if s["citation_hits"] is not None]
    firsts = [r.first_token_s for r in records if r.first_token_s is not None]
    totals = [r.total_s for r in records]
    cats: dict[str, list[bool]] = {}
    kinds: dict[str, list[bool]] = {}
    for r, s in rows:
        cats.setdefault(r.category, []).append(s["correct"])
        if r.kind:
            kinds.setdefault(r.kind if r.answerable else "unanswerable", []).append(s["correct"])
    keyed = [s["correct"] for r, s in ans if r.must or r.polarity]
    return {
        "n": len(records), "n_answerable": len(ans), "n_unanswerable": len(una),
        "answerable_accuracy": _share(sum(s["correct"] for _, s in ans), len(ans)),
        "exact_match": _share(sum(s["em"] for _, s in rows), len(rows)),
        "f1": _share(sum(s["f1"] for _, s in rows), len(rows)),
        "has_ans_exact_match": _share(sum(s["em"] for _, s in ans), len(ans)),
        "has_ans_f1": _share(sum(s["f1"] for _, s in ans), len(ans)),
        "no_ans_exact_match": _share(sum(s["em"] for _, s in una), len(una)),
        "no_ans_f1": _share(sum(s["f1"] for _, s in una), len(una)),
        "unanswerable_abstention": _share(sum(r.abstained for r, _ in una), len(una)),
        "false_abstention": _share(sum(r.abstained for r, _ in ans), len(ans)),
        "quote_validity": _share(sum(valid), len(valid), empty=1.0),
        "citation_precision": _share(sum(h for _, h in cited), sum(n for n, _ in cited), empty=1.0),
        "retrieval_recall_at_k": _share(sum(bool(s["retrieval_hit"]) for _, s in ans), len(ans)),
        # Latencies are rounded too, so reports are byte-stable across runs.
        "first_token_p50_s": round(percentile(firsts, 50), 4),
        "total_p50_s": round(percentile(totals, 50), 4),
        "total_p95_s": round(percentile(totals, 95), 4),
        "by_category": {c: {"n": len(v), "accuracy": _share(sum(v), len(v))}
                        for c, v in sorted(cats.items())},
        # answerable questions graded by key points or polarity ("must", "polarity" in the test set)
        "keypoint_accuracy": _share(sum(keyed), len(keyed)) if keyed else None,
        "by_kind": {k: {"n": len(v), "accuracy": _share(sum(v), len(v))} for k, v in sorted(kinds.items())},
        "inverted_claims": sum(s["inverted"] for _, s in rows),
        "outcomes": outcomes(rows),
    }


def outcomes(rows: list[tuple[Scored, dict]]) -> dict:
    """Where the answers went, as counts. Answerable questions: right and wrong among those shown,
    how many each stage withheld, and for the checks how many of the replies they withheld held a
    gold answer (`citations_held_answer`, `check_held_answer`, `confirm_held_answer`: answers the
    checks took away).
    Unanswerable ones: answered, or withheld at which stage. Records without a stage are left out."""
    ans = {"right": 0, "wrong": 0}
    una = {"answered": 0}
    for stage in STAGES[1:]:
        ans[stage] = una[stage] = 0
        if stage in ("citations", *NAMES):
            ans[stage + "_held_answer"] = 0
    for r, s in rows:
        if r.stage not in STAGES:
            continue
        if not r.answerable:
            una["answered" if r.stage == "shown" else r.stage] += 1
        elif r.stage == "shown":
            ans["right" if s["correct"] else "wrong"] += 1
        else:
            ans[r.stage] += 1
            if r.stage + "_held_answer" in ans:
                ans[r.stage + "_held_answer"] += contains_answer(strip_citations(r.raw), r.golds)
    return {"answerable": ans, "unanswerable": una}
