"""The chat's handlers and renderers, driven without a browser (toy embedder, scripted model)."""
from __future__ import annotations

import pytest
from browser_util import SHERMAN, SHERMAN_QUOTE, TROOPS
from conftest import ScriptedGenerator, ToyEmbedder

from qa import app, documents
from qa.api import Pipeline
from qa.errors import BadQuestion, DocumentError, ModelMissing
from qa.prompts import ABSTAIN
from qa.types import Answer, Chunk, Citation, Passage

SHERMAN_LINK = ('<a class="qa-cite" href="#cite-1-1" title="“Wendy Sherman, the US deputy secretary of state '
                'who led the American delegation” (nato_russia_talks.txt)">[1]</a>')
EMPTY_SOURCES = app.sources_html(None, [])


def pipeline(config, *replies) -> Pipeline:
    return Pipeline(config, embedder=ToyEmbedder(), generator=ScriptedGenerator(replies))


def bubbles(outputs) -> list[str]:
    """The last chat message of each yielded state."""
    return [chat[-1]["content"] for chat, *_ in outputs]


def test_create_app_builds_a_queued_app_with_two_public_endpoints(toy_config):
    demo = app.create_app(pipeline(toy_config))
    public = [f for f in demo.fns.values() if f.api_visibility == "public"]
    assert [(f.api_name, f.concurrency_limit, f.concurrency_id) for f in public] == [
        ("ask", 1, "pipeline"), ("upload", 1, "pipeline")]
    model_events = [f for f in demo.fns.values() if f.name in ("on_answer", "on_upload", "on_remove")]
    assert len(model_events) == 7  # after Enter, Ask, three examples; upload; remove
    assert {(f.concurrency_limit, f.concurrency_id) for f in model_events} == {(1, "pipeline")}
    # a question is taken while an answer streams, and never dropped: every trigger runs
    takes = [f for f in demo.fns.values() if f.name in ("on_send", "<lambda>") and f.queue is not False]
    assert len(takes) == 5 and {(f.trigger_mode, f.concurrency_limit) for f in takes} == {("multiple", None)}
    assert {f.trigger_mode for f in demo.fns.values() if f.name == "on_answer"} == {"multiple"}
    assert (demo._queue.max_size, demo._queue.default_concurrency_limit) == (16, 1)


def test_respond_streams_the_raw_reply_then_the_verified_answer_with_citation_links(toy_config):
    p = pipeline(toy_config, SHERMAN)
    outputs = list(app.respond(p, "Who led the American delegation?", [], []))
    shown = bubbles(outputs)
    assert shown[0] == app.draft_html("")
    assert shown[1] == '<div class="qa-answer qa-draft">Wendy<span class="qa-caret"></span></div>'
    words = SHERMAN.split(" ")  # the scripted model streams word by word
    assert shown[1:-1] == [app.draft_html(" ".join(words[:k])) for k in range(1, len(words) + 1)]
    answer, meta = shown[-1].split('<div class="qa-meta">')
    assert answer == ('<div class="qa-answer" id="answer-1">Wendy Sherman, the US deputy secretary of state, '
                      f'led the American delegation {SHERMAN_LINK}.</div>')
    assert meta.endswith("s</div>") and "first token" in meta and "searched for" not in meta
    chat, turns, sources, box = outputs[-1]
    assert chat[0] == {"role": "user", "content": '<div class="qa-question">Who led the American delegation?</div>'}
    assert [q for q, _ in turns] == ["Who led the American delegation?"] and box == ""
    [c] = turns[0][1].citations
    assert (c.quote, p.text_of(c.doc)[c.start:c.end]) == (SHERMAN_QUOTE, SHERMAN_QUOTE)
    assert f'<div class="qa-src" id="cite-1-1">' in sources
    assert f'<span class="qa-pos">chars {c.start:,}–{c.end:,}</span>' in sources
    assert f"<mark>{SHERMAN_QUOTE}</mark>, said Russia brought nothing new" in sources
    assert [s for _, _, s, _ in outputs[:-1]] == [EMPTY_SOURCES] * (len(words) + 1)  # sources once verified


def test_abstained_answer_is_muted_with_a_badge_and_no_sources(toy_config):
    p = pipeline(toy_config, ABSTAIN)
    *_, (chat, turns, sources, _) = app.respond(p, "Who is the President of Ukraine?", [], [])
    assert chat[-1]["content"].split('<div class="qa-meta">')[0] == (
        '<div class="qa-answer qa-abstained" id="answer-1"><span class="qa-badge">Not in the documents</span> '
        "The documents don&#x27;t say.</div>")
    assert turns[0][1].abstained and sources == EMPTY_SOURCES


def test_follow_up_sends_the_history_and_shows_the_searched_question(toy_config):
    p = pipeline(toy_config, SHERMAN, "What did Wendy Sherman say about the troops?", TROOPS)
    *_, (chat, turns, _, _) = app.respond(p, "Who led the American delegation?", [], [])
    *_, (chat, turns, sources, _) = app.respond(p, "What did she say about the troops?", chat, turns)
    rewrite = p.generator.prompts[1][-1]["content"]
    # the previous answer goes in without its citation markers
    assert turns[0][1].text.endswith(" [1].")
    assert rewrite.startswith("Conversation:\nQ: Who led the American delegation?\nA: "
                              f"{turns[0][1].text.replace(' [1]', '')}\n")
    assert [m["role"] for m in chat] == ["user", "assistant", "user", "assistant"]
    assert ('<span class="qa-searched" title="the follow-up, rewritten to stand alone">'
            "searched for: What did Wendy Sherman say about the troops?</span>") in chat[-1]["content"]
    assert 'href="#cite-2-1"' in chat[-1]["content"] and 'href="#cite-1-1"' in chat[1]["content"]
    # newest answer first and open; the older one folded, still reachable by its anchor
    assert sources.index('id="cite-2-1"') < sources.index('id="cite-1-1"')
    assert sources.count("<details") == 2 and sources.count("<details class=\"qa-turn\" open>") == 1


def test_document_text_is_escaped_and_the_quote_marked():
    text = "Intro. <script>alert(1)</script> said the <b>code</b> is Marmalade & more."
    s = text.index("<b>")
    assert app.passage_html(text, 0, len(text), [(s, s + 11)]) == (
        "Intro. &lt;script&gt;alert(1)&lt;/script&gt; said the <mark>&lt;b&gt;code&lt;/b&gt;</mark> is "
        "Marmalade &amp; more.")


def test_a_typed_question_is_shown_as_text(toy_config):
    *_, (chat, _, _, _) = app.respond(pipeline(toy_config, ABSTAIN), "Who led the <b>American</b> delegation?", [], [])
    assert chat[0]["content"] == '<div class="qa-question">Who led the &lt;b&gt;American&lt;/b&gt; delegation?</div>'


def test_answer_and_citation_text_from_the_model_are_escaped():
    chunk = Chunk("c1", "docs/x.txt", 0, 30, "<img src=x onerror=alert(1)>")
    cite = Citation(1, "c1", "docs/x.txt", 0, 28, '<img src=x onerror="alert(1)">')
    answer = Answer("It is <img src=x onerror=alert(1)> [1].", (cite,), False, (Passage(chunk, 1.0),), {})
    assert app.answer_html(answer, 7) == (
        '<div class="qa-answer" id="answer-7">It is &lt;img src=x onerror=alert(1)&gt; <a class="qa-cite" '
        'href="#cite-7-1" title="“&lt;img src=x onerror=&quot;alert(1)&quot;&gt;” (x.txt)">[1]</a>.</div>'
        '<div class="qa-meta"></div>')


def test_upload_copies_indexes_and_answers_from_a_new_file(toy_config, tmp_path):
    note = tmp_path / "notes.txt"
    note.write_text("The secret code word of the project is Marmalade. <script>alert(1)</script>\n")
    p = pipeline(toy_config, "The secret code word of the project is Marmalade [1].")
    calls = []
    assert app.upload(p, str(note), lambda *a: calls.append(a)) == "Added notes.txt."
    saved = documents.doc_name(tmp_path / "index" / "uploads" / "notes.txt")
    assert saved in p.documents() and len(p.documents()) == 2
    assert calls[-1] == (2, 2, "saving index") and calls[0][2].startswith("embedding ")  # qa/index.py's words
    *_, (chat, _, sources, _) = app.respond(p, "What is the secret code word?", [], [])
    assert "Marmalade" in chat[-1]["content"] and 'class="qa-cite"' in chat[-1]["content"]
    assert "<mark>The secret code word of the project is Marmalade.</mark> &lt;script&gt;alert(1)&lt;/script&gt;" \
        in sources
    assert "<script>" not in sources and "<script>" not in chat[-1]["content"]


def test_an_uploaded_pdf_is_answered_from_with_its_quote_marked_in_its_text(toy_config, tmp_path):
    from pdf_util import pdf_bytes

    (tmp_path / "memo.pdf").write_bytes(pdf_bytes([["Project memo", "The secret code word of the project is",
                                                    "Marmalade, and nobody may share it outside the team."]]))
    p = pipeline(toy_config, "The secret code word of the project is Marmalade [1].")
    assert app.upload(p, [str(tmp_path / "memo.pdf")]) == "Added memo.pdf."
    *_, (chat, turns, sources, _) = app.respond(p, "What is the secret code word?", [], [])
    [c] = turns[0][1].citations
    assert c.doc.endswith("uploads/memo.pdf") and c.quote == p.text_of(c.doc)[c.start:c.end]
    assert "<mark>The secret code word of the project is Marmalade</mark>, and nobody may share it" in sources


def test_upload_refuses_other_types_and_unreadable_files(toy_config, tmp_path):
    p = pipeline(toy_config)
    (tmp_path / "report.docx").write_bytes(b"PK")
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4")  # a header and nothing else
    (tmp_path / "blank.md").write_text("  \n")
    with pytest.raises(DocumentError) as e:
        app.upload(p, [str(tmp_path / "report.docx")])
    assert str(e.value) == "report.docx: unsupported file type .docx; upload .txt, .md, .html or .pdf"
    with pytest.raises(DocumentError, match=r"report\.pdf: the PDF is (damaged|unreadable) \("):
        app.upload(p, [str(tmp_path / "report.pdf")])
    with pytest.raises(DocumentError, match=r"blank\.md: the document is empty$"):
        app.upload(p, [str(tmp_path / "blank.md")])
    assert list((tmp_path / "index" / "uploads").iterdir()) == []
    assert [d.rsplit("/", 1)[-1] for d in p.documents()] == ["nato_russia_talks.txt"]


def test_ask_json_returns_the_cli_json_schema(toy_config):
    out = app.ask_json(pipeline(toy_config, SHERMAN), "Who led the American delegation?")
    assert list(out) == ["answer", "abstained", "citations", "passages", "timings"]
    assert out["answer"] == "Wendy Sherman, the US deputy secretary of state, led the American delegation [1]."
    assert out["abstained"] is False
    [c] = out["citations"]
    assert (c["n"], c["quote"], list(c)) == (1, SHERMAN_QUOTE, ["n", "doc", "title", "start", "end", "quote"])
    assert documents.text_of(c["doc"])[c["start"]:c["end"]] == SHERMAN_QUOTE
    assert out["passages"] and all(list(x) == ["doc", "start", "end", "score"] for x in out["passages"])


def test_a_refused_question_raises_before_anything_is_shown(toy_config):
    with pytest.raises(BadQuestion, match="^the question is empty$"):
        next(app.respond(pipeline(toy_config), "   ", [], []))


class BrokenGenerator(ScriptedGenerator):
    def stream(self, messages, max_tokens=96, not_first=""):
        raise ModelMissing("cannot load model /nowhere.gguf: file not found")
        yield


def test_a_failure_while_answering_becomes_an_error_bubble(toy_config):
    p = Pipeline(toy_config, embedder=ToyEmbedder(), generator=BrokenGenerator([]))
    *_, (chat, turns, _, _) = app.respond(p, "Who led the American delegation?", [], [])
    assert chat[-1]["content"] == (
        '<div class="qa-answer qa-error">⚠ cannot load model /nowhere.gguf: file not found</div>')
    assert turns == []


def test_a_reply_the_citation_check_rejects_leaves_the_screen_while_the_question_is_asked_again(toy_config):
    from dataclasses import replace

    wrong = "Julianne Smith repeated Russia's denials that it intends to invade Ukraine [20]."
    right = "Dmitry Peskov repeated Russia's denials that it intends to invade Ukraine [1]."
    p = pipeline(replace(toy_config, whole_chars=100_000), wrong, right)
    shown = bubbles(list(app.respond(p, "Who repeated Moscow's denials that it plans to invade Ukraine?", [], [])))
    at = shown.index(app.draft_html("", "reread"))
    assert app.WAIT["reread"] in shown[at] and "Julianne" not in shown[at]
    assert shown[at - 1] == app.draft_html(wrong)  # the first reply streamed until it was checked
    # the second reply streams in under the notice, and no bubble after the notice shows the first
    assert shown[at + 1] == app.draft_html("Dmitry", "reread")
    assert not any("Julianne" in s for s in shown[at:])
    assert "Dmitry Peskov repeated" in shown[-1] and "qa-draft" not in shown[-1]
    assert "read twice (" in shown[-1]


def test_a_withheld_answer_leaves_the_screen_while_the_next_passage_is_read(toy_config):
    from dataclasses import replace

    p = pipeline(replace(toy_config, min_support=0.5, retry=1), SHERMAN, SHERMAN)
    p.generator.support = [0.1, 0.9]  # the answer check withholds the first reply and lets the second stand
    shown = bubbles(list(app.respond(p, "Who led the American delegation?", [], [])))
    at = shown.index(app.draft_html("", "retry"))
    assert app.WAIT["retry"] in shown[at] and "Sherman" not in shown[at]
    assert shown[at + 1] == app.draft_html("Wendy", "retry")  # the second reply streams in under the notice
    assert "Wendy Sherman" in shown[-1] and "qa-draft" not in shown[-1] and "second passage (" in shown[-1]


def test_the_bubble_says_the_answer_is_being_checked(toy_config):
    from dataclasses import replace

    p = pipeline(replace(toy_config, min_support=0.5), SHERMAN)  # the scripted model says yes
    shown = bubbles(list(app.respond(p, "Who led the American delegation?", [], [])))
    assert shown[-2] == app.draft_html(SHERMAN, "check") and app.WAIT["check"] in shown[-2]
    assert "qa-draft" not in shown[-1]


def test_the_bubble_says_the_quoted_sentences_are_read_again(toy_config):
    from dataclasses import replace

    p = pipeline(replace(toy_config, confirm=1), SHERMAN, SHERMAN)
    shown = bubbles(list(app.respond(p, "Who led the American delegation?", [], [])))
    assert shown[-2] == app.draft_html(SHERMAN, "confirm") and app.WAIT["confirm"] in shown[-2]
    assert "Wendy Sherman" in shown[-1] and "qa-draft" not in shown[-1]


# -- a question sent while another is answered: queued and shown, answered in order --------------------
def test_a_question_sent_while_another_streams_is_shown_queued_and_answered_after_it(toy_config):
    p = pipeline(toy_config, SHERMAN, TROOPS)
    session = app.Session()
    shown = app.enqueue(p, session, "Who led the American delegation?")
    assert shown == [app.question_msg("Who led the American delegation?"),
                     {"role": "assistant", "content": app.QUEUED}]
    answering = app.answer_pending(p, session)
    for _ in range(4):  # the first answer is streaming
        chat, _ = next(answering)
    assert "qa-draft" in chat[-1]["content"]
    app.enqueue(p, session, "What did Wendy Sherman say about the troops?")
    chat, _ = next(answering)
    assert chat[-2:] == [app.question_msg("What did Wendy Sherman say about the troops?"),
                         {"role": "assistant", "content": app.QUEUED}]  # shown at once, under the streaming one
    *_, (chat, sources) = answering
    assert [m["role"] for m in chat] == ["user", "assistant"] * 2
    assert "Who led" in chat[0]["content"] and "Wendy Sherman, the US deputy" in chat[1]["content"]
    assert "about the troops" in chat[2]["content"] and "100,000 troops" in chat[3]["content"]
    assert 'id="answer-1"' in chat[1]["content"] and 'id="answer-2"' in chat[3]["content"]
    assert [q for q, _ in session.turns] == ["Who led the American delegation?",
                                             "What did Wendy Sherman say about the troops?"]
    assert session.pending == [] and session.live == [] and 'id="cite-2-1"' in sources
    # the second send's own answering pass finds nothing waiting: it shows the session and stops
    assert list(app.answer_pending(p, session)) == [(chat, sources)]


def test_a_refused_question_is_not_queued(toy_config):
    session = app.Session()
    with pytest.raises(BadQuestion, match="^the question is empty$"):
        app.enqueue(pipeline(toy_config), session, "  ")
    assert session.pending == [] and session.messages() == []


def test_new_chat_stops_the_answer_in_progress_and_drops_the_waiting_questions(toy_config):
    p = pipeline(toy_config, SHERMAN, TROOPS)
    session = app.Session()
    app.enqueue(p, session, "Who led the American delegation?")
    app.enqueue(p, session, "What did Wendy Sherman say about the troops?")
    answering = app.answer_pending(p, session)
    next(answering), next(answering)
    session.reset()
    assert list(answering) == [] and session.messages() == [] and session.turns == []
    assert len(p.generator.prompts) == 1  # the queued question never reached the model


def test_a_failure_in_one_answer_becomes_its_bubble_and_the_next_is_answered(toy_config):
    class Flaky(ScriptedGenerator):
        def stream(self, messages, max_tokens=96, not_first=""):
            if not self.prompts:
                self.prompts.append(messages)
                raise RuntimeError("out of memory\nwith a second line")
            yield from super().stream(messages, max_tokens)

    p = Pipeline(toy_config, embedder=ToyEmbedder(), generator=Flaky([SHERMAN]))
    session = app.Session()
    app.enqueue(p, session, "Who led the American delegation?")
    app.enqueue(p, session, "Who led the American delegation?")
    *_, (chat, _) = app.answer_pending(p, session)
    assert chat[1]["content"] == app.error_html("the answer failed (RuntimeError: out of memory)")
    assert "Wendy Sherman" in chat[3]["content"] and len(session.turns) == 1


def test_sessions_are_copied_fresh_for_each_tab():
    import copy

    s = app.Session()
    s.pending.append("q")
    assert copy.deepcopy(s).pending == [] and copy.deepcopy(s) is not s


# -- uploads: names, sizes, types, collisions -----------------------------------------------------------
@pytest.mark.parametrize("given, saved", [
    ("../../etc/passwd.txt", "passwd.txt"), ("..\\..\\windows\\win.ini.md", "win.ini.md"),
    ("/abs/path/notes.txt", "notes.txt"), ("a\x00b.txt", "ab.txt"), ("..", "upload"), (".", "upload"),
    ("", "upload"), (".hidden.txt", "hidden.txt"), ("evil\u202etxt.exe", "eviltxt.exe"),
    ("line\nbreak.txt", "linebreak.txt"), ("<img src=x onerror=alert(1)>.txt", "<img src=x onerror=alert(1)>.txt"),
])
def test_safe_name_keeps_an_upload_inside_the_uploads_folder(given, saved):
    assert app.safe_name(given) == saved


def test_a_very_long_name_is_cut_to_200_bytes_keeping_its_suffix():
    name = app.safe_name("é" * 300 + ".txt")
    assert name.endswith(".txt") and len(name.encode()) <= 200 and name.startswith("éé")


def test_upload_of_odd_file_names_saves_them_inside_uploads(toy_config, tmp_path):
    p = pipeline(toy_config)
    odd = tmp_path / "odd"
    odd.mkdir()
    names = ["..\\..\\escape.txt", ".dotted.md", "x" * 250 + ".txt", "tab\tand\x7fdel.txt"]
    for n in names:
        (odd / n).write_text("Anna Berg, the Swedish trade minister, visited Oslo on Monday.\n")
    notice = app.upload(p, [str(odd / n) for n in names])
    uploads = tmp_path / "index" / "uploads"
    saved = sorted(f.name for f in uploads.iterdir())
    assert saved == sorted(["escape.txt", "dotted.md", "x" * 196 + ".txt", "tabanddel.txt"])
    assert notice.startswith("Added escape.txt, dotted.md, xxx")
    assert list(tmp_path.glob("escape.txt")) == [] and all(f.parent == uploads for f in uploads.iterdir())


def test_an_upload_never_overwrites_a_different_document_of_the_same_name(toy_config, tmp_path):
    p = pipeline(toy_config)
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "notes.txt", tmp_path / "b" / "notes.txt"
    first.write_text("The code word of the Falcon project is Marmalade.\n")
    second.write_text("The code word of the Heron project is Tangerine.\n")
    assert app.upload(p, str(first)) == "Added notes.txt."
    assert app.upload(p, str(first)) == "Added notes.txt."  # the same bytes: the same document, no copy
    assert app.upload(p, str(second)) == "Added notes (2).txt. (another notes.txt was already indexed)"
    uploads = tmp_path / "index" / "uploads"
    assert (uploads / "notes.txt").read_text() == first.read_text()
    assert (uploads / "notes (2).txt").read_text() == second.read_text()
    assert sorted(d.rsplit("/", 1)[-1] for d in p.documents()) == [
        "nato_russia_talks.txt", "notes (2).txt", "notes.txt"]


def test_upload_size_limit_and_allowed_types_come_from_the_config(toy_config, tmp_path):
    from dataclasses import replace

    p = pipeline(replace(toy_config, max_upload_mb=0.001, upload_types=".md"))
    (tmp_path / "small.md").write_text("Anna Berg visited Oslo on Monday.\n")
    (tmp_path / "big.md").write_text("Anna Berg visited Oslo on Monday.\n" * 100)
    (tmp_path / "notes.txt").write_text("Anna Berg visited Oslo on Monday.\n")
    with pytest.raises(DocumentError, match=r"^big\.md: 0\.0 MB is over the 0\.001 MB upload limit$"):
        app.upload(p, [str(tmp_path / "small.md"), str(tmp_path / "big.md")])
    with pytest.raises(DocumentError, match=r"^notes\.txt: unsupported file type \.txt; upload \.md$"):
        app.upload(p, [str(tmp_path / "notes.txt")])
    assert not (tmp_path / "index" / "uploads").exists()  # nothing of a refused batch is kept
    assert app.upload(p, [str(tmp_path / "small.md")]) == "Added small.md."


def test_a_batch_with_an_unreadable_file_keeps_none_of_its_files(toy_config, tmp_path):
    p = pipeline(toy_config)
    (tmp_path / "good.txt").write_text("Anna Berg visited Oslo on Monday.\n")
    (tmp_path / "empty.txt").write_text(" \n")
    with pytest.raises(DocumentError, match=r"empty\.txt: the document is empty$"):
        app.upload(p, [str(tmp_path / "good.txt"), str(tmp_path / "empty.txt")])
    assert list((tmp_path / "index" / "uploads").iterdir()) == []
    assert len(p.documents()) == 1


# -- escaping of what is not ours: notices, file names, removed documents -------------------------------
def test_notices_are_escaped_html_not_markdown():
    assert app.notice_html("Added <img src=x onerror=alert(1)>.txt, **bold**.") == (
        '<p class="qa-notice">Added &lt;img src=x onerror=alert(1)&gt;.txt, **bold**.</p>')
    assert app.notice_html("<b>x</b>: unsupported", ok=False) == (
        '<p class="qa-notice qa-notice-error">⚠ &lt;b&gt;x&lt;/b&gt;: unsupported</p>')


def test_the_document_list_escapes_names():
    assert app.documents_html(["/up/<img src=x onerror=alert(1)>.txt"]) == (
        '<div class="qa-docs"><p>1 indexed document</p><ul><li title="/up/&lt;img src=x onerror=alert(1)&gt;.txt">'
        "&lt;img src=x onerror=alert(1)&gt;.txt</li></ul></div>")


def test_sources_of_a_removed_document_still_show_the_verified_quote(toy_config, tmp_path):
    note = tmp_path / "notes.txt"
    note.write_text("The secret code word of the project is Marmalade.\n")
    p = pipeline(toy_config, "The secret code word of the project is Marmalade [1].")
    app.upload(p, str(note))
    *_, (_, turns, _, _) = app.respond(p, "What is the secret code word?", [], [])
    assert app.remove(p, ["notes.txt"]) == "Removed notes.txt."
    assert not (tmp_path / "index" / "uploads" / "notes.txt").exists()
    sources = app.sources_html(p.text_of, turns)
    assert ("<mark>The secret code word of the project is Marmalade.</mark> "
            '<span class="qa-gone">(the document is no longer indexed)</span>') in sources
    assert [d.rsplit("/", 1)[-1] for d in p.documents()] == ["nato_russia_talks.txt"]


def test_remove_refuses_an_unknown_document_and_an_empty_choice(toy_config):
    p = pipeline(toy_config)
    p.documents()  # the server loads the index before the first visitor
    with pytest.raises(DocumentError, match="^choose a document to remove$"):
        app.remove(p, [])
    with pytest.raises(DocumentError):
        app.remove(p, ["nowhere.txt"])
    assert len(p.documents()) == 1


def test_ask_json_refuses_a_question_that_is_not_text(toy_config):
    with pytest.raises(BadQuestion, match="^the question must be text$"):
        app.ask_json(pipeline(toy_config), {"question": 1})


# -- serving: loopback unless told, loudly; Gradio's own upload limit ----------------------------------
def test_launch_warns_on_stderr_when_serving_beyond_loopback(toy_config, monkeypatch, capsys):
    import gradio as gr

    seen = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: seen.update(kw))
    p = pipeline(toy_config)
    app.launch(host="127.0.0.1", port=1, pipeline=p, quiet=True)
    assert capsys.readouterr().err == ""
    assert seen["server_name"] == "127.0.0.1" and seen["max_file_size"] == 50 * 1024 * 1024
    app.launch(host="0.0.0.0", port=7861, pipeline=p, quiet=True)
    err = capsys.readouterr().err
    assert err.startswith("qa: WARNING: serving on 0.0.0.0:7861: the chat, its uploads and its API are "
                          "reachable from the network, with no login") and err.count("\n") == 1
    assert seen["server_name"] == "0.0.0.0"


def test_qa_serve_binds_loopback_by_default():
    from qa.cli import parser

    args = parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 7860)


def test_qa_serve_takes_the_upload_limit_and_listens_on_loopback(monkeypatch, tmp_path):
    from qa import cli

    seen = {}
    monkeypatch.setattr(app, "launch", lambda host, port, pipeline: seen.update(
        host=host, port=port, mb=pipeline.config.max_upload_mb))
    assert cli.main(["serve", "--max-upload-mb", "2", "--index-dir", str(tmp_path)]) == 0
    assert seen == {"host": "127.0.0.1", "port": 7860, "mb": 2.0}


def test_an_upload_cut_short_leaves_nothing_in_uploads(toy_config, tmp_path, monkeypatch):
    import os

    p = pipeline(toy_config)
    (tmp_path / "notes.txt").write_text("Anna Berg visited Oslo on Monday.\n")

    def killed(*a):
        raise KeyboardInterrupt  # as a kill between the copy and the link into uploads/

    monkeypatch.setattr(os, "link", killed)
    with pytest.raises(KeyboardInterrupt):
        app.upload(p, [str(tmp_path / "notes.txt")])
    assert list((tmp_path / "index" / "uploads").iterdir()) == []
    assert list((tmp_path / "index" / ".uploading").iterdir()) == []


def test_what_a_killed_upload_left_in_uploading_is_swept_by_the_next_upload(toy_config, tmp_path):
    import os
    import subprocess
    import sys

    p = pipeline(toy_config)
    parts = tmp_path / "index" / ".uploading"
    parts.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = parts / f"notes.txt.{dead.stdout.strip()}.part"  # a process that is gone wrote it
    stale.write_text("half a docu")
    live = parts / f"other.txt.{os.getpid()}.part"  # this process is alive: its part stays
    live.write_text("being written")
    (tmp_path / "notes.txt").write_text("Anna Berg visited Oslo on Monday.\n")
    app.upload(p, [str(tmp_path / "notes.txt")])
    assert not stale.exists() and live.exists()
