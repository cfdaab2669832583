"""The command line: one subcommand per pipeline job.

User mistakes (empty question, missing model, unreadable document, corrupt
index) exit with status 2 and one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys

from .config import Config
from .errors import BadQuestion, QAError
from .types import Answer


def cmd_index(args, config: Config) -> int:
    """Build or update the index of seeds/ or the given files and folders.

    Example: qa index seeds/ notes/report.md
    Only new or changed documents are embedded again; a moved or renamed one keeps its vectors,
    a deleted one is dropped, and one removed with `qa docs remove` stays out. A progress bar on
    stderr counts the documents embedded. A set short enough to be read whole also gets its
    shared prompt prefix evaluated by the model and saved beside the index, so the first
    question of the next process is as quick as any other."""
    from .api import Pipeline

    pipe = Pipeline(config)
    with Bar() as bar:
        idx = pipe.build(progress=bar)
    print(f"indexed {len(idx.docs)} document(s), {len(idx.chunks)} chunks -> {idx.dir}")
    if pipe.whole and not config.llm_url:  # a model server (QA_LLM_URL) keeps its own prompt cache
        try:
            pipe.warm()
        except QAError as e:  # the index is complete; the first question will evaluate the prefix
            print(f"qa: the prompt prefix was not saved: {e}", file=sys.stderr)
        else:
            print(f"read whole: prompt prefix saved -> {idx.dir}")
    return 0


class Bar:
    """index.build's progress(done, total, message) as a tqdm bar on stderr: documents embedded of
    those to embed, elapsed time, and the message (chunks embedded); a message without a total
    (a corrupt index being rebuilt) is a line of its own."""

    def __init__(self):
        self.bar = None

    def __call__(self, done: int, total: int, msg: str) -> None:
        if not total:
            print(f"  {msg}", file=sys.stderr)
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="doc", desc="indexing", file=sys.stderr, dynamic_ncols=True,
                            bar_format="{desc} {n}/{total} documents |{bar}| {elapsed}{postfix}")
        self.bar.n = done
        self.bar.set_postfix_str(msg, refresh=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()


def cmd_docs(args, config: Config) -> int:
    """List the documents of the index, or remove some from it (no embedding either way).

    Example: qa docs --docs notes/
             qa docs remove old-minutes.md --docs notes/
    The list gives each document's name, characters, chunks and the start of its sha256.
    `remove NAME ...` takes a document's path or a file name only one document has. A removed
    document stays out of later `qa index` runs of the same folders, although its file is
    still there (the manifest lists it as excluded); `restore NAME ...` brings it back at the
    next `qa index`. A document uploaded in the chat (index/uploads/) is deleted instead."""
    from . import index as ix

    action, names = (args.action or ["list"])[0], (args.action or [])[1:]
    if action == "list" and not names:
        idx = ix.stored(config)
        rows = ix.describe(idx)
        width = max(len(d) for d, *_ in rows)
        for doc, chars, chunks, digest in rows:
            print(f"{doc:<{width}}  {chars:>9,} chars  {chunks:>6,} chunks  {digest[:12]}")
        print(f"{len(rows)} document(s), {len(idx.chunks)} chunks in {idx.dir}"
              + (f"; removed: {', '.join(idx.manifest['excluded'])}" if idx.manifest.get("excluded") else ""))
        return 0
    if action not in ("remove", "restore") or not names:
        raise UsageError("use `qa docs`, `qa docs remove NAME ...` or `qa docs restore NAME ...`")
    if action == "restore":
        print(f"restored {', '.join(ix.restore(config, names))}; `qa index` indexes them again")
        return 0
    from .api import Pipeline

    gone = Pipeline(config).remove_documents(names)
    print(f"removed {', '.join(gone)}")
    return 0


class UsageError(QAError):
    pass


def cmd_ask(args, config: Config) -> int:
    """Answer one question from the indexed documents, with verified citations.

    Example: qa ask "Who led the American delegation?" --json"""
    from .api import Pipeline

    pipe = Pipeline(config)
    if args.json:
        print(json.dumps(pipe.ask(args.question).to_json(), ensure_ascii=False))
        return 0
    for item in pipe.stream(args.question):
        if isinstance(item, Answer):
            print_answer(item)
    return 0


def print_answer(answer) -> None:
    print(answer.text)
    for c in answer.citations:
        print(f'  [{c.n}] {c.doc}:{c.start}-{c.end} "{c.quote}"')
    t = answer.timings
    print(f"  ({t.get('total_s', 0):.1f} s" + (f", first token {t['first_token_s']:.1f} s" if "first_token_s" in t else "")
          + ")", file=sys.stderr)


def cmd_chat(args, config: Config) -> int:
    """Chat in the terminal; follow-up questions keep the conversation. Ctrl-D quits.

    Example: qa chat"""
    from .api import Pipeline

    pipe, history = Pipeline(config), []
    while True:
        try:
            question = input("you> ")
        except EOFError:
            print()
            return 0
        if not question.strip():
            continue
        try:
            for item in pipe.stream(question, history):
                if isinstance(item, Answer):
                    print_answer(item)
                    history.append((question, item.text))
        except QAError as e:
            print(f"error: {e}", file=sys.stderr)


def cmd_serve(args, config: Config) -> int:
    """Open the browser chat on the indexed documents (http://127.0.0.1:7860).

    Example: qa serve --port 7860
    OpenAI clients reach the same answers at http://127.0.0.1:7860/v1 (model "qa"; QA_API_KEY
    set on the server makes it a bearer token every /v1 request needs).
    It listens on this machine only; --host 0.0.0.0 opens it to the network, with no login
    (a warning says so). Uploads: up to --max-upload-mb (QA_MAX_UPLOAD_MB, 50), of the kinds
    in QA_UPLOAD_TYPES (".txt,.md"; default every kind qa reads)."""
    from .api import Pipeline
    from .app import launch

    from dataclasses import replace
    from pathlib import Path

    if args.max_upload_mb is not None:
        config = replace(config, max_upload_mb=args.max_upload_mb)
    uploads = Path(config.index_dir) / "uploads"  # documents added in the page earlier stay indexed
    if uploads.is_dir() and any(uploads.iterdir()):
        config = replace(config, docs=config.docs + (str(uploads),))
    launch(host=args.host, port=args.port, pipeline=Pipeline(config))
    return 0


def cmd_eval(args, config: Config) -> int:
    """Evaluate on a JSONL test set; prints metrics, writes metrics.json, answers.jsonl, report.md.

    Example: qa eval tests/data/nato_qa.jsonl --out runs/eval"""
    from .evaluate import run

    run(args.testset, config, out=args.out, limit=args.limit)
    return 0


def cmd_bench(args, config: Config) -> int:
    """Measure speed against raw llama.cpp (and LlamaIndex with --peer); writes bench.json.

    Example: qa bench --quick
    qa bench --robustness runs every bad-input and corrupt-index case instead (robustness.json);
    qa bench --backend http://127.0.0.1:8080/v1 times answers through that server against in-process."""
    if args.backend:
        from .remote import main as through

        return through(["--bench", args.backend] + (["--questions", args.questions] if args.questions else []))
    if args.robustness:
        from .robustness import main as robustness

        return robustness(["--out", args.out])
    from .bench import run

    run(config, peer=args.peer, questions=args.questions, out=args.out, quick=args.quick)
    return 0


def cmd_models(args, config: Config) -> int:
    """Show the embedder and chat models: which is used, where the files are, how to install others.

    Example: qa models"""
    from . import models
    from .embed import PACKAGED, packaged_minilm_path

    try:
        emb = config.embedder or packaged_minilm_path()
    except QAError as e:
        emb = f"not installed ({e})"
    print(f"embedder: {emb}\n  package: {PACKAGED}")
    def where(model: str) -> str:
        try:
            return str(models.resolve(model))  # assembles a chunked model's parts on first use
        except QAError as e:
            return f"not installed ({e})"

    in_use, why = (config.model, "") if config.model else models.default_name()
    print(f"chat model in use: {in_use}\n  file: {where(config.model)}\n  (QA_MODEL or --model takes any GGUF file)")
    if why:
        print(f"  picked because {why}")
    if config.min_support > 0 and config.check_model:
        print(f"answer-check model: {config.check_model} (abstains below P(yes) {config.min_support})\n"
              f"  file: {where(config.check_model)}\n"
              f"  (QA_CHECK_MODEL takes any GGUF file; QA_MIN_SUPPORT=0 turns the check off)")
    elif config.min_support > 0:
        print(f"answer check: the chat model (abstains below P(yes) {config.min_support}; "
              f"QA_CHECK_MODEL names another, QA_MIN_SUPPORT=0 turns it off)")
    for row in models.describe():
        mark = "*" if row["default"] else " "
        state = "installed" if row["installed"] else "not installed"
        print(f"{mark} {row['name']}: {row['about']} [{state}]")
        print(f"    file: {row['file'] or '-'}\n    install: {row['install']}")
    if not args.no_speed:
        selftest(config)
    return 0


def selftest(config: Config) -> None:
    """The speed self-test on the default model, printed and saved to models/speed.json (qa/speed.py):
    raw llama.cpp tokens/s beside what this machine's memory and arithmetic allow."""
    from . import models, speed
    from .generate import LlamaGenerator

    name = models.registry()["default"]
    try:
        path = str(models.resolve(name))
        llm = LlamaGenerator(path, n_ctx=512, n_threads=config.threads(), n_batch=config.n_batch).load()
    except QAError as e:
        print(f"speed self-test: skipped ({e})")
        return
    result = speed.measure(llm, path, config.threads())
    speed.save(result, models.SPEED_FILE)
    print(f"speed self-test ({name}; saved to {models.SPEED_FILE}):")
    for line in speed.verdict(result):
        print(f"  {line}")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="qa", description="Offline question answering over documents.")
    sub = ap.add_subparsers(dest="command", required=True)

    def add(name, fn):
        p = sub.add_parser(name, help=fn.__doc__.splitlines()[0], description=fn.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(fn=fn)
        p.add_argument("--model", help="GGUF file or registry name (QA_MODEL)")
        p.add_argument("--index-dir", help="where indexes live (QA_INDEX_DIR)")
        p.add_argument("--top-k", type=int, help="passages given to the model (QA_TOP_K)")
        p.add_argument("--threads", type=int, dest="n_threads", help="CPU threads (QA_N_THREADS)")
        p.add_argument("--ctx", type=int, dest="n_ctx", help="model context size (QA_N_CTX)")
        return p

    p = add("index", cmd_index)
    p.add_argument("docs", nargs="*", help="files or folders (default: seeds/)")
    p = add("docs", cmd_docs)
    p.add_argument("action", nargs="*", metavar="[remove|restore NAME ...]", help="list (default), remove or restore")
    p.add_argument("--docs", nargs="+", help="the document set (default: seeds/)")
    p = add("ask", cmd_ask)
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--docs", nargs="+", help="files or folders to answer from")
    p = add("chat", cmd_chat)
    p.add_argument("--docs", nargs="+")
    p = add("serve", cmd_serve)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--docs", nargs="+")
    p.add_argument("--max-upload-mb", type=float, help="largest upload accepted, in MB (QA_MAX_UPLOAD_MB)")
    p = add("eval", cmd_eval)
    p.add_argument("testset")
    p.add_argument("--docs", nargs="+")
    p.add_argument("--out", default="runs/eval")
    p.add_argument("--limit", type=int)
    p = add("bench", cmd_bench)
    p.add_argument("--peer", action="store_true", help="also run LlamaIndex on the same model")
    p.add_argument("--quick", action="store_true", help="two questions, no peer")
    p.add_argument("--robustness", action="store_true", help="the bad-input and corrupt-index figures instead")
    p.add_argument("--backend", metavar="URL", help="per-answer latency through an OpenAI-compatible server")
    p.add_argument("--questions", default=None)
    p.add_argument("--out", default="runs/bench")
    p.add_argument("--docs", nargs="+")
    p = add("models", cmd_models)
    p.add_argument("--no-speed", action="store_true", help="skip the few-second speed self-test")
    return ap


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    overrides = {k: getattr(args, k, None) for k in ("model", "index_dir", "top_k", "n_threads", "n_ctx")}
    docs = getattr(args, "docs", None)
    overrides["docs"] = tuple(docs) if docs else None
    try:
        if isinstance(getattr(args, "question", None), str) and not _encodable(args.question):
            raise BadQuestion("the question is not valid UTF-8 text; retype it or set a UTF-8 locale")
        config = Config.from_env(**overrides)
        return args.fn(args, config)
    except QAError as e:
        print(f"qa: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _encodable(text: str) -> bool:
    """False for an argument with bytes that were not UTF-8 (Python keeps them as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
