"""The browser chat: Gradio UI over `Pipeline`, with clickable citations.

    qa serve                     # or: python -c "from qa.app import launch; launch()"
    # open http://127.0.0.1:7860

Each [n] in an answer is a link to #cite-<turn>-<n> in the Sources panel,
where the cited passage is shown with the quoted words in <mark>; hovering a
marker shows the quote. Document text is always html-escaped: a document
holding <script> shows the tag as text and never runs it.

A question sent while another is being answered is never dropped: it is shown at
once, marked as waiting, and answered in turn (`Session`: the questions of a tab
live on the server, and every render is made from them, so no event overwrites
another's answer). A question the pipeline refuses stays in the box, with a notice.

The same server answers programs (one request at a time, like the chat; a full
queue answers "busy" at once):

    from gradio_client import Client, handle_file
    c = Client("http://127.0.0.1:7860/")
    c.predict("Who led the American delegation?", api_name="/ask")
    # -> {"answer": "... [1].", "abstained": false, "citations": [{"n": 1, "doc": ..., "start": ...,
    #     "end": ..., "quote": ...}], "passages": [...], "timings": {...}}   (the `qa ask --json` schema)
    c.predict(handle_file("notes.txt"), api_name="/upload")
    # -> {"added": ["notes.txt"], "notes": [], "documents": 2}

Uploads are saved under <index_dir>/uploads/ with a safe name (`safe_name`), never
over a different document, within QA_MAX_UPLOAD_MB and QA_UPLOAD_TYPES.

and OpenAI clients at http://127.0.0.1:7860/v1 (model "qa"; qa/openai_api.py).

The handlers below (`respond`, `upload`, `ask_json`, the *_html renderers) are
plain Python, so tests drive them without a browser; `create_app` only wires
them to components. Chat history lives in a per-tab `Session` (gr.State); the
pipeline (index and model) is shared, and uploads join everyone's document set.
"""
from __future__ import annotations

import html
import os
import re
import shutil
import sys
import threading
from pathlib import Path
from typing import Iterator

from . import documents
from .errors import BadQuestion, DocumentError, QAError
from .types import Answer, Stage

EXAMPLES = ("Who led the American delegation?", "What did Wendy Sherman say about the troops?",
            "Who is the President of Ukraine?")
MARKER = re.compile(r"\[(\d+)\]")


# -- rendering: everything from a document or the model is escaped ----------------
def esc(text: str) -> str:
    return html.escape(text, quote=True)


def answer_html(answer: Answer, turn: int, asked: str = "") -> str:
    """The final chat bubble: markers become links to the Sources panel, then a timing line.

    One HTML block with no blank lines, so the chat's Markdown renderer leaves it alone."""
    if answer.abstained:
        body = f'<span class="qa-badge">Not in the documents</span> {esc(answer.text)}'
    else:
        quotes: dict[int, list] = {}
        for c in answer.citations:
            quotes.setdefault(c.n, []).append(c)

        def link(m: re.Match) -> str:
            n = int(m.group(1))
            if n not in quotes:
                return m.group(0)
            tip = " … ".join(f"“{c.quote}”" for c in quotes[n]) + f" ({Path(quotes[n][0].doc).name})"
            return f'<a class="qa-cite" href="#cite-{turn}-{n}" title="{esc(tip)}">[{n}]</a>'

        body = MARKER.sub(link, esc(answer.text).replace("\n", "<br>"))
    meta = [timing(answer.timings)]
    if asked and answer.question and answer.question != asked:
        meta.append(f'<span class="qa-searched" title="the follow-up, rewritten to stand alone">'
                    f'searched for: {esc(answer.question)}</span>')
    kind = "qa-answer qa-abstained" if answer.abstained else "qa-answer"
    return (f'<div class="{kind}" id="answer-{turn}">{body}</div>'
            f'<div class="qa-meta">{" · ".join(m for m in meta if m)}</div>')


def timing(t: dict) -> str:
    """The discreet per-answer timing line.

    >>> timing({"retrieve_s": 0.02, "first_token_s": 0.93, "total_s": 2.14})
    '2.1 s · first token 0.9 s'
    >>> timing({"first_token_s": 0.8, "reread_s": 3.1, "total_s": 7.2})
    '7.2 s · first token 0.8 s · read twice (3.1 s)'
    >>> timing({"first_token_s": 1.8, "spoken_s": 0.6, "total_s": 4.9})
    '4.9 s · first token 1.8 s · speaker quoted (0.6 s)'
    """
    parts = [f"{t['total_s']:.1f} s"] if "total_s" in t else []
    if "first_token_s" in t:
        parts.append(f"first token {t['first_token_s']:.1f} s")
    if "reread_s" in t:  # the first reply failed the citation check: the question was asked again
        parts.append(f"read twice ({t['reread_s']:.1f} s)")
    if "retry_s" in t:  # the first answer was withheld: the question was asked again on another passage
        parts.append(f"second passage ({t['retry_s']:.1f} s)")
    if "recite_s" in t:  # the answer check withheld a fact: it was read against another sentence holding it
        parts.append(f"another sentence checked ({t['recite_s']:.1f} s)")
    if "spoken_s" in t:  # the first answer was withheld: the speaker's own sentence was quoted
        parts.append(f"speaker quoted ({t['spoken_s']:.1f} s)")
    if "lead_s" in t:  # no summary stood: the document's opening sentences were quoted
        parts.append(f"opening quoted ({t['lead_s']:.1f} s)")
    if "nearest_s" in t:  # no summary stood: the sentences nearest the question were quoted
        parts.append(f"nearest sentences quoted ({t['nearest_s']:.1f} s)")
    if "both_s" in t:  # no comparison stood: the sentences naming both sides were quoted
        parts.append(f"sentences naming both quoted ({t['both_s']:.1f} s)")
    if "part_s" in t:  # a two-part question's answer left a part out: that part was asked on its own
        parts.append(f"a part asked alone ({t['part_s']:.1f} s)")
    return " · ".join(parts)


# What the bubble says while the pipeline is at a Stage (api.Pipeline.stream).
WAIT = {"": "Searching the documents…", "reread": "The first reply did not match the source; reading the passage again…",
        "retry": "That answer did not hold up; reading the next passage…",
        "spoken": "That answer did not hold up; quoting the speaker instead…",
        "recite": "That sentence did not answer the question; checking the answer against another that holds it…",
        "lead": "Quoting the document's opening sentences, its own summary…",
        "nearest": "That summary did not hold up; quoting the sentences nearest the question…",
        "premise": "Checking the question's words against the source…",
        "speaker": "Checking who said it…",
        "elsewhere": "Checking that the answer comes from the sentence the question is about…",
        "check": "Checking the answer against the source…", "agree": "Reading the answer from the source…",
        "confirm": "Reading the quoted sentences again…",
        "polarity": "Checking the yes or no against the quoted sentences…",
        "entail": "Checking that the source says what the answer says…",
        "items": "Checking each item against the question…",
        "denied": "Looking for a sentence of the source that says no…",
        "both": "That comparison did not hold up; quoting the sentences that name both sides…",
        "part": "That answer left a part of the question out; asking that part on its own…"}
# Stages after which a new reply streams in place of the one withheld (a re-read, a second chance)
ANEW = ("reread", "retry", "spoken", "lead", "nearest", "both")


def draft_html(raw: str, stage: str = "") -> str:
    """The bubble while the reply streams (before verification): the reply so far, and what is
    being done with it. A reply that failed the citation check is not left on screen while the
    question is asked again."""
    text = esc(raw).replace("\n", "<br>")
    wait = f'<span class="qa-wait">{WAIT[stage]}</span>' if stage or not raw else ""
    if stage and stage not in ANEW:  # a check of steps.CHECKS: the reply is written, no caret
        return f'<div class="qa-answer qa-draft">{text}<br>{wait}</div>'
    return f'<div class="qa-answer qa-draft">{wait}{"<br>" if wait and raw else ""}{text}<span class="qa-caret"></span></div>'


def error_html(message: str) -> str:
    return f'<div class="qa-answer qa-error">⚠ {esc(message)}</div>'


def passage_html(text: str, start: int, end: int, spans) -> str:
    """text[start:end] with each (s, e) in spans wrapped in <mark>; every piece escaped."""
    out, pos = [], start
    for s, e in sorted(spans):
        s = max(s, pos)
        if s >= e:
            continue
        out += [esc(text[pos:s]), f"<mark>{esc(text[s:e])}</mark>"]
        pos = e
    out.append(esc(text[pos:end]))
    return re.sub(r"\s*\n\s*", "\n", "".join(out))  # paragraphs on their own lines, no gaps


def sources_html(text_of, turns) -> str:
    """The Sources panel: the cited passages of every answer, newest answer first and open."""
    blocks = []
    for i, (asked, answer) in reversed(list(enumerate(turns, 1))):
        if answer.abstained or not answer.citations:
            continue
        cards = []
        for n in dict.fromkeys(c.n for c in answer.citations):
            cites = [c for c in answer.citations if c.n == n]
            chunk = next((p.chunk for p in answer.passages if p.chunk.id == cites[0].chunk_id),
                         answer.passages[n - 1].chunk)
            where = ", ".join(f"chars {c.start:,}–{c.end:,}" for c in cites)
            try:
                text = text_of(chunk.doc)
                a, b = min([chunk.start] + [c.start for c in cites]), max([chunk.end] + [c.end for c in cites])
                marked = passage_html(text, a, b, [(c.start, c.end) for c in cites])
            except QAError:  # the document was removed (or changed) since: the verified quotes still stand
                marked = " … ".join(f"<mark>{esc(c.quote)}</mark>" for c in cites) + (
                    ' <span class="qa-gone">(the document is no longer indexed)</span>')
            cards.append(
                f'<div class="qa-src" id="cite-{i}-{n}"><div class="qa-src-head"><span class="qa-n">[{n}]</span>'
                f'<span class="qa-doc" title="{esc(" · ".join(filter(None, (cites[0].title, chunk.doc))))}">'
                f'{esc(Path(chunk.doc).name)}</span>'
                f'<span class="qa-pos">{where}</span></div><div class="qa-passage">{marked}</div></div>')
        opened = " open" if not blocks else ""
        blocks.append(f'<details class="qa-turn"{opened}><summary><span class="qa-q">Q{i}</span>'
                      f'{esc(asked)}</summary>{"".join(cards)}</details>')
    if not blocks:
        return ('<div class="qa-sources"><p class="qa-empty">Cited passages appear here. Click a '
                '<span class="qa-n">[1]</span> marker in an answer to see the quoted words in context.</p></div>')
    return f'<div class="qa-sources">{"".join(blocks)}</div>'


def documents_html(names) -> str:
    items = "".join(f'<li title="{esc(d)}">{esc(Path(d).name)}</li>' for d in names)
    return f'<div class="qa-docs"><p>{len(names)} indexed document{"s" * (len(names) != 1)}</p><ul>{items}</ul></div>'


def notice_html(text: str, ok: bool = True) -> str:
    """The Documents panel's one-line notice, escaped: it often holds a file name."""
    return f'<p class="qa-notice{"" if ok else " qa-notice-error"}">{"" if ok else "⚠ "}{esc(text)}</p>'


def question_msg(asked: str) -> dict:
    return {"role": "user", "content": f'<div class="qa-question">{esc(asked)}</div>'}


QUEUED = '<div class="qa-answer qa-draft qa-queued"><span class="qa-wait">Waiting for the model…</span></div>'


# -- handlers: plain functions of the pipeline and the session state --------------
def respond(pipeline, question: str, chat: list, turns: list) -> Iterator[tuple]:
    """Answer one chat message, yielding (chat, turns, sources html, textbox) as it streams.

    Raises QAError before the first yield for a question the pipeline refuses
    (empty, too long); a failure while answering becomes an error bubble."""
    asked = pipeline.check(question)
    chat = [*(chat or []), question_msg(asked)]
    turns = list(turns or [])

    def bubble(content: str) -> list:  # a fresh list per yield: Gradio may diff against the last
        return [*chat, {"role": "assistant", "content": content}]

    sources = sources_html(pipeline.text_of, turns)
    yield bubble(draft_html("")), turns, sources, ""
    raw, stage = "", ""
    try:
        for item in pipeline.stream(asked, [(q, a.text) for q, a in turns]):
            if isinstance(item, str):
                raw += item
                yield bubble(draft_html(raw, stage)), turns, sources, ""
            elif isinstance(item, Stage):
                stage = item.name
                raw = "" if stage in ANEW else raw  # the rejected reply goes; the new one streams in
                yield bubble(draft_html(raw, stage)), turns, sources, ""
            else:
                turns.append((asked, item))
                yield bubble(answer_html(item, len(turns), asked)), turns, sources_html(pipeline.text_of, turns), ""
    except QAError as e:
        yield bubble(error_html(str(e))), turns, sources, ""


class Session:
    """One browser tab's conversation, kept on the server (in gr.State): the finished turns, the turn
    being answered and the questions waiting, oldest first. The handler that takes a question and
    the one that answers run as separate events and share this object; every chat they show is
    rendered from it, so a question sent at any moment is shown and answered in order, and no
    event's stale copy of the chat overwrites another's answer."""

    def __init__(self):
        self.lock = threading.Lock()
        self.chat: list[dict] = []     # messages of the finished turns
        self.turns: list[tuple] = []   # (asked, Answer) of the finished turns
        self.live: list[dict] = []     # the turn being answered: its question and its bubble so far
        self.pending: list[str] = []   # checked questions waiting for the model
        self.sources = sources_html(None, [])
        self.epoch = 0                 # New chat bumps it: an answer of an older epoch stops

    def __deepcopy__(self, memo):      # gr.State copies its initial value for each tab
        return Session()

    def messages(self) -> list[dict]:
        with self.lock:
            waiting = [m for q in self.pending for m in (question_msg(q), {"role": "assistant", "content": QUEUED})]
            return [*self.chat, *self.live, *waiting]

    def reset(self) -> None:
        with self.lock:
            self.chat, self.turns, self.live, self.pending = [], [], [], []
            self.sources, self.epoch = sources_html(None, []), self.epoch + 1


def enqueue(pipeline, session: Session, question: str) -> list[dict]:
    """Check a question and queue it in the session -> the chat to show (it, waiting, at the end).
    Raises QAError for a question the pipeline refuses; nothing is queued then."""
    asked = pipeline.check(question)
    with session.lock:
        session.pending.append(asked)
    return session.messages()


def answer_pending(pipeline, session: Session) -> Iterator[tuple[list, str]]:
    """Answer the session's waiting questions in order, yielding (chat, sources html) as each streams;
    yields the session as it is when nothing waits (another call answered it already). Stops when
    New chat resets the session. A failure becomes that question's error bubble, and the next is answered."""
    with session.lock:
        epoch = session.epoch
    yield session.messages(), session.sources
    while True:
        with session.lock:
            if session.epoch != epoch or not session.pending:
                return
            asked = session.pending.pop(0)
            session.live = [question_msg(asked), {"role": "assistant", "content": draft_html("")}]
            chat, turns, sources = session.chat, session.turns, session.sources
        stream = respond(pipeline, asked, chat, turns)
        try:
            for chat, turns, sources, _ in stream:
                with session.lock:
                    if session.epoch != epoch:
                        stream.close()  # closes the model's stream too
                        return
                    session.live = chat[len(session.chat):]
                yield session.messages(), sources
        except Exception as e:  # refused (QAError) or a bug: one line in its bubble, never a stuck queue
            first = (str(e).splitlines() or [""])[0]
            message = first if isinstance(e, QAError) else f"the answer failed ({type(e).__name__}: {first})"
            chat = [*chat[:len(session.chat)], question_msg(asked), {"role": "assistant",
                                                                       "content": error_html(message)}]
        with session.lock:
            if session.epoch != epoch:
                return
            session.chat, session.turns, session.sources, session.live = chat, turns, sources, []
        yield session.messages(), sources


def safe_name(name: str, max_bytes: int = 200) -> str:
    r"""A name an upload can be saved under in uploads/: the last part of any path (either slash), no NUL,
    control or format characters (a right-to-left override), no leading dots (hidden files are not
    indexed), at most max_bytes of UTF-8 with its suffix kept; "upload" when nothing is left.

    >>> safe_name("../../etc/passwd.txt"), safe_name("..\\..\\boot.ini.md"), safe_name("a\x00b\n.txt")
    ('passwd.txt', 'boot.ini.md', 'ab.txt')
    >>> safe_name(".."), safe_name(".hidden.txt"), safe_name("notes.txt\u202e.exe")
    ('upload', 'hidden.txt', 'notes.txt.exe')
    """
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".").strip()
    suffix = Path(base).suffix if len(Path(base).suffix) <= 16 else ""
    stem = base[: len(base) - len(suffix)]
    while stem and len((stem + suffix).encode("utf-8")) > max_bytes:
        stem = stem[:-1]
    return (stem.rstrip() or "upload") + suffix


def _same_bytes(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()


def _free_name(folder: Path, name: str, src: Path) -> tuple[Path, bool]:
    """Where an upload named `name` goes -> (path, already there): the same name, or when a different
    document holds it, "name (2).txt", "name (3).txt"…: an upload never overwrites another document."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for i in range(1, 10_000):
        dest = folder / (name if i == 1 else f"{stem} ({i}){suffix}")
        if not dest.exists():
            return dest, False
        if dest.is_file() and not dest.is_symlink() and _same_bytes(dest, src):
            return dest, True
    raise DocumentError(f"{name}: too many uploads with this name")


def _copy_whole(src: Path, dest: Path) -> None:
    """Copy to a temporary file beside uploads/ (in <index_dir>/.uploading/), then link it to dest: a copy
    cut short (a kill) never leaves a truncated document in uploads/, and the link fails rather than
    overwrite one."""
    part = dest.parent.parent / ".uploading" / f"{dest.name}.{os.getpid()}.part"
    part.parent.mkdir(exist_ok=True)
    _sweep(part.parent)
    try:
        with open(src, "rb") as i, open(part, "wb") as o:
            shutil.copyfileobj(i, o)
            o.flush()
            os.fsync(o.fileno())
        os.link(part, dest)
    finally:
        part.unlink(missing_ok=True)


def _sweep(folder: Path) -> None:
    """Remove what uploads cut short by a kill left in <index_dir>/.uploading/ (<name>.<pid>.part, its
    process gone); a part a live process is writing stays."""
    for f in folder.glob("*.part"):
        pid = f.name.rsplit(".", 2)[-2] if f.name.count(".") >= 2 else ""
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            f.unlink(missing_ok=True)
        except (PermissionError, OverflowError):
            pass


def upload(pipeline, paths, progress=None) -> str:
    """Copy uploaded files to <index_dir>/uploads/ and index them; returns a one-line notice."""
    saved, notes = save_uploads(pipeline, paths, progress)
    return f"Added {', '.join(d.name for d in saved)}." + (f" ({'; '.join(notes)})" if notes else "")


def save_uploads(pipeline, paths, progress=None) -> tuple[list[Path], list[str]]:
    """Copy uploaded files to <index_dir>/uploads/ and index them -> (their paths there, notes on names).

    Each file's type and size are checked first (config.upload_types, max_upload_mb); a file
    that fails, or cannot be read, is refused with nothing of its batch kept. An upload with
    the same name and bytes as one already there is that document; with other bytes it is
    saved as "name (2).txt" beside it."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths or [])
    config = pipeline.config
    allowed, limit = config.upload_suffixes(), config.max_upload_mb
    if not paths:
        raise DocumentError(f"choose a {documents.KINDS} file to add")
    names = [safe_name(Path(p).name) for p in paths]
    for p, name in zip(paths, names):
        suffix = Path(name).suffix.lower()
        if suffix not in allowed:
            kinds = ", ".join(sorted(allowed)) if config.upload_types else documents.KINDS
            raise DocumentError(f"{name}: unsupported file type {suffix or '(none)'}; upload {kinds}")
        size = Path(p).stat().st_size
        if size > limit * 1024 * 1024:
            raise DocumentError(f"{name}: {size / 1024 / 1024:.1f} MB is over the {limit:g} MB upload limit")
    folder = (Path(config.index_dir) / "uploads").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    saved, copied, notes = [], [], []
    try:
        for p, name in zip(paths, names):
            dest, there = _free_name(folder, name, Path(p))
            if dest.parent != folder:  # safe_name makes this impossible; a last guard all the same
                raise DocumentError(f"{name}: not a file name")
            if not there:
                _copy_whole(Path(p), dest)
                copied.append(dest)
                documents.text_of(documents.doc_name(dest))  # unreadable or empty: refuse before indexing
            if dest.name != name:
                notes.append(f"another {name} was already indexed")
            saved.append(dest)
        pipeline.add_documents([str(d) for d in saved], progress)
    except Exception:
        for d in copied:
            d.unlink(missing_ok=True)
        raise
    return saved, notes


def remove(pipeline, names) -> str:
    """Take documents out of the index (Pipeline.remove_documents, which also deletes an uploaded
    one's file, so it does not come back with the next `qa serve`); returns a one-line notice."""
    names = [names] if isinstance(names, str) else list(names or [])
    if not names:
        raise DocumentError("choose a document to remove")
    removed = pipeline.remove_documents(names)
    return f"Removed {', '.join(Path(d).name for d in removed)}." if removed else "Nothing was removed."


def ask_json(pipeline, question: str) -> dict:
    """The /ask endpoint: one question, no history -> the `qa ask --json` dict."""
    if not isinstance(question, str):
        raise BadQuestion("the question must be text")
    return pipeline.ask(question).to_json()


# -- wiring -------------------------------------------------------------------------
def create_app(pipeline=None):
    """Build the Gradio Blocks (no server). Serve it with launch(), which adds the CSS."""
    import gradio as gr

    from .api import default_pipeline

    pipe = pipeline or default_pipeline()
    one_at_a_time = dict(concurrency_limit=1, concurrency_id="pipeline")  # a single model and index
    private = dict(api_visibility="private")

    def on_send(question, session):
        """Queue a question (not on the model's concurrency: it is shown while another is answered)."""
        try:
            return enqueue(pipe, session, question), ""
        except QAError as e:  # refused: the question stays in the box, and a notice says why
            gr.Warning(esc(str(e)))  # a toast renders HTML
            return gr.skip(), question

    def on_answer(session):
        yield from answer_pending(pipe, session)

    def on_new(session):
        session.reset()
        return [], session.sources, ""

    def doc_choices():
        return [(Path(d).name, d) for d in pipe.documents()]

    def on_documents():
        return documents_html(pipe.documents()), gr.update(choices=doc_choices(), value=[])

    def on_upload(files, progress=gr.Progress()):
        try:
            notice = notice_html(upload(pipe, files, lambda done, total, msg:
                                        progress(done / total if total else 1.0, desc=msg)))
        except QAError as e:
            gr.Warning(esc(str(e)))
            notice = notice_html(str(e), ok=False)
        return notice, *on_documents(), None

    def on_remove(names):
        try:
            notice = notice_html(remove(pipe, names))
        except QAError as e:
            notice = notice_html(str(e), ok=False)
        return notice, *on_documents()

    def ask(question: str) -> dict:
        """Answer one question from the indexed documents; returns the `qa ask --json` dict."""
        try:
            return ask_json(pipe, question)
        except QAError as e:
            raise gr.Error(str(e), print_exception=False) from None  # a user's mistake: no traceback

    def add(path):
        """Add one document (.txt, .md, .html or .pdf) to the index -> {"added": [its name], "notes", "documents"}."""
        try:
            saved, notes = save_uploads(pipe, path)
        except QAError as e:
            raise gr.Error(str(e), print_exception=False) from None  # a user's mistake: no traceback
        return {"added": [d.name for d in saved], "notes": notes, "documents": len(pipe.documents())}

    with gr.Blocks(title="qa · ask your documents", analytics_enabled=False) as demo:
        gr.HTML('<div class="qa-title"><h1>Ask your documents</h1><p>Answers come only from the indexed '
                'documents. Every claim links to the passage it came from.</p></div>', elem_classes="qa-html")
        session = gr.State(Session())  # copied for each tab
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(elem_id="qa-chat", height=520, show_label=False, latex_delimiters=[],
                                  buttons=[], feedback_options=None,
                                  placeholder="Ask a question about the documents.")
                with gr.Row(elem_id="qa-input"):
                    box = gr.Textbox(show_label=False, placeholder="Ask a question…", scale=5, autofocus=True,
                                     elem_id="qa-question", max_lines=4)
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="qa-send")
                with gr.Row(elem_id="qa-examples"):
                    examples = [gr.Button(q, size="sm", variant="secondary") for q in EXAMPLES]
                    new = gr.Button("New chat", size="sm", variant="secondary", elem_id="qa-new")
            with gr.Column(scale=2):
                gr.HTML('<h2 class="qa-h">Sources</h2>', elem_classes="qa-html")
                sources = gr.HTML(sources_html(None, []), elem_id="qa-sources", elem_classes="qa-html")
                with gr.Accordion("Documents", open=False, elem_id="qa-documents"):
                    docs = gr.HTML("")
                    suffixes = sorted(pipe.config.upload_suffixes())
                    kinds = ", ".join(suffixes) if pipe.config.upload_types else documents.KINDS
                    files = gr.File(label=f"Add a document ({kinds}; up to {pipe.config.max_upload_mb:g} MB)",
                                    file_count="multiple",
                                    file_types=suffixes, type="filepath", height=120, elem_id="qa-upload")
                    with gr.Row(elem_id="qa-remove-row"):
                        chosen = gr.Dropdown([], value=[], multiselect=True, label="Remove from the index",
                                             scale=4, elem_id="qa-remove-choice")
                        remove_btn = gr.Button("Remove", size="sm", variant="stop", scale=1, min_width=80,
                                               elem_id="qa-remove")
                    notice = gr.HTML("", elem_id="qa-notice", elem_classes="qa-html")

        # A question is taken at once, whatever is running (trigger_mode "multiple": never dropped while an
        # answer streams), then answered on the model's single slot; each send asks for one answering
        # pass, which answers whatever waits, so none is left behind.
        take = dict(trigger_mode="multiple", concurrency_limit=None, show_progress="hidden", **private)
        answer = dict(trigger_mode="multiple", show_progress="hidden", **one_at_a_time, **private)
        for trigger in (box.submit, send.click):
            trigger(on_send, [box, session], [chat, box], **take).then(on_answer, session, [chat, sources], **answer)
        for b, q in zip(examples, EXAMPLES):
            b.click(lambda s, q=q: on_send(q, s)[0], session, chat, **take).then(
                on_answer, session, [chat, sources], **answer)
        new.click(on_new, session, [chat, sources, box], queue=False, **private)
        chat.clear(lambda s: on_new(s)[1], session, sources, queue=False, **private)
        files.upload(on_upload, files, [notice, docs, chosen, files], **one_at_a_time, **private)
        remove_btn.click(on_remove, chosen, [notice, docs, chosen], **one_at_a_time, **private)
        demo.load(on_documents, None, [docs, chosen], **private)
        gr.api(ask, api_name="ask", **one_at_a_time)
        # /upload takes a file, so it needs a File component (gr.api's inputs are JSON): hidden ones
        api_file, api_out = gr.File(visible=False, type="filepath"), gr.JSON(visible=False)
        gr.Button(visible=False).click(add, api_file, api_out, api_name="upload", **one_at_a_time)
    demo.queue(max_size=pipe.config.max_queue, default_concurrency_limit=1)  # full: "busy", never a hang
    return demo


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def launch(host: str = "127.0.0.1", port: int = 7860, pipeline=None, **options):
    """Serve the chat on host:port (loopback unless told otherwise); options go to Blocks.launch."""
    import gradio as gr

    from .api import default_pipeline

    pipe = pipeline or default_pipeline()
    if host not in LOOPBACK:
        print(f"qa: WARNING: serving on {host}:{port}: the chat, its uploads and its API are reachable from "
              "the network, with no login (only /v1 takes QA_API_KEY); use --host 127.0.0.1 to keep it "
              "on this machine", file=sys.stderr)
    pipe.index  # build or load the index before the first visitor waits for it
    # load the model (and a whole-read document's prompt prefix) while the page opens
    pipe.warm(background=True)
    demo = create_app(pipe)
    theme = gr.themes.Default(primary_hue="indigo", neutral_hue="slate")
    # /v1/models and /v1/chat/completions for OpenAI clients (qa/openai_api.py), in the same server
    from .openai_api import routes

    app_kwargs = {**options.pop("app_kwargs", {}), "routes": routes(pipe)}
    if not options.get("quiet"):
        print(f"OpenAI-compatible API: http://{host}:{port}/v1 (model \"qa\")")
    options.setdefault("max_file_size", int(pipe.config.max_upload_mb * 1024 * 1024))
    demo.launch(server_name=host, server_port=port, css=CSS, theme=theme, footer_links=["api"],
                app_kwargs=app_kwargs, **options)
    return demo


CSS = """
.qa-html .html-container { padding-left: 0 !important; padding-right: 0 !important; }
.qa-title h1 { font-size: 1.5rem; margin: 0 0 .15rem; }
.qa-title p, .qa-meta, .qa-docs p, .qa-empty { color: var(--body-text-color-subdued); font-size: .85rem; margin: 0; }
.qa-h { font-size: 1rem; font-weight: 600; margin: .25rem 0 0; }
.qa-answer { line-height: 1.55; }
.qa-meta { margin-top: .35rem; font-size: .75rem; }
.qa-searched { font-style: italic; }
a.qa-cite { display: inline-block; padding: 0 .35em; margin-left: .1em; border-radius: .5em; font-size: .78em;
            font-weight: 600; line-height: 1.5; vertical-align: .15em; text-decoration: none !important;
            color: var(--color-accent) !important; background: var(--color-accent-soft); }
a.qa-cite:hover, a.qa-cite:focus { color: white !important; background: var(--color-accent); }
.qa-abstained { color: var(--body-text-color-subdued); font-style: italic; }
.qa-badge { display: inline-block; font-style: normal; font-size: .72rem; font-weight: 600; letter-spacing: .02em;
            text-transform: uppercase; padding: .05rem .5rem; margin-right: .35rem; border-radius: 999px;
            border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
.qa-error { color: var(--error-text-color); }
.qa-wait { color: var(--body-text-color-subdued); font-style: italic; }
.qa-caret { display: inline-block; width: .45em; height: 1em; margin-left: .1em; vertical-align: -.15em;
            background: var(--color-accent); animation: qa-blink 1s steps(1) infinite; }
@keyframes qa-blink { 50% { opacity: 0; } }
.qa-sources { max-height: 520px; overflow-y: auto; scroll-behavior: smooth; }
.qa-sources details.qa-turn { border: 1px solid var(--border-color-primary); border-radius: .6rem;
                              margin-bottom: .6rem; background: var(--background-fill-primary); }
.qa-sources summary { cursor: pointer; padding: .5rem .75rem; font-weight: 600; font-size: .9rem; }
.qa-q { display: inline-block; color: var(--color-accent); margin-right: .5rem; }
.qa-src { margin: 0 .6rem .6rem; padding: .5rem .7rem; border-radius: .5rem; border-left: 3px solid transparent;
          background: var(--background-fill-secondary); scroll-margin-top: .5rem; transition: background .3s; }
.qa-src:target { border-left-color: var(--color-accent); background: var(--color-accent-soft); }
.qa-src-head { display: flex; gap: .5rem; align-items: baseline; font-size: .78rem; margin-bottom: .25rem; }
.qa-n { font-weight: 700; color: var(--color-accent); }
.qa-doc { font-weight: 600; }
.qa-pos { color: var(--body-text-color-subdued); margin-left: auto; white-space: nowrap; }
.qa-passage { font-size: .86rem; line-height: 1.5; white-space: pre-line; }
.qa-passage mark { background: #fde68a; color: inherit; padding: 0 .1em; border-radius: .2em; }
.qa-docs ul { margin: .25rem 0 0; padding-left: 1.1rem; font-size: .85rem; }
.qa-queued { opacity: .75; }
.qa-gone { color: var(--body-text-color-subdued); font-style: italic; font-size: .8rem; }
.qa-notice { font-size: .85rem; margin: .25rem 0 0; }
.qa-notice-error { color: var(--error-text-color); }
#qa-remove-row { align-items: center; gap: .5rem; }
#qa-examples button { flex: 0 1 auto; min-width: 0; }
#qa-examples #qa-new { margin-left: auto; }
"""
