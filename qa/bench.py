"""`qa bench`: how fast the pipeline answers, beside raw llama.cpp on the same model,
LlamaIndex on the same model (`--peer`, see qa/peer.py) and a 100k-chunk corpus.

    qa bench --quick                  # two questions, no peer, no scale: CI-sized
    qa bench --peer --out runs/bench
    -> runs/bench/bench.json          flat numbers (null = not run), "settings", "machine"
       runs/bench/bench.md            the same as a table, with the targets and pass/miss
       runs/bench/answers.jsonl       each system's answer to each question, to audit the scoring

One process, one loaded model: the raw limit reuses the pipeline's Llama. Two
things run in child processes so their time and memory are their own: the cold
start (a fresh `python -m qa ask`) and the scale test (`python -m qa.bench --scale N`).
bench/README.md says what each number means.
"""
from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

from . import documents, index as index_mod, prompts
from .config import ROOT, Config
from .errors import QAError
from .evaluate import evaluate, load_testset
from .metrics import aggregate, percentile, score
from . import speed
from .speed import raw_limit

DEFAULT_QUESTIONS = ROOT / "tests" / "data" / "nato_qa.jsonl"
N_QUESTIONS = 20        # evenly spaced subset of the test set: all of it takes too long on 2 cores
COLD_QUESTION = "Who led the American delegation?"
SCALE_N = 100_000       # chunks in the synthetic corpus
TARGETS = {             # key -> (direction, bound), from the issue
    "first_token_p50_s": ("<=", 1.5), "total_p50_s": ("<=", 3.5), "qa_gen_over_raw": (">=", 0.9),
    "qa_total_over_peer": ("<=", 0.5), "cold_start_s": ("<=", 10), "peak_rss_mb": ("<=", 3072),
    "scale_retrieve_p50_ms": ("<=", 20),
}
KEYS = (  # every flat key of bench.json, in table order
    "raw_prompt_tps", "raw_gen_tps", "raw_gen_tps_at_qa_context",
    "mem_gbs", "matmul_gflops", "raw_gen_bound_tps", "raw_gen_share",
    "cold_start_s", "first_token_p50_s", "first_token_p95_s", "total_p50_s", "total_p95_s",
    "prompt_tokens_mean", "prompt_evaluated_mean", "qa_gen_tps", "qa_gen_over_raw", "qa_gen_over_raw_short",
    "check_p50_s", "rereads",
    "index_build_s", "retrieve_p50_ms", "peak_rss_mb",
    "answerable_accuracy", "unanswerable_abstention",
    "peer_index_build_s", "peer_total_p50_s", "peer_answerable_accuracy", "peer_unanswerable_abstention",
    "peer_citation_total_p50_s", "peer_citation_answerable_accuracy", "peer_citation_unanswerable_abstention",
    "qa_total_over_peer",
    "scale_index_build_s", "scale_retrieve_p50_ms", "scale_dense_p50_ms", "scale_bm25_p50_ms", "scale_peak_rss_mb",
)


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def pick(items: list[dict], quick: bool) -> list[dict]:
    """The questions timed: quick = first answerable + first unanswerable, else N_QUESTIONS evenly spaced.

    >>> [i["id"] for i in pick([{"id": n, "answerable": n < 3} for n in range(6)], quick=True)]
    [0, 3]
    >>> [i["id"] for i in pick([{"id": n} for n in range(50)], quick=False)][:5]
    [0, 3, 5, 8, 10]
    """
    if quick:
        firsts = [next((i for i in items if i.get("answerable") is a), None) for a in (True, False)]
        return [i for i in firsts if i is not None]
    if len(items) <= N_QUESTIONS:
        return list(items)
    return [items[round(k * (len(items) - 1) / (N_QUESTIONS - 1))] for k in range(N_QUESTIONS)]


def rss_mb(who=resource.RUSAGE_SELF) -> float:
    """Peak resident memory in MB. Linux carries a parent's peak into a child's ru_maxrss (across
    fork and exec), so RUSAGE_CHILDREN is only good for a maximum over parent and child, and a child
    reporting on itself reads VmHWM, its own address space's high-water mark."""
    if who == resource.RUSAGE_SELF and os.path.exists("/proc/self/status"):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def config_env(config: Config) -> dict:
    """os.environ plus QA_<FIELD> for every config field, so a child process gets the same Config."""
    env = dict(os.environ)
    for f in fields(config):
        v = getattr(config, f.name)
        env["QA_" + f.name.upper()] = os.pathsep.join(v) if f.name == "docs" else str(v)
    return env


# -- the pipeline on the real model ---------------------------------------------
def warm_up(pipe, question: str) -> None:
    """Get one question's passages and put its prompt through the model (one token): the search
    (a set not read whole; one read whole is not searched) and llama.cpp's cached prompt prefix
    (for a set read whole: the document, loaded from index/<set>/ or evaluated) are then as they
    are in steady use."""
    pipe.warm()
    passages = pipe.passages(question)
    if passages:
        for _ in pipe.generator.stream(prompts.answer_messages(question, passages), 1):
            pass


def ask_all(pipe, items: list[dict]) -> tuple[dict, list]:
    """Ask each question through the pipeline -> (latency percentiles, prompt size, generation speed
    and accuracy; the Scored records). Prompt size and generation speed are the answer's own: the first
    reply each question streams (the readings that follow it, a re-read, the shortest answer, the confirming
    reading, a second chance, leave their own counts on the generator)."""
    gen = pipe.generator
    firsts, totals, checks, prompt_toks, evaluated, records = [], [], [], [], [], []
    gen_toks = gen_s = 0.0
    rereads = 0
    counts: list[tuple[int, int, int]] = []  # (prompt, evaluated, completion tokens) of each stream, in order
    stream = gen.stream

    def counted(*args, **kwargs):
        yield from stream(*args, **kwargs)
        counts.append((gen.last_prompt_tokens, getattr(gen, "last_prompt_evaluated", gen.last_prompt_tokens),
                       gen.last_completion_tokens))

    gen.stream = counted
    try:
        for item in items:
            counts.clear()
            _, answer, scored = evaluate([item], pipe, progress=False)[0]
            records.append(scored)
            t = answer.timings
            totals.append(t["total_s"])
            if "first_token_s" in t:
                firsts.append(t["first_token_s"])
            if "check_s" in t:
                checks.append(t["check_s"])
            rereads += "reread_s" in t
            if not counts:  # abstained before the model
                continue
            prompt, evaluated_now, completion = counts[0]
            if prompt:
                prompt_toks.append(prompt)
                evaluated.append(evaluated_now)
            if completion > 1 and t.get("generate_s"):
                gen_toks += completion - 1  # the first token's time is in first_token_s
                gen_s += t["generate_s"]
    finally:
        del gen.stream
    m = aggregate(records)
    return {
        "first_token_p50_s": percentile(firsts, 50) if firsts else None,
        "first_token_p95_s": percentile(firsts, 95) if firsts else None,
        "total_p50_s": percentile(totals, 50), "total_p95_s": percentile(totals, 95),
        "prompt_tokens_mean": sum(prompt_toks) / len(prompt_toks) if prompt_toks else None,
        "prompt_evaluated_mean": sum(evaluated) / len(evaluated) if evaluated else None,
        "qa_gen_tps": gen_toks / gen_s if gen_s else None,
        "check_p50_s": percentile(checks, 50) if checks else None,
        "rereads": rereads,
        "answerable_accuracy": m["answerable_accuracy"] if m["n_answerable"] else None,
        "unanswerable_abstention": m["unanswerable_abstention"] if m["n_unanswerable"] else None,
    }, records


def p50_ms(fn, inputs: list, reps: int) -> float:
    """Median milliseconds of fn(x), x cycling through inputs, after three warm-up calls."""
    for x in inputs[:3]:
        fn(x)
    times = []
    for i in range(reps):
        t0 = time.perf_counter()
        fn(inputs[i % len(inputs)])
        times.append(time.perf_counter() - t0)
    return 1000 * percentile(times, 50)


def index_build_s(config: Config, embedder) -> float:
    """Chunk, embed and save config.docs from scratch into a temp index_dir."""
    with tempfile.TemporaryDirectory(prefix="qa-bench-index-") as tmp:
        t0 = time.perf_counter()
        index_mod.build(replace(config, index_dir=tmp), embedder)
        return time.perf_counter() - t0


def cold_start(config: Config, question: str) -> tuple[float, float, dict]:
    """(seconds to the printed answer, child's peak RSS in MB, the answer's own timings) of a fresh
    `python -m qa ask --json`; the seconds before the answer's timings start are imports and loading."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "qa", "ask", question, "--json"], cwd=ROOT,
                                env=config_env(config), stdout=subprocess.PIPE, stderr=err, text=True)
        line = proc.stdout.readline()
        seconds = time.perf_counter() - t0
        proc.stdout.read()
        proc.wait()
        if proc.returncode or not line.strip().startswith("{"):
            err.seek(0)
            tail = err.read().decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise QAError(f"cold start failed (exit {proc.returncode}): {tail[0]}")
    timings = json.loads(line).get("timings", {})
    return seconds, rss_mb(resource.RUSAGE_CHILDREN), timings  # the largest child so far: run before scale


# -- scale: a synthetic corpus, search only ----------------------------------------
_SYLLABLES = [c + v for c in "bdfgklmnprtvz" for v in "aeiou"]  # 65; no word ends in s or is a stop word


class FixedEmbedder:
    """Returns one fixed unit vector for any text, so scale timings are the search alone."""
    name = "fixed"

    def __init__(self, dim: int = 384, seed: int = 1):
        v = np.random.default_rng(seed).standard_normal((1, dim)).astype("float32")
        self.dim, self.vector = dim, v / np.linalg.norm(v)

    def embed(self, texts):
        return np.repeat(self.vector, len(texts), axis=0)


def synthetic_corpus(n: int, dim: int = 384, words: int = 40, seed: int = 0):
    """(texts, unit vectors (n, dim) float32, queries): words drawn Zipf-like from a fixed 4,225-word
    vocabulary, so common words have long posting lists as in real text.

    >>> texts, vecs, queries = synthetic_corpus(3, dim=4, words=5)
    >>> len(texts), vecs.shape, len(texts[0].split()), len(queries)
    (3, (3, 4), 5, 50)
    """
    rng = np.random.default_rng(seed)
    vocab = [a + b for a in _SYLLABLES for b in _SYLLABLES]
    p = 1 / np.arange(1, len(vocab) + 1)
    p /= p.sum()
    ids = rng.choice(len(vocab), size=(n, words), p=p)
    texts = [" ".join(vocab[j] for j in row) for row in ids]
    vecs = rng.standard_normal((n, dim)).astype("float32")
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    queries = [" ".join(vocab[j] for j in row) for row in rng.choice(len(vocab), size=(50, 6), p=p)]
    return texts, vecs, queries


def scale(n: int = SCALE_N, k: int = 4, reps: int = 50) -> dict:
    """Build FAISS + BM25 over n synthetic chunks and time the hybrid search and its two halves."""
    from .retrieve import Retriever
    from .types import Chunk

    texts, vecs, queries = synthetic_corpus(n)
    chunks = [Chunk(f"s{i}", "synthetic", 0, len(t), t) for i, t in enumerate(texts)]
    emb = FixedEmbedder(vecs.shape[1])
    t0 = time.perf_counter()
    idx = index_mod.Index(Path("."), chunks, index_mod.make_faiss(vecs, emb.dim), {})
    retriever = Retriever(idx, emb)
    build_s = time.perf_counter() - t0

    depth = min(retriever.depth, n)
    return {"scale_n": n, "scale_index": type(idx.vectors).__name__, "scale_index_build_s": build_s,
            "scale_retrieve_p50_ms": p50_ms(lambda q: retriever.search(q, k), queries, reps),
            "scale_dense_p50_ms": p50_ms(lambda q: idx.vectors.search(emb.vector, depth), queries, reps),
            "scale_bm25_p50_ms": p50_ms(retriever.bm25.scores, queries, reps),
            "scale_peak_rss_mb": rss_mb()}


def scale_in_child(n: int = SCALE_N) -> dict:
    out = subprocess.run([sys.executable, "-m", "qa.bench", "--scale", str(n)], cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode:
        tail = out.stderr.strip().splitlines()[-1:] or ["no output"]
        raise QAError(f"scale test failed (exit {out.returncode}): {tail[0]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- report ----------------------------------------------------------------------
def verdict(key: str, value) -> str:
    """'pass' or 'miss' against TARGETS; '' without a target, 'not run' without a value.

    >>> verdict("total_p50_s", 3.5), verdict("qa_gen_over_raw", 0.5), verdict("raw_gen_tps", 9.0)
    ('pass', 'miss', '')
    """
    if key not in TARGETS:
        return ""
    if value is None:
        return "not run"
    op, bound = TARGETS[key]
    return "pass" if (value <= bound if op == "<=" else value >= bound) else "miss"


def fmt(value) -> str:
    """A table cell: four significant digits, no exponent.

    >>> fmt(None), fmt(0.123456), fmt(1234.5), fmt(12)
    ('-', '0.1235', '1234', '12')
    """
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def render(result: dict) -> str:
    """bench.md: settings line, then one row per key with its target and verdict."""
    s = result.get("settings", {})
    head = (f"model {s.get('model', '?')}, {s.get('threads', '?')} threads, n_batch {s.get('n_batch', '?')}, "
            f"top_k {s.get('top_k', '?')}, {s.get('n', '?')} questions from {s.get('questions', '?')}")
    if result.get("build"):
        head += f"\n\nllama-cpp-python {result['build']['llama_cpp']}: {result['build']['verdict']}"
    rows = ["| metric | value | target | result |", "| --- | ---: | ---: | --- |"]
    for key in KEYS:
        op, bound = TARGETS.get(key, ("", ""))
        target = f"{'≤' if op == '<=' else '≥'} {bound}" if op else ""
        rows.append(f"| {key} | {fmt(result.get(key))} | {target} | {verdict(key, result.get(key))} |")
    notes = [f"- {n}" for n in result.get("notes", [])]
    return "\n".join([f"# qa bench\n\n{head}\n", *rows, "", *notes]).rstrip() + "\n"


def write(result: dict, out: str, answers: dict[str, list] | None = None) -> Path:
    """bench.json, bench.md, and answers.jsonl: one line per system and question, to audit the scoring."""
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "bench.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    (outdir / "bench.md").write_text(render(result), encoding="utf-8")
    with open(outdir / "answers.jsonl", "w", encoding="utf-8") as f:
        for system, records in (answers or {}).items():
            for rec in records:
                f.write(json.dumps({"system": system, "id": rec.id, "answerable": rec.answerable,
                                    "answer": rec.answer, "abstained": rec.abstained,
                                    "correct": score(rec)["correct"], "total_s": round(rec.total_s, 4)},
                                   ensure_ascii=False) + "\n")
    return outdir


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"cpu_count": os.cpu_count(), "cpu": cpu, "platform": platform.platform(),
            "python": platform.python_version()}


# -- the command -------------------------------------------------------------------
def run(config: Config, peer: bool = False, questions: str | None = None, out: str = "runs/bench",
        quick: bool = False, pipeline=None) -> dict:
    from .api import Pipeline

    qfile = questions or str(DEFAULT_QUESTIONS)
    every = load_testset(qfile)
    items = pick(every, quick)
    if not items:
        raise QAError(f"{qfile}: no questions")
    warm = next((i["question"] for i in every if i not in items), items[0]["question"])
    if peer:
        from .peer import require

        require()  # fail now, not after minutes of measuring
    pipe = pipeline or Pipeline(config)
    r: dict = dict.fromkeys(KEYS)
    notes: list[str] = []
    answers: dict[str, list] = {}  # system -> Scored records, for answers.jsonl

    log("loading index, embedder and model")
    pipe.index
    t0 = time.perf_counter()
    llm = pipe.generator.load() if hasattr(pipe.generator, "load") else None
    r["model_load_s"] = time.perf_counter() - t0
    if llm is not None:
        log("raw llama.cpp limit: the speed self-test of `qa models`, on this build and this model")
        st = speed.measure(llm, str(pipe.generator.path), config.threads(), rounds=2 if quick else 3)
        r.update(raw_prompt_tps=st.prompt_tps, raw_gen_tps=st.gen_tps, mem_gbs=st.mem_gbs, matmul_gflops=st.gflops,
                 raw_gen_bound_tps=st.gen_bound_tps, raw_gen_share=st.gen_share)
        r["build"] = {"llama_cpp": st.llama_cpp, "system_info": st.build, "verdict": speed.verdict(st)[-1]}
    log(f"warm-up, then {len(items)} questions")
    warm_up(pipe, warm)
    numbers, answers["qa"] = ask_all(pipe, items)
    r.update(numbers)
    if llm is not None and r["prompt_tokens_mean"]:
        # generation slows as the context grows: the limit for qa's answers is raw llama.cpp
        # generating after a prompt as long as qa's (a whole document is ~2,000 tokens)
        at = raw_limit(llm, documents.text_of(pipe.documents()[0]), n_prompt=round(r["prompt_tokens_mean"]),
                       n_gen=32 if quick else 64, rounds=1 if quick else 3)
        r["raw_gen_tps_at_qa_context"] = at["raw_gen_tps"]
    if r["qa_gen_tps"] and r["raw_gen_tps"]:
        r["qa_gen_over_raw_short"] = r["qa_gen_tps"] / r["raw_gen_tps"]
        r["qa_gen_over_raw"] = r["qa_gen_tps"] / (r["raw_gen_tps_at_qa_context"] or r["raw_gen_tps"])
    r["retrieve_p50_ms"] = p50_ms(lambda q: pipe.retriever.search(q, config.top_k),
                                  [i["question"] for i in items], reps=20 if quick else 100)
    log("index build from scratch")
    r["index_build_s"] = index_build_s(config, pipe.embedder)
    log("cold start")
    cold_q = COLD_QUESTION if Path(qfile).resolve() == DEFAULT_QUESTIONS else items[0]["question"]
    r["cold_start_s"], child_rss, r["cold_start_timings"] = cold_start(config, cold_q)
    r["peak_rss_mb"] = max(rss_mb(), child_rss)  # before the peer loads a second model here

    if peer:
        from .peer import run as run_peer

        log("peer: LlamaIndex on the same model")
        numbers, peer_answers = run_peer(config, items, warm)
        r.update(numbers)
        answers.update(peer_answers)
        notes.append("peer abstention is judged by phrases (qa/peer.py ABSTAINS); its answers have no verified quotes")
        if r["peer_total_p50_s"]:
            r["qa_total_over_peer"] = r["total_p50_s"] / r["peer_total_p50_s"]
    if not quick:
        log(f"scale: {SCALE_N:,} synthetic chunks in a child process")
        try:
            r.update(scale_in_child(SCALE_N))
        except QAError as e:
            notes.append(str(e))
    r = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
    gen = pipe.generator
    r["settings"] = {"model": getattr(gen, "name", "?"), "threads": config.threads(), "n_batch": config.n_batch,
                     "n_ctx": config.n_ctx, "top_k": config.top_k, "max_tokens": config.max_tokens,
                     "questions": os.path.relpath(qfile, ROOT) if qfile.startswith(str(ROOT)) else qfile,
                     "n": len(items), "ids": [str(i["id"]) for i in items], "quick": quick, "peer": peer,
                     "docs": pipe.documents()}
    if peer:
        from .peer import PEER_CONTEXT

        r["settings"]["peer_context_window"] = max(config.n_ctx, PEER_CONTEXT)
    r["machine"] = machine()
    r["notes"] = notes
    outdir = write(r, out, answers)
    print(render(r))
    print(f"wrote {outdir}/bench.json, bench.md, answers.jsonl")
    return r


def main(argv=None) -> int:
    """`python -m qa.bench --scale N`: the scale test alone, one JSON line on stdout (used by `qa bench`)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m qa.bench")
    ap.add_argument("--scale", type=int, default=SCALE_N, metavar="N", help="chunks in the synthetic corpus")
    args = ap.parse_args(argv)
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in scale(args.scale).items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
