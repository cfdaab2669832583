"""The human-readable evaluation report: report.md and its chart report.png."""
from __future__ import annotations

from pathlib import Path

from .metrics import STAGES, score


def write_chart(path: Path, metrics: dict, totals: list[float]) -> None:
    """Two panels: accuracy per question category, and the distribution of answer latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cats = metrics["by_category"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(cats)
    ax1.barh(names, [cats[c]["accuracy"] for c in names], color="#3b7dd8")
    ax1.set_xlim(0, 1)
    ax1.set_xlabel("accuracy (answerable: correct answer; unanswerable: abstained)")
    ax1.set_title("per category")
    for i, c in enumerate(names):
        ax1.text(min(cats[c]["accuracy"], 0.9) + 0.01, i, f"n={cats[c]['n']}", va="center", fontsize=8)
    ax2.hist(totals, bins=20, color="#6aa84f")
    ax2.set_xlabel("seconds per answer")
    ax2.set_title(f"latency (p50 {metrics['total_p50_s']} s, p95 {metrics['total_p95_s']} s)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# Who withheld an answer, by stage (metrics.STAGES; every abstained record from `qa eval` has one of these).
WHO = {"gate": "the retrieval gate (no model pass)", "model": "the model", "citations": "the citation check",
       "premise": "the premise check (the quote says the opposite of a word of the question)",
       "speaker": "the speaker check (the quote has no one the claim names say it)",
       "elsewhere": "the wrong-sentence check (another sentence holds the question's words the quote lacks)",
       "check": "the answer check", "agree": "the shortest-answer reading of the quote",
       "entail": "the entailment check of a negated claim",
       "polarity": "the yes/no check on the quoted sentences", "items": "the check of each list item",
       "confirm": "the reading of the quoted sentences alone"}


def _outcomes(o: dict | None) -> list[str]:
    """The table of where the answers went (metrics.outcomes)."""
    if not o:
        return []
    a, u = o["answerable"], o["unanswerable"]
    rows = [("shown, right", a["right"], "—"), ("shown, wrong", a["wrong"], u["answered"])]
    for stage in STAGES[1:]:  # every stage that withholds
        held = a.get(stage + "_held_answer")
        shown = a[stage] if held is None else f"{a[stage]} ({held} held a gold answer)"
        rows.append((f"withheld by {WHO[stage]}", shown, u[stage]))
    return (["## Where the answers went", "", "| | answerable | unanswerable |", "|---|---|---|"]
            + [f"| {name} | {x} | {y} |" for name, x, y in rows] + [""])


def write_report(outdir: Path, metrics: dict, results) -> None:
    write_chart(outdir / "report.png", metrics, [r.total_s for _, _, r in results])
    s = metrics["settings"]
    lines = [f"# Evaluation: {s['testset']}", "",
             f"Model `{s['model']}`, top-k {s['top_k']}, documents: {', '.join(s['docs'])}", "",
             "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in metrics.items() if not isinstance(v, dict)]
    lines += ["", "![per-category accuracy and latency](report.png)", ""]
    lines += _outcomes(metrics.get("outcomes"))
    lines += ["## Misses", ""]
    misses = [(item, answer, rec) for item, answer, rec in results if not score(rec)["correct"]]
    if not misses:
        lines.append("None.")
    for item, answer, rec in misses:
        want = "abstain" if not rec.answerable else " / ".join(rec.golds)
        got = f"(abstained: {WHO[rec.stage]})" if answer.abstained else answer.text
        if answer.abstained and rec.stage == "check":
            got = got[:-1] + f", P(yes) {answer.support:.2f})"
        if answer.abstained and rec.stage in ("citations", "check"):
            got += f"; the model's reply: {rec.raw.strip()}"
        lines.append(f"- **{rec.id}** {item['question']} — expected: {want}; got: {got}")
    (outdir / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
