"""The chat server under load and under bad input, through its API (gradio_client), on loopback only.

    python -m qa.loadtest --clients 8 --seconds 300 --out runs/loadtest          # the real models
    python -m qa.loadtest --clients 8 --seconds 30 --max-queue 4 --fake --out /tmp/lt   # stand-ins, for CI
    # -> DIR/loadtest.json: {"concurrent_clients": 8, "answers": ..., "answers_crossed": 0, "busy_answers": ...,
    #    "p50_s": ..., "p95_s_under_load": ..., "answers_per_min": ..., "rss_growth_ratio": ...}

`run` starts a qa server in a child process on a free 127.0.0.1 port (`--serve`, over a copy of the
article in a temp dir), then N client threads, each its own gradio_client session, loop until the
time is up: mostly questions (`/ask`), now and then an upload (`/upload`) or a new chat (a new session).
The questions' right answers name different people (`QUESTIONS`), so an answer that names another
question's person instead of its own is a crossed stream. A full queue must answer "busy" at once; the
server's memory is read from /proc at the end of the warm-up and at the end.

`--fake` answers with `SourceGenerator`, which replies with the source sentence that answers the question
(a few milliseconds a word), and `robustness.WordEmbedder`: a run measures the server, not a model.

`api_rows` runs robustness.QUESTIONS and a 10 MB question through `/ask` of a live server with stand-ins:
each must give a one-line error or a verified answer (`qa bench --robustness` counts them).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .config import ROOT

ARTICLE = ROOT / "seeds" / "nato_russia_talks.txt"


@dataclass(frozen=True)
class Probe:
    question: str
    key: str        # the word a right answer holds, and no other question's answer
    source: str     # the sentence of the documents that answers it (what SourceGenerator replies)


QUESTIONS = [
    Probe("Who led the American delegation?", "Sherman",
          "Wendy Sherman, the US deputy secretary of state who led the American delegation"),
    Probe("Who was Russia's representative at the talks?", "Grushko",
          "Russia's representative, deputy foreign minister Alexander Grushko, described the talks"),
    Probe("Who is the Kremlin spokesman?", "Peskov",
          "Kremlin spokesman Dmitry Peskov, spokesman at the talks, repeated Russia's denials"),
    Probe("Who is the UK Foreign Secretary?", "Truss",
          "UK Foreign Secretary Liz Truss reiterated support for Ukraine’s sovereignty"),
    Probe("Who did Ms Sherman meet in Brussels?", "Sannino",
          "Ms Sherman also met with European External Action Service secretary-general Stefano Sannino"),
]
UPLOADS = {  # file name -> (its text, the question it answers)
    "falcon.txt": Probe("What is the code word of the Falcon project?", "Marmalade",
                        "The code word of the Falcon project is Marmalade"),
    "heron.md": Probe("What is the code word of the Heron project?", "Tangerine",
                      "The code word of the Heron project is Tangerine"),
}


class SourceGenerator:
    """The stand-in model: replies to a question of QUESTIONS or UPLOADS with its source sentence and
    the number of the passage holding it (else the abstention), `delay` seconds a word, as a stream."""
    name = "source"

    def __init__(self, delay: float = 0.01):
        self.delay = delay

    def stream(self, messages, max_tokens=96, not_first=""):
        from .prompts import ABSTAIN

        prompt = messages[-1]["content"]
        question = prompt.rsplit("Question:", 1)[-1]
        probe = next((p for p in [*QUESTIONS, *UPLOADS.values()] if p.question in question), None)
        passages = prompt.split("\n\nQuestion:")[0].split("\n")
        n = next((line[1:line.index("]")] for line in passages
                  if probe and line.startswith("[") and probe.source in line), None)
        reply = f"{probe.source} [{n}]." if n else ABSTAIN
        for i, word in enumerate(reply.split(" ")):
            time.sleep(self.delay)
            yield word if i == 0 else " " + word

    def yes_probability(self, messages):
        return 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fake_pipeline(docs: Path, index_dir: Path, delay: float = 0.01):
    from .api import Pipeline
    from .config import Config
    from .robustness import WordEmbedder

    config = Config.from_env(docs=(str(docs),), index_dir=str(index_dir), min_support=0.0, confirm=0)
    return Pipeline(config, embedder=WordEmbedder(), generator=SourceGenerator(delay))


def serve(args) -> int:
    """The server of a run (a child process): qa's app over --docs, on 127.0.0.1:--port."""
    from . import app
    from .api import Pipeline
    from .config import Config

    os.environ["QA_MAX_QUEUE"] = str(args.max_queue)
    docs, index_dir = Path(args.docs), Path(args.index_dir)
    pipe = fake_pipeline(docs, index_dir) if args.fake else Pipeline(
        Config.from_env(docs=(str(docs),), index_dir=str(index_dir)))
    app.launch(port=args.port, pipeline=pipe, quiet=True)
    return 0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_up(url: str, proc, timeout: float):
    from gradio_client import Client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode}")
        try:
            return Client(url, verbose=False)
        except Exception:
            time.sleep(1)
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s")


class Tally:
    """What the clients saw, added to under a lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.counts: dict[str, int] = {}
        self.errors: list[str] = []
        self.crossed: list[str] = []

    def add(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + n


def check_answer(out, probe: Probe) -> str:
    """'right', 'abstained', 'crossed' (names another question's key, not its own), 'wrong' or 'incomplete'."""
    from .prompts import ABSTAIN

    if not isinstance(out, dict) or list(out)[:3] != ["answer", "abstained", "citations"] or not out["answer"]:
        return "incomplete"
    text = out["answer"]
    if out["abstained"]:
        return "abstained" if text == ABSTAIN and not out["citations"] else "incomplete"
    if not out["citations"] or not text.rstrip().endswith((".", "]")):
        return "incomplete"
    if probe.key in text:
        return "right"
    others = [p.key for p in [*QUESTIONS, *UPLOADS.values()] if p.key != probe.key]
    return "crossed" if any(k in text for k in others) else "wrong"


def client_loop(url: str, seed: int, until: float, tally: Tally, uploaded: set, files: Path, timeout: float):
    """One client: questions, and now and then an upload or a new chat, until `until` (time.monotonic)."""
    from gradio_client import Client, handle_file

    rng = random.Random(seed)
    client = Client(url, verbose=False)
    while time.monotonic() < until:
        roll = rng.random()
        if roll < 0.08:
            name = rng.choice(sorted(UPLOADS))
            try:
                out = client.predict(handle_file(str(files / name)), api_name="/upload")
                ok = out["added"] == [name]
                tally.add("uploads_ok" if ok else "uploads_wrong")
                with tally.lock:
                    uploaded.add(name)
            except Exception as e:
                if _busy(e):
                    tally.add("busy_answers")
                    time.sleep(0.5)
                else:
                    tally.add("errors")
                    tally.errors.append(f"upload: {type(e).__name__}: {e}"[:300])
            tally.add("uploads")
            continue
        if roll < 0.15:
            client.reset_session()  # a new chat: a new session, nothing of the old one
            tally.add("new_chats")
            continue
        with tally.lock:
            probes = QUESTIONS + [UPLOADS[n] for n in sorted(uploaded)]
        probe = rng.choice(probes)
        t0 = time.monotonic()
        try:
            out = client.submit(probe.question, api_name="/ask").result(timeout=timeout)
        except Exception as e:
            if _busy(e):
                tally.add("busy_answers")
                time.sleep(0.5)  # an impatient user, trying again
            else:
                tally.add("errors")
                tally.errors.append(f"ask: {type(e).__name__}: {e}"[:300])
            continue
        took = time.monotonic() - t0
        verdict = check_answer(out, probe)
        with tally.lock:
            tally.latencies.append(took)
            if verdict == "crossed":
                tally.crossed.append(f"{probe.question} -> {out['answer']}"[:300])
        tally.add("answers")
        tally.add(f"answers_{verdict}")


def _busy(e: Exception) -> bool:
    return "queue is full" in str(e).lower()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile by nearest rank: percentile([1, 2, 3, 4], 0.5) == 2."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q * len(ordered) + 0.5)) - 1))]


def run(clients: int = 8, seconds: float = 300, out: str | Path = "runs/loadtest", fake: bool = False,
        max_queue: int = 16, timeout: float = 900) -> dict:
    """Start a server, run `clients` clients for `seconds`, write DIR/loadtest.json -> the figures."""
    with tempfile.TemporaryDirectory(prefix="qa-loadtest-") as tmp:
        tmp = Path(tmp)
        (tmp / "docs").mkdir()
        shutil.copy(ARTICLE, tmp / "docs" / ARTICLE.name)
        files = tmp / "files"
        files.mkdir()
        for name, probe in UPLOADS.items():
            (files / name).write_text(f"Project notes.\n\n{probe.source}. Nobody may share it.\n")
        port = free_port()
        cmd = [sys.executable, "-m", "qa.loadtest", "--serve", "--port", str(port), "--docs", str(tmp / "docs"),
               "--index-dir", str(tmp / "index"), "--max-queue", str(max_queue)] + (["--fake"] if fake else [])
        log = open(tmp / "server.log", "w")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        url = f"http://127.0.0.1:{port}/"
        try:
            first = wait_up(url, proc, 600)
            t0 = time.monotonic()
            first.predict(QUESTIONS[0].question, api_name="/ask")  # loads the model: the run measures a warm server
            warm_s = time.monotonic() - t0
            tally, uploaded = Tally(), set()
            start = time.monotonic()
            until = start + seconds
            threads = [threading.Thread(target=client_loop, args=(url, i, until, tally, uploaded, files, timeout),
                                        daemon=True) for i in range(clients)]
            for t in threads:
                t.start()
            warmup_s = min(60.0, seconds * 0.2)
            rss: list[tuple[float, float]] = []
            while any(t.is_alive() for t in threads):
                rss.append((time.monotonic() - start, rss_mb(proc.pid)))
                for t in threads:
                    t.join(timeout=1.0 / max(1, len(threads)))
            elapsed = time.monotonic() - start
            rss.append((elapsed, rss_mb(proc.pid)))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
            server_log = (tmp / "server.log").read_text(errors="replace")[-4000:]
    after_warmup = next((mb for s, mb in rss if s >= warmup_s), rss[-1][1])
    c = tally.counts
    lat = tally.latencies
    figures = {
        "mode": "fake" if fake else "real", "concurrent_clients": clients, "seconds": round(elapsed, 1),
        "max_queue": max_queue, "first_answer_s": round(warm_s, 2),
        "answers": c.get("answers", 0), "answers_right": c.get("answers_right", 0),
        "answers_abstained": c.get("answers_abstained", 0), "answers_wrong": c.get("answers_wrong", 0),
        "answers_incomplete": c.get("answers_incomplete", 0), "answers_crossed": c.get("answers_crossed", 0),
        "busy_answers": c.get("busy_answers", 0), "uploads": c.get("uploads", 0), "uploads_ok": c.get("uploads_ok", 0),
        "new_chats": c.get("new_chats", 0), "errors": c.get("errors", 0),
        "p50_s": round(percentile(lat, 0.5), 2), "p95_s_under_load": round(percentile(lat, 0.95), 2),
        "answers_per_min": round(60 * len(lat) / elapsed, 1) if elapsed else 0.0,
        "rss_after_warmup_mb": round(after_warmup, 1), "rss_end_mb": round(rss[-1][1], 1),
        "rss_growth_ratio": round(rss[-1][1] / after_warmup, 3) if after_warmup else 0.0,
        "crossed_examples": tally.crossed[:5], "error_examples": tally.errors[:5],
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "loadtest.json").write_text(json.dumps({**figures, "rss_mb": [(round(s, 1), round(m, 1)) for s, m in rss],
                                                   "latencies_s": [round(x, 3) for x in lat]}, indent=1))
    (out / "server.log").write_text(server_log)
    return figures


# -- bad questions through the API ---------------------------------------------------------------------
BIG = 10 * 1024 * 1024  # characters of the question too big to take


def api_outcome(client, question):
    """Ask through /ask: a gr.Error's one line is an error; an answer must have every quote at its
    offsets; a traceback on the server's stderr, or Gradio's generic error (a handler that raised
    anything but gr.Error), is not clean. A question gradio_client cannot encode (a lone surrogate)
    goes through Gradio's REST route as a JSON escape, as another client could send it."""
    import contextlib
    import io

    from gradio_client.exceptions import AppError

    from . import documents
    from .robustness import Outcome

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):  # the server runs in this process: its tracebacks land here
            try:
                out = client.predict(question, api_name="/ask")
            except UnicodeEncodeError:
                out = rest_ask(client.src, question)
    except AppError as e:
        message = str(e)
        generic = "has not enabled verbose error reporting" in message or not message.strip()
        traced = generic or "Traceback (most recent call last)" in err.getvalue()
        return Outcome(not traced and "\n" not in message, traced, f"error: {message}")
    except Exception as e:
        return Outcome(False, False, f"{type(e).__name__}: {e}")
    if "Traceback (most recent call last)" in err.getvalue():
        return Outcome(False, True, err.getvalue().strip().splitlines()[-1])
    bad = [c for c in out["citations"] if documents.text_of(c["doc"])[c["start"]:c["end"]] != c["quote"]]
    if bad or out["abstained"] == bool(out["citations"]):
        return Outcome(False, False, f"answer with broken citations: {out['answer']!r}")
    return Outcome(True, False, f"answer: {out['answer']}")


def rest_ask(url: str, question: str, timeout: float = 60) -> dict:
    """/ask through Gradio's REST route (POST gradio_api/call/ask, then read its event stream);
    the JSON escapes what UTF-8 cannot hold. A gr.Error comes back as AppError, as from gradio_client."""
    import httpx
    from gradio_client.exceptions import AppError

    url = url.rstrip("/") + "/gradio_api/call/ask"
    r = httpx.post(url, content=json.dumps({"data": [question]}), timeout=timeout,
                   headers={"Content-Type": "application/json"})
    r.raise_for_status()
    events = httpx.get(f"{url}/{r.json()['event_id']}", timeout=timeout).text
    kind, data = events.split("\n")[0].removeprefix("event: "), events.split("data: ", 1)[1].strip()
    if kind == "complete":
        return json.loads(data)[0]
    raise AppError((json.loads(data) or {}).get("error") or "")


def api_rows(tmp: str | Path) -> list[dict]:
    """robustness.QUESTIONS and a 10 MB question through /ask of a live server with the stand-in models
    -> rows in robustness.json's form (kind "question", channel "api")."""
    from gradio_client import Client

    from . import app
    from .robustness import Case, expected, good_pipeline, QUESTIONS as CASES

    pipe = good_pipeline(Path(tmp) / "api-good", Path(tmp) / "api-index")
    port = free_port()
    demo = app.launch(port=port, pipeline=pipe, prevent_thread_lock=True, quiet=True)
    rows = []
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        big = Case("10 MB", "Who led the talks? " * (BIG // 19), "the question is too long")
        for case in [*CASES, big]:
            t0 = time.monotonic()
            outcome = api_outcome(client, case.make)
            rows.append({"kind": "question", "channel": "api", "case": case.name, "clean": expected(case, outcome),
                         "traceback": outcome.traceback, "detail": outcome.detail[:300],
                         "seconds": round(time.monotonic() - t0, 2)})
    finally:
        demo.close()
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m qa.loadtest", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--out", default="runs/loadtest")
    ap.add_argument("--fake", action="store_true", help="stand-in models (SourceGenerator, WordEmbedder)")
    ap.add_argument("--max-queue", type=int, default=16, help="the server's queue size (QA_MAX_QUEUE)")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the child: the server itself
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--docs", help=argparse.SUPPRESS)
    ap.add_argument("--index-dir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        return serve(args)
    figures = run(args.clients, args.seconds, args.out, args.fake, args.max_queue)
    for k, v in figures.items():
        print(f"{k}: {v}")
    print(f"-> {Path(args.out) / 'loadtest.json'}")
    ok = not figures["answers_crossed"] and not figures["answers_incomplete"] and not figures["errors"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
