"""The browser chat: Gradio UI over `Pipeline`, with clickable citations.

    qa serve                     # or: python -c "from qa.app import launch; launch()"
    # open http://127.0.0.1:7860

Each [n] in an answer is a link to #cite-<turn>-<n> in the Sources panel,
where the cited passage is shown with the quoted words in <mark>; hovering a
marker shows the quote. Document text is always html-escaped: a document
holding <script> shows the tag as text and never runs it.

The same server answers programs (one request at a time, like the chat):

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("Who led the American delegation?", api_name="/ask")
    # -> {"answer": "... [1].", "abstained": false, "citations": [{"n": 1, "doc": ..., "start": ...,
    #     "end": ..., "quote": ...}], "passages": [...], "timings": {...}}   (the `qa ask --json` schema)

and OpenAI clients at http://127.0.0.1:7860/v1 (model "qa"; qa/openai_api.py).

The handlers below (`respond`, `upload`, `ask_json`, the *_html renderers) are
plain Python, so tests drive them without a browser; `create_app` only wires
them to components. Chat history lives in per-session gr.State; the pipeline
(index and model) is shared, and uploads join everyone's document set.
"""
from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from typing import Iterator

from . import documents
from .errors import DocumentError, QAError
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
    """
    parts = [f"{t['total_s']:.1f} s"] if "total_s" in t else []
    if "first_token_s" in t:
        parts.append(f"first token {t['first_token_s']:.1f} s")
    if "reread_s" in t:  # the first reply failed the citation check: the question was asked again
        parts.append(f"read twice ({t['reread_s']:.1f} s)")
    return " · ".join(parts)


# What the bubble says while the pipeline is at a Stage (api.Pipeline.stream).
WAIT = {"": "Searching the documents…", "reread": "The first reply did not match the source; reading the passage again…",
        "check": "Checking the answer against the source…", "confirm": "Reading the quoted sentences again…",
        "polarity": "Checking the yes or no against the quoted sentences…",
        "entail": "Checking that the source says what the answer says…"}


def draft_html(raw: str, stage: str = "") -> str:
    """The bubble while the reply streams (before verification): the reply so far, and what is
    being done with it. A reply that failed the citation check is not left on screen while the
    question is asked again."""
    text = esc(raw).replace("\n", "<br>")
    wait = f'<span class="qa-wait">{WAIT[stage]}</span>' if stage or not raw else ""
    if stage in ("confirm", "check", "polarity", "entail"):  # the reply is written: no caret
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
            text = text_of(chunk.doc)
            a, b = min([chunk.start] + [c.start for c in cites]), max([chunk.end] + [c.end for c in cites])
            where = ", ".join(f"chars {c.start:,}–{c.end:,}" for c in cites)
            marked = passage_html(text, a, b, [(c.start, c.end) for c in cites])
            cards.append(
                f'<div class="qa-src" id="cite-{i}-{n}"><div class="qa-src-head"><span class="qa-n">[{n}]</span>'
                f'<span class="qa-doc" title="{esc(chunk.doc)}">{esc(Path(chunk.doc).name)}</span>'
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


# -- handlers: plain functions of the pipeline and the session state --------------
def respond(pipeline, question: str, chat: list, turns: list) -> Iterator[tuple]:
    """Answer one chat message, yielding (chat, turns, sources html, textbox) as it streams.

    Raises QAError before the first yield for a question the pipeline refuses
    (empty, too long); a failure while answering becomes an error bubble."""
    asked = pipeline.check(question)
    chat = [*(chat or []), {"role": "user", "content": f'<div class="qa-question">{esc(asked)}</div>'}]
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
                raw = "" if stage == "reread" else raw  # the rejected reply goes; the new one streams in
                yield bubble(draft_html(raw, stage)), turns, sources, ""
            else:
                turns.append((asked, item))
                yield bubble(answer_html(item, len(turns), asked)), turns, sources_html(pipeline.text_of, turns), ""
    except QAError as e:
        yield bubble(error_html(str(e))), turns, sources, ""


def upload(pipeline, paths, progress=None) -> str:
    """Copy uploaded files to <index_dir>/uploads/ and index them; returns a one-line notice."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths or [])
    if not paths:
        raise DocumentError(f"choose a {documents.KINDS} file to add")
    for p in paths:
        if Path(p).suffix.lower() not in documents.SUFFIXES:
            raise DocumentError(f"{Path(p).name}: unsupported file type {Path(p).suffix or '(none)'}; "
                                f"upload {documents.KINDS}")
    folder = Path(pipeline.config.index_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for p in paths:
        dest = folder / Path(p).name
        shutil.copyfile(p, dest)
        try:
            documents.text_of(documents.doc_name(dest))  # unreadable or empty: refuse before indexing
        except DocumentError:
            dest.unlink(missing_ok=True)
            raise
        saved.append(dest)
    pipeline.add_documents([str(d) for d in saved], progress)
    return f"Added {', '.join(d.name for d in saved)}."


def ask_json(pipeline, question: str) -> dict:
    """The /ask endpoint: one question, no history -> the `qa ask --json` dict."""
    return pipeline.ask(question).to_json()


# -- wiring -------------------------------------------------------------------------
def create_app(pipeline=None):
    """Build the Gradio Blocks (no server). Serve it with launch(), which adds the CSS."""
    import gradio as gr

    from .api import default_pipeline

    pipe = pipeline or default_pipeline()
    one_at_a_time = dict(concurrency_limit=1, concurrency_id="pipeline")  # a single model and index

    def on_ask(question, chat, turns):
        try:
            yield from respond(pipe, question, chat, turns)
        except QAError as e:  # refused before anything was shown
            gr.Warning(str(e))
            yield chat, turns, gr.skip(), question

    def on_upload(files, progress=gr.Progress()):
        try:
            notice = upload(pipe, files, lambda done, total, msg: progress(done / total if total else 1.0, desc=msg))
        except QAError as e:
            gr.Warning(str(e))
            notice = f"⚠ {e}"
        return notice, documents_html(pipe.documents()), None

    def ask(question: str) -> dict:
        """Answer one question from the indexed documents; returns the `qa ask --json` dict."""
        try:
            return ask_json(pipe, question)
        except QAError as e:
            raise gr.Error(str(e)) from None

    with gr.Blocks(title="qa · ask your documents", analytics_enabled=False) as demo:
        gr.HTML('<div class="qa-title"><h1>Ask your documents</h1><p>Answers come only from the indexed '
                'documents. Every claim links to the passage it came from.</p></div>', elem_classes="qa-html")
        turns = gr.State([])
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
                    files = gr.File(label=f"Add a document ({documents.KINDS})", file_count="multiple",
                                    file_types=sorted(documents.SUFFIXES), type="filepath", height=120,
                                    elem_id="qa-upload")
                    notice = gr.Markdown("", elem_id="qa-notice")

        outputs = [chat, turns, sources, box]
        box.submit(on_ask, [box, chat, turns], outputs, api_visibility="private", **one_at_a_time)
        send.click(on_ask, [box, chat, turns], outputs, api_visibility="private", **one_at_a_time)
        for b, q in zip(examples, EXAMPLES):
            b.click(lambda q=q: q, None, box, queue=False, api_visibility="private").then(
                on_ask, [box, chat, turns], outputs, api_visibility="private", **one_at_a_time)
        new.click(lambda: ([], [], sources_html(None, []), ""), None, outputs, queue=False,
                  api_visibility="private")
        chat.clear(lambda: ([], sources_html(None, [])), None, [turns, sources], queue=False,
                   api_visibility="private")
        files.upload(on_upload, files, [notice, docs, files], api_visibility="private", **one_at_a_time)
        demo.load(lambda: documents_html(pipe.documents()), None, docs, api_visibility="private")
        gr.api(ask, api_name="ask", **one_at_a_time)
    demo.queue(max_size=16, default_concurrency_limit=1)  # a full queue answers "busy", never hangs
    return demo


def launch(host: str = "127.0.0.1", port: int = 7860, pipeline=None, **options):
    """Serve the chat on host:port (loopback unless told otherwise); options go to Blocks.launch."""
    import gradio as gr

    from .api import default_pipeline

    pipe = pipeline or default_pipeline()
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
#qa-examples button { flex: 0 1 auto; min-width: 0; }
#qa-examples #qa-new { margin-left: auto; }
"""
