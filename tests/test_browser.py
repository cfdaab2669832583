"""The chat in a real Chromium (Playwright), served in-process on a free loopback port.

The fakes answer by default; test_real_model_* runs the real embedder and GGUF model.

    .venv/bin/python -m pytest tests/test_browser.py -m "browser and not slow"
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from browser_util import (SHERMAN_QUOTE, KeyedGenerator, ask, chromium, fake_pipeline,  # noqa: E402
                          real_pipeline, served)

from qa.prompts import ABSTAIN  # noqa: E402

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs /usr/bin/chromium")]

SCRIPTED_DOC = """The secret code word of the project is Marmalade.
<script>window.__pwned = 1</script>
<img src="x" onerror="window.__pwned = 2"> <b>not bold</b>
"""


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    with served(fake_pipeline(tmp_path_factory.mktemp("app"), delay=0.08)) as u:
        yield u


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda e: errors.append(e))
    page.goto(url)
    page.locator("#qa-question textarea").wait_for()
    yield page
    page.close()
    assert errors == []


def test_a_typed_question_streams_an_answer_naming_wendy_sherman(page):
    # record every text the answer bubble shows, to see the reply arrive piece by piece
    page.evaluate("""() => { window.__seen = [];
        new MutationObserver(() => document.querySelectorAll('.qa-answer').forEach(
            e => window.__seen.push(e.innerText))).observe(document.body, {subtree: true, childList: true,
                                                                           characterData: true}); }""")
    answer = ask(page, "Who led the American delegation?")
    final = answer.inner_text()
    assert final == "Wendy Sherman, the US deputy secretary of state, led the American delegation [1]."
    partial = [t for t in page.evaluate("window.__seen") if t.startswith("Wendy") and len(t) < len(final) - 5]
    assert len(set(partial)) >= 3  # several growing drafts before the verified answer
    assert page.locator("a.qa-cite").first.get_attribute("href") == "#cite-1-1"


def test_clicking_a_citation_shows_the_passage_with_the_quote_highlighted(page):
    ask(page, "Who led the American delegation?")
    cite = page.locator("a.qa-cite").first
    assert SHERMAN_QUOTE in cite.get_attribute("title")  # what hovering shows
    cite.click()
    page.wait_for_url("**#cite-1-1")
    card = page.locator("#cite-1-1")
    assert card.evaluate("e => e.matches(':target')")
    mark = card.locator("mark")
    assert mark.is_visible() and mark.inner_text() == SHERMAN_QUOTE
    assert card.locator(".qa-doc").inner_text() == "nato_russia_talks.txt"
    # scrolled into the Sources panel's visible area
    assert card.evaluate("""e => { const r = e.getBoundingClientRect(),
        p = e.closest('.qa-sources').getBoundingClientRect(); return r.top >= p.top - 1 && r.top < p.bottom; }""")


def test_an_older_answers_citation_reopens_its_folded_sources(page):
    ask(page, "Who led the American delegation?")
    ask(page, "What did she say about the troops?")
    assert page.locator(".qa-meta").last.inner_text().endswith(
        "searched for: What did Wendy Sherman say about the troops?")
    assert page.locator("#cite-1-1").is_hidden()  # Q1's sources are folded under Q2's
    page.locator("#answer-1 a.qa-cite").click()
    page.wait_for_url("**#cite-1-1")
    assert page.locator("#cite-1-1 mark").is_visible()
    assert page.locator("#cite-1-1 mark").inner_text() == SHERMAN_QUOTE


def test_an_unanswerable_example_is_shown_abstained_without_sources(page):
    page.get_by_role("button", name="Who is the President of Ukraine?").click()
    page.locator(".qa-abstained").wait_for()
    assert page.locator(".qa-abstained").inner_text() == f"NOT IN THE DOCUMENTS {ABSTAIN}"  # badge is uppercased
    assert page.locator(".qa-src").count() == 0 and page.locator(".qa-abstained a").count() == 0


def test_new_chat_clears_the_conversation_and_sources(page):
    ask(page, "Who led the American delegation?")
    page.get_by_role("button", name="New chat").click()
    page.wait_for_function("document.querySelectorAll('.qa-answer, .qa-src').length === 0")
    assert "Cited passages appear here" in page.locator(".qa-sources").inner_text()


def test_an_uploaded_document_with_a_script_is_indexed_answered_and_never_run(page, tmp_path):
    doc = tmp_path / "notes.txt"
    doc.write_text(SCRIPTED_DOC)
    page.get_by_text("Documents", exact=True).click()
    page.locator("#qa-upload input[type=file]").set_input_files(str(doc))
    page.locator("#qa-notice").get_by_text("Added notes.txt.").wait_for(timeout=30_000)
    assert "notes.txt" in page.locator(".qa-docs").inner_text()
    answer = ask(page, 'What is the secret code word? <img src="y" onerror="window.__pwned = true">')
    assert answer.inner_text() == "The secret code word of the project is Marmalade [1]."
    answer.locator("a.qa-cite").click()
    card = page.locator("#cite-1-1")
    assert card.locator("mark").inner_text() == "The secret code word of the project is Marmalade."
    assert "<script>window.__pwned = 1</script>" in card.inner_text()  # shown as text
    assert page.locator(".qa-sources script, .qa-sources img, .qa-sources b").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_gradio_client_ask_returns_the_cli_json_schema(url):
    from gradio_client import Client

    out = Client(url, verbose=False).predict("Who led the American delegation?", api_name="/ask")
    assert list(out) == ["answer", "abstained", "citations", "passages", "timings"]
    assert out["answer"] == "Wendy Sherman, the US deputy secretary of state, led the American delegation [1]."
    assert [c["quote"] for c in out["citations"]] == [SHERMAN_QUOTE]


class GatedGenerator(KeyedGenerator):
    """Holds every reply until the gate opens; records how many replies ever ran at once."""

    def __init__(self):
        super().__init__()
        self.gate, self.running, self.most = threading.Event(), 0, 0

    def stream(self, messages, max_tokens=96, not_first=""):
        self.running += 1
        self.most = max(self.most, self.running)
        self.gate.wait(30)
        yield from super().stream(messages, max_tokens)
        self.running -= 1


def test_a_full_queue_answers_busy_and_the_model_serves_one_request_at_a_time(tmp_path):
    from gradio_client import Client

    pipe = fake_pipeline(tmp_path)
    pipe._generator = model = GatedGenerator()
    with served(pipe) as u:
        client = Client(u, verbose=False)
        jobs = [client.submit("Who led the American delegation?", api_name="/ask") for _ in range(20)]
        deadline = time.monotonic() + 30  # wait until each job is running, queued or turned away
        settled = {"IN_QUEUE", "PROCESSING", "FINISHED", "QUEUE_FULL"}
        while time.monotonic() < deadline and any(j.status().code.name not in settled for j in jobs):
            time.sleep(0.1)
        model.gate.set()
        results = []
        for job in jobs:
            try:
                results.append(job.result(timeout=60)["answer"][:13])
            except Exception as e:  # gradio_client's QueueError
                results.append(str(e))
    assert sorted(results) == ["Queue is full! Please try again."] * 3 + ["Wendy Sherman"] * 17
    assert model.most == 1


@pytest.mark.slow
def test_real_model_answer_names_wendy_sherman(browser, tmp_path):
    pytest.importorskip("llama_cpp")
    with served(real_pipeline(Path(tmp_path))) as u:
        page = browser.new_page()
        page.goto(u)
        answer = ask(page, "Who led the American delegation?", timeout_ms=300_000)
        assert "Sherman" in answer.inner_text()
        answer.locator("a.qa-cite").first.click()
        assert "Sherman" in page.locator(".qa-src:target mark").first.inner_text()


class SlowCheck(KeyedGenerator):
    """Streams a word every `delay` seconds and takes `check_s` seconds to check each answer."""

    def __init__(self, delay: float = 0.05, check_s: float = 1.5):
        super().__init__(delay=delay)
        self.check_s = check_s

    def yes_probability(self, messages):
        time.sleep(self.check_s)
        return 1.0


def chat_texts(page) -> list[str]:
    """The questions and final answers of the chat, top to bottom."""
    return page.locator("#qa-chat .qa-question, #qa-chat .qa-answer").all_inner_texts()


def test_questions_sent_while_an_answer_is_checked_or_streams_are_shown_and_answered_in_order(browser, tmp_path):
    from dataclasses import replace

    pipe = fake_pipeline(tmp_path)
    pipe.config = replace(pipe.config, min_support=0.5)  # every answer is checked, slowly
    pipe._generator = SlowCheck()
    with served(pipe) as u:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(u)
        box = page.locator("#qa-question textarea")
        box.fill("Who led the American delegation?")
        box.press("Enter")
        page.get_by_text("Checking the answer against the source…").wait_for(timeout=30_000)
        box.fill("What did Wendy Sherman say about the troops?")  # the impatient user: sent during the check
        box.press("Enter")
        page.locator("#qa-chat .qa-question").nth(1).wait_for(timeout=3_000)  # shown at once, waiting
        assert page.locator("#qa-chat .qa-queued").count() == 1 and box.input_value() == ""
        page.get_by_text("Checking the answer against the source…").wait_for(state="detached", timeout=30_000)
        page.locator("#qa-chat .qa-draft .qa-caret").wait_for(timeout=10_000)  # the second answer streams
        box.fill("Who is the President of Ukraine?")  # and a third, sent while it streams
        box.press("Enter")
        page.wait_for_function("document.querySelectorAll('#qa-chat .qa-answer:not(.qa-draft)').length === 3",
                               timeout=60_000)
        texts = chat_texts(page)
        assert texts[0::2] == ["Who led the American delegation?", "What did Wendy Sherman say about the troops?",
                               "Who is the President of Ukraine?"]
        assert texts[1].startswith("Wendy Sherman, the US deputy secretary of state, led the American delegation")
        assert texts[3].startswith("Wendy Sherman said it is very hard to have diplomacy")
        assert texts[5] == f"NOT IN THE DOCUMENTS {ABSTAIN}"
        assert page.locator("#answer-2 a.qa-cite").get_attribute("href") == "#cite-2-1"
        page.close()


def test_a_file_name_with_entities_and_markdown_is_shown_as_text_in_the_notice_and_the_list(browser, tmp_path):
    # Gradio strips < > " from uploaded names; entities and Markdown get through, and the notice
    # (once gr.Markdown) rendered them: "&lt;img …&gt;" became a tag's text, "[link](x)" a link
    doc = tmp_path / "a&lt;img src=x onerror=alert(1)&gt; [link](x) _i_.txt"
    doc.write_text("The secret code word of the project is Marmalade.\n")
    with served(fake_pipeline(tmp_path / "app")) as u:
        page = browser.new_page()
        page.goto(u)
        page.get_by_text("Documents", exact=True).click()
        page.locator("#qa-upload input[type=file]").set_input_files(str(doc))
        page.locator("#qa-notice p").wait_for(timeout=30_000)
        assert page.locator("#qa-notice").inner_text() == f"Added {doc.name}."
        assert doc.name in page.locator(".qa-docs").inner_text().splitlines()
        assert page.locator("#qa-notice a, #qa-notice em, .qa-docs a, .qa-docs em").count() == 0
        page.close()


def test_a_document_is_removed_from_the_documents_panel(browser, tmp_path):
    doc = tmp_path / "notes.txt"
    doc.write_text(SCRIPTED_DOC)
    with served(fake_pipeline(tmp_path / "app")) as u:
        page = browser.new_page()
        page.goto(u)
        page.get_by_text("Documents", exact=True).click()
        page.locator("#qa-upload input[type=file]").set_input_files(str(doc))
        page.locator("#qa-notice").get_by_text("Added notes.txt.").wait_for(timeout=30_000)
        assert page.locator(".qa-docs p").inner_text() == "2 indexed documents"
        page.locator("#qa-remove-choice input").click()
        page.get_by_role("option", name="notes.txt").click()
        page.locator("#qa-remove").click()
        page.locator("#qa-notice").get_by_text("Removed notes.txt.").wait_for(timeout=30_000)
        assert page.locator(".qa-docs p").inner_text() == "1 indexed document"
        assert "notes.txt" not in page.locator(".qa-docs").inner_text()
        answer = ask(page, "What is the secret code word?")
        assert answer.inner_text() == f"NOT IN THE DOCUMENTS {ABSTAIN}"
        page.close()
