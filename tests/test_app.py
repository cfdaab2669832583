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


def test_create_app_builds_a_queued_app_with_one_public_endpoint(toy_config):
    demo = app.create_app(pipeline(toy_config))
    public = [f for f in demo.fns.values() if f.api_visibility == "public"]
    assert [(f.api_name, f.concurrency_limit, f.concurrency_id) for f in public] == [("ask", 1, "pipeline")]
    model_events = [f for f in demo.fns.values() if f.name in ("on_ask", "on_upload")]
    assert len(model_events) == 6  # Enter, Ask, three examples, upload
    assert {(f.concurrency_limit, f.concurrency_id) for f in model_events} == {(1, "pipeline")}
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
    assert calls[-1] == (2, 2, "saving index") and [c[2] for c in calls[:-1]] == [
        f"embedding {d}" for d in sorted(p.documents())]
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
    assert (c["n"], c["quote"], list(c)) == (1, SHERMAN_QUOTE, ["n", "doc", "start", "end", "quote"])
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
