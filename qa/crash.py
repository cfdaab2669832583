"""Crash safety, measured: `kill -9` of a build or an upload at random moments, and damaged prompt-prefix files.

    python -m qa.crash --out runs/crash                  # 1,000 documents, 20 kills, the real embedder
    python -m qa.crash --docs 200 --points 6 --words     # the stand-in embedder: seconds, not minutes
    {"kill9_runs": 20, "kill9_broken_indexes": 0, "upload_kills": 4, "upload_broken": 0, ...}

A kill round: change documents (rewrite some, add, delete, rename), start `python -m qa index`, SIGKILL
it after a seeded random delay spread over an uninterrupted build's duration, then read the set's
index: it must load and be one of the two committed states (before or after) with every chunk the
text at its offsets of the version it was built from and one vector per chunk; or be refused in one
line and rebuilt. `--words` runs the same write path with `robustness.WordEmbedder` instead of MiniLM.
KV_CORRUPTIONS: damaged `kv-*.bin` files (qa/kv_file.py), each must be refused with a reason.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from . import documents, index as ix, kv_file
from .config import Config
from .errors import IndexError_

WORDS = ("minister delegation treaty harbour council budget river winter station archive museum "
         "railway census festival bridge library factory election vineyard glacier orchestra").split()
NAMES = "Anna Berg,Lars Holm,Maria Costa,Jonas Vik,Elena Ruiz,Tomas Novak,Ines Weber,Karl Dahl".split(",")


def document(rng: random.Random, n: int, version: int) -> str:
    """A small document of 3 to 8 sentences (~400 characters), different for each (n, version)."""
    out = [f"Record {n} (version {version})."]
    for _ in range(rng.randint(3, 8)):
        a, b = rng.sample(WORDS, 2)
        out.append(f"{rng.choice(NAMES)} described the {a} near the {b} as number {rng.randint(1, 10**6)}.")
    return " ".join(out) + "\n"


def make_docs(folder: Path, n: int, seed: int = 0) -> dict[str, str]:
    """n documents doc-0000.txt ... in folder; returns sha256 -> text of each."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    seen = {}
    for i in range(n):
        seen.update(_put(folder / f"doc-{i:04d}.txt", document(rng, i, 0)))
    return seen


def _put(path: Path, text: str) -> dict[str, str]:
    path.write_text(text, encoding="utf-8")
    return {hashlib.sha256(text.encode()).hexdigest(): text}


def _number(path: Path) -> int:
    return int(re.search(r"doc-(\d+)", path.name).group(1))


def mutate(folder: Path, rng: random.Random, version: int, share: float = 0.5) -> dict[str, str]:
    """Rewrite `share` of the documents, delete 3, add 3, rename 3; returns sha256 -> text of the new ones."""
    files = sorted(folder.glob("*.txt"))
    seen = {}
    for p in rng.sample(files, int(len(files) * share)):
        seen.update(_put(p, document(rng, _number(p), version)))
    for p in rng.sample(files, 3):
        p.unlink()
    top = max(map(_number, folder.glob("*.txt"))) + 1
    for i in range(top, top + 3):
        seen.update(_put(folder / f"doc-{i:04d}.txt", document(rng, i, version)))
    for k, p in enumerate(rng.sample(sorted(folder.glob("*.txt")), 3)):
        p.rename(folder / f"moved-{version}-{k}-{p.name}")
    return seen


def consistent(idx, texts: dict[str, str]) -> str:
    """'' when every chunk is the text at its offsets of the version the manifest names, and there is one
    vector per chunk, and the chunks cover exactly the manifest's documents."""
    docs = idx.manifest["documents"]
    if idx.vectors.ntotal != len(idx.chunks) or {c.doc for c in idx.chunks} != set(docs):
        return f"{idx.vectors.ntotal} vectors, {len(idx.chunks)} chunks over {len({c.doc for c in idx.chunks})} " \
               f"of {len(docs)} documents"
    for c in idx.chunks:
        text = texts.get(docs[c.doc])
        if text is None or text[c.start:c.end] != c.text:
            return f"{c.doc}: a chunk is not the text at its offsets"
    return ""


def _command(folder: Path, index_dir: Path, words: bool) -> list[str]:
    if words:  # the same build and write path, the stand-in embedder
        return [sys.executable, "-m", "qa.crash", "build", str(folder), "--index-dir", str(index_dir)]
    return [sys.executable, "-m", "qa", "index", str(folder), "--index-dir", str(index_dir)]


def _env() -> dict:
    return {**os.environ, "QA_MODEL": "/nonexistent/no-model.gguf", "QA_WHOLE_CHARS": "0"}


def _timed(cmd: list[str]) -> tuple[float, float]:
    """(seconds the whole run took, seconds from "saving index" on stderr to the end)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
    saving = _wait_for(proc, b"saving index")
    err = proc.stderr.read()
    if proc.wait():
        raise RuntimeError(f"{' '.join(cmd)} failed: {err.decode()[-500:]}")
    end = time.perf_counter()
    return end - t0, end - (saving or end)


def _wait_for(proc, text: bytes) -> float | None:
    """Read proc's stderr until `text` shows (a progress message); the moment it did, or None at its end."""
    seen = b""
    while True:
        piece = os.read(proc.stderr.fileno(), 4096)
        if not piece:
            return None
        seen = seen[-len(text):] + piece
        if text in seen:
            return time.perf_counter()


def _kill(cmd: list[str], delay: float, after: bytes = b"") -> float | None:
    """Run cmd and SIGKILL it `delay` seconds after its start (or after `after` appeared on its stderr).
    None if it was killed; else it finished first, and the seconds it took (from `after`, if given)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
    if after:
        t0 = _wait_for(proc, after)
        if t0 is None:
            proc.wait()
            return 0.0
    drain = threading.Thread(target=proc.stderr.read, daemon=True)  # the child never blocks on a full pipe
    drain.start()
    try:
        proc.wait(timeout=delay)
        return time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None


def _embedder(words: bool):
    if words:
        from .robustness import WordEmbedder

        return WordEmbedder()
    from .embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


def check(config: Config, before: dict | None, texts: dict[str, str], embedder) -> str:
    """After a kill: '' if the set's index loads as a committed state (the one before, or one of the current
    files) and is consistent, or is refused and rebuilt with one line said; else what is wrong."""
    path = ix.set_dir(config)
    try:
        idx = ix.load(path)
    except IndexError_:
        if not (path / "manifest.json").exists():  # killed before its first commit: a plain first build
            return consistent(ix.build(config, embedder), texts)
        said: list[str] = []
        try:
            again = ix.build(config, embedder, progress=lambda done, total, msg: said.append(msg))
        except Exception as e:
            return f"not loadable, and the rebuild failed: {type(e).__name__}: {e}"
        told = [m for m in said if "rebuilding" in m]
        return "" if len(told) == 1 and "\n" not in told[0] and not consistent(again, texts) else \
            f"rebuilt, but said {said!r}"
    now = {d: documents.sha256(d) for d in documents.expand(config.docs)}
    if idx.manifest["documents"] not in (before, now):
        return "the index is neither the one before the kill nor one of the current documents"
    return consistent(idx, texts)


def kill9(n_docs: int = 1000, points: int = 20, seed: int = 0, words: bool = False, tmp: Path | None = None,
          log=None) -> dict:
    """`points` builds of a changing n_docs-document folder, each SIGKILLed at a random moment."""
    rng = random.Random(seed)
    log = log or (lambda msg: None)
    with tempfile.TemporaryDirectory(prefix="qa-crash-") as t:
        base = Path(tmp or t)
        folder, index_dir = base / "docs", base / "index"
        texts = make_docs(folder, n_docs, seed)
        config = Config(docs=(str(folder),), index_dir=str(index_dir))
        cmd = _command(folder, index_dir, words)
        first, _ = _timed(cmd)  # the previous good state
        texts.update(mutate(folder, rng, 1))
        full, saving = _timed(cmd)  # an uninterrupted incremental build: the span the kills are spread over
        log(f"first build {first:.1f} s, an incremental one {full:.1f} s, of which {saving:.2f} s writing")
        embedder = _embedder(words)
        runs = broken = late = refused = in_save = 0
        problems = []
        for i in range(points):
            for _ in range(3):  # a run quicker than the one measured is tried again, with its own duration
                before = ix.load(ix.set_dir(config)).manifest["documents"]
                if i % 2 == 0:  # stratified over the whole build: every stretch of it gets a kill
                    texts.update(mutate(folder, rng, i + 2))
                    delay, after = full * (i + rng.random()) / points, b""
                else:  # while the index is written (from "saving index" on): fewer changes, a quicker run up to it
                    texts.update(mutate(folder, rng, i + 2, share=0.05))
                    delay, after = saving * rng.random(), b"saving index"
                took = _kill(cmd, delay, after)
                try:
                    ix.load(ix.set_dir(config))
                except IndexError_:
                    refused += 1
                wrong = check(config, before, texts, embedder)  # a run that finished is checked too
                broken += bool(wrong)
                what = f"kill {i + 1} at {delay:.3f} s{' into the write' if after else ''}"
                if wrong:
                    problems.append(f"{what}: {wrong}")
                log(f"{what}: {'finished first; ' if took is not None else ''}{wrong or 'ok'}")
                if took is None:
                    runs += 1
                    in_save += bool(after)
                    break
                late += 1
                if after:
                    saving = min(saving, took) or saving
                else:
                    full = min(full, took)
    return {"kill9_runs": runs, "kill9_during_write": in_save, "kill9_finished_first": late,
            "kill9_broken_indexes": broken, "kill9_refused_and_rebuilt": refused, "kill9_documents": n_docs, "kill9_build_s": round(full, 2),
            "kill9_write_s": round(saving, 3),
            "kill9_problems": problems}


def kill_upload(points: int = 4, seed: int = 0, words: bool = True, size: int = 8_000_000, log=None) -> dict:
    """qa.app.upload in a process SIGKILLed at random moments (the first kill as soon as the copy has
    begun): the set indexed before must still load, and the set with the uploads folder (as `qa serve`
    reads it) must load or be rebuilt, with no half-copied upload in it."""
    rng = random.Random(seed)
    log = log or (lambda msg: None)
    with tempfile.TemporaryDirectory(prefix="qa-crash-upload-") as t:
        base = Path(t)
        texts = make_docs(base / "docs", 20, seed)
        big = base / "incoming" / "big.txt"
        big.parent.mkdir()
        words_ = "Anna Berg the Swedish trade minister visited Oslo on Monday and "  # few sentences: quick to chunk
        big.write_text(words_ * (size // len(words_)) + "\n")
        texts[documents.sha256(str(big))] = big.read_text()
        config = Config(docs=(str(base / "docs"),), index_dir=str(base / "index"), whole_chars=0)
        embedder = _embedder(words)
        ix.build(config, embedder)
        script = ("import sys; from qa.api import Pipeline; from qa.app import upload; from qa.config import Config; "
                  "from qa.robustness import WordEmbedder\n"
                  f"p = Pipeline(Config(docs=({str(base / 'docs')!r},), index_dir={str(base / 'index')!r}, "
                  f"whole_chars=0), embedder={'WordEmbedder()' if words else 'None'})\n"
                  f"upload(p, [{str(big)!r}])\n")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, env=_env())
        full = time.perf_counter() - t0
        uploads = base / "index" / "uploads"
        added = replace(config, docs=config.docs + (str(uploads / big.name),))  # the set upload() builds
        served = replace(config, docs=config.docs + (str(uploads),))  # the set `qa serve` reads next
        runs = broken = partial = 0
        problems = []
        for i in range(points):
            delay = full * rng.random()
            for _ in range(4):  # an upload quicker than the first one may end before its kill: try earlier
                shutil.rmtree(uploads, ignore_errors=True)  # each round a first upload
                for d in (ix.set_dir(added), ix.set_dir(served)):
                    shutil.rmtree(d, ignore_errors=True)
                proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, env=_env())
                if i == 0:  # the copy itself: kill as soon as the file has appeared, before it is whole
                    while proc.poll() is None and not (uploads / big.name).exists():
                        time.sleep(0.0005)
                else:
                    time.sleep(delay)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    runs += 1
                    break
                delay /= 2
            wrong = check(config, None, texts, embedder)  # the set before the upload
            if not wrong and (ix.set_dir(added) / "manifest.json").exists():
                wrong = check(added, None, texts, embedder)
            half = [f.name for f in uploads.glob("*") if f.read_bytes() != big.read_bytes()]
            partial += bool(half)
            if not wrong and list(uploads.glob("*")):
                wrong = check(served, None, texts, embedder) if not half else \
                    f"a half-copied upload would be indexed as whole: {half}"
            broken += bool(wrong)
            if wrong:
                problems.append(f"upload kill {i + 1}: {wrong}")
            log(f"upload kill {i + 1}/{points}: {wrong or 'ok'}")
    return {"upload_kills": runs, "upload_broken": broken, "upload_half_copied": partial, "upload_s": round(full, 2),
            "upload_problems": problems}


# -- damaged prompt-prefix files (kv-*.bin) ---------------------------------------------------------------------
def _kv_rewrite(change):
    def corrupt(path: Path) -> None:
        path.write_bytes(change(path.read_bytes()))
    return corrupt


def _kv_other_model(path: Path) -> None:  # a file another model wrote, under this model's name
    kv_file.write(path.with_name("kv-0123456789ab.bin"), KV_TOKENS, KV_CTX, KV_STATE)
    os.replace(path.with_name("kv-0123456789ab.bin"), path)


KV_TOKENS, KV_CTX, KV_STATE = list(range(1, 301)), 4096, bytes(range(256)) * 400
KV_CORRUPTIONS = [
    ("truncated to half", _kv_rewrite(lambda b: b[:len(b) // 2]), "truncated"),
    ("truncated by one byte", _kv_rewrite(lambda b: b[:-1]), "truncated"),
    ("cut inside the header", _kv_rewrite(lambda b: b[:20]), "damaged header"),
    ("empty file", _kv_rewrite(lambda b: b""), "not a qa prompt-prefix file"),
    ("one state byte changed", _kv_rewrite(lambda b: b[:-10] + bytes([b[-10] ^ 1]) + b[-9:]), "sha256 differs"),
    ("overwritten, same size", _kv_rewrite(lambda b: b"\0" * len(b)), "not a qa prompt-prefix file"),
    ("llama.cpp's own format (an older qa)", _kv_rewrite(lambda b: b"ggsq" + b[4:]), "not a qa prompt-prefix file"),
    ("written by another model", _kv_other_model, "another model"),
    ("written for another context size", lambda p: kv_file.write(p, KV_TOKENS, 2048, KV_STATE), "context of 2048"),
]


def kv_outcomes(folder: Path) -> list[tuple[str, bool, str]]:
    """(case, detected, reason) per KV_CORRUPTIONS case: kv_file.read must raise Damaged naming the damage."""
    out = []
    for name, corrupt, expect in KV_CORRUPTIONS:
        path = folder / "kv-feedfacecafe.bin"
        kv_file.write(path, KV_TOKENS, KV_CTX, KV_STATE)
        corrupt(path)
        try:
            kv_file.read(path, KV_TOKENS, KV_CTX)
            out.append((name, False, "read as valid"))
        except kv_file.Damaged as e:
            out.append((name, expect in str(e), str(e)))
        except Exception as e:
            out.append((name, False, f"{type(e).__name__}: {e}"))
    return out


def figures(log=None) -> dict:
    """The crash figures of `qa bench --robustness` (robustness.json): 1,000 documents, 20 kills, MiniLM,
    about 15 minutes on 2 cores. QA_CRASH=quick: 200 documents, 6 kills, the stand-in embedder (~1 min);
    QA_CRASH=0: none."""
    how = os.environ.get("QA_CRASH", "full")
    if how == "0":
        return {}
    return run(6, 200, True, log=log) if how == "quick" else run(20, 1000, False, log=log)


def run(points: int = 20, n_docs: int = 1000, words: bool = False, seed: int = 0, log=None) -> dict:
    """The crash figures: kill9 rounds, upload kills and KV corruptions."""
    figures = kill9(n_docs, points, seed, words, log=log)
    figures.update(kill_upload(4, seed, words=True, log=log))
    with tempfile.TemporaryDirectory() as t:
        kv = kv_outcomes(Path(t))
    figures.update(kv_corruptions_tried=len(kv), kv_corruptions_detected=sum(ok for _, ok, _ in kv),
                   kv_not_detected=[f"{n}: {why}" for n, ok, why in kv if not ok])
    return figures


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m qa.crash", description=__doc__.splitlines()[0])
    ap.add_argument("command", nargs="?", choices=["build"], help=argparse.SUPPRESS)
    ap.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    ap.add_argument("--index-dir", help=argparse.SUPPRESS)
    ap.add_argument("--out", default="runs/crash")
    ap.add_argument("--docs", type=int, default=1000, help="documents in the folder (1000)")
    ap.add_argument("--points", type=int, default=20, help="kills (20)")
    ap.add_argument("--words", action="store_true", help="the stand-in embedder instead of MiniLM")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.command == "build":  # the killed process of a --words run
        from .robustness import WordEmbedder

        say = lambda done, total, msg: print(f"  {msg}", file=sys.stderr, flush=True)
        idx = ix.build(Config(docs=tuple(args.paths), index_dir=args.index_dir), WordEmbedder(), say)
        print(f"indexed {len(idx.docs)} document(s), {len(idx.chunks)} chunks -> {idx.dir}")
        return 0
    t0 = time.perf_counter()
    figures = run(args.points, args.docs, args.words, args.seed, log=lambda m: print(m, file=sys.stderr))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "crash.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps({k: v for k, v in figures.items() if not isinstance(v, list)}))
    print(f"({time.perf_counter() - t0:.0f} s) -> {out / 'crash.json'}")
    return 0 if not figures["kill9_broken_indexes"] and not figures["upload_broken"] else 1


if __name__ == "__main__":
    sys.exit(main())
