"""Scripts in documents, replies and file names never run in the chat (Chromium, Playwright).

Every answer here cites a passage that holds a <script>, an onerror image, an SVG onload, a javascript:
link or iframe; some replies carry the markup themselves (the draft streams it before the citation
check); an uploaded file is named with markup and listed. After each, window.__pwned must still be
undefined, and no script, image, SVG, iframe or javascript: link may be in the chat's DOM.
The scripted model (no real model): what the model might write is covered by test_injection.py.

    .venv/bin/python -m pytest tests/robustness/test_xss.py
"""
from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # browser_util, beside conftest
from browser_util import ask, chromium, served  # noqa: E402
from conftest import ARTICLE, ScriptedGenerator, ToyEmbedder  # noqa: E402

from qa.api import Pipeline  # noqa: E402
from qa.config import Config  # noqa: E402

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs /usr/bin/chromium")]

PAYLOADS = """The secret code word of the project is Marmalade. <script>window.__pwned = 1</script>

The spare code word is Quince. <img src=x onerror="window.__pwned = 2">

The backup code word is Rhubarb. <svg onload="window.__pwned = 3"></svg>

The transcript of the talks is online. [Read it](javascript:window.__pwned=4) <a href="javascript:window.__pwned=5">open</a>

The archive code word is Medlar. <iframe src="javascript:window.__pwned=6"></iframe> <b onmouseover="window.__pwned=7">x</b>
"""
UPLOAD_NAME = '<img src=x onerror="window.__pwned=8">.txt'
UPLOADED = "The upload code word is Damson. <script>window.__pwned = 9</script>\n"
# question words -> (reply, with {n} for the number of the passage that holds `phrase`; phrase)
REPLIES = {
    "secret code word": ("The secret code word of the project is Marmalade [{n}].", "Marmalade"),
    "spare code word": ('The spare code word is Quince <img src=x onerror="window.__pwned = 2"> [{n}].', "Quince"),
    "backup code word": ('The backup code word is Rhubarb <svg onload="window.__pwned = 3"></svg> [{n}].', "Rhubarb"),
    "transcript": ("The transcript of the talks is online [Read it](javascript:window.__pwned=4) [{n}].",
                   "transcript of the talks"),
    "archive code word": ('The archive code word is Medlar <iframe src="javascript:window.__pwned=6"></iframe> [{n}].',
                          "Medlar"),
    "upload code word": ("The upload code word is Damson [{n}].", "Damson"),
}


class Citing(ScriptedGenerator):
    """Replies by the question's words, citing the number of the passage in its prompt that holds the
    reply's phrase (retrieved or read whole, the marker is right)."""

    def stream(self, messages, max_tokens=96, not_first=""):
        prompt = messages[-1]["content"]
        question = prompt.lower().rsplit("question:", 1)[-1]
        reply, phrase = next((v for k, v in REPLIES.items() if k in question), ("The documents don't say.", ""))
        n = next((m.group(1) for m in re.finditer(r"^\[(\d+)\] (.*)$", prompt, re.M) if phrase in m.group(2)), "1")
        self.replies = [reply.format(n=n)]
        yield from super().stream(messages, max_tokens)


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    root = tmp_path_factory.mktemp("xss")
    docs = root / "docs"
    docs.mkdir()
    shutil.copy(ARTICLE, docs / ARTICLE.name)
    (docs / "payloads.txt").write_text(PAYLOADS)
    config = Config(docs=(str(docs),), index_dir=str(root / "index"), min_support=0.0, confirm=0)
    with served(Pipeline(config, embedder=ToyEmbedder(), generator=Citing([]))) as u:
        yield u


@pytest.fixture(scope="module")
def page(url):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        page.locator("#qa-question textarea").wait_for()
        yield page
        assert dialogs == []


def _nothing_ran(page):
    assert page.evaluate("typeof window.__pwned") == "undefined"
    live = page.evaluate("""() => [...document.querySelectorAll(
        '.qa-answer script, .qa-answer img, .qa-answer svg, .qa-answer iframe, .qa-sources script,'
        + ' .qa-sources img, .qa-sources svg, .qa-sources iframe, .qa-docs script, .qa-docs img,'
        + ' [onerror], [onload], [onmouseover], a[href^="javascript:"], iframe[src^="javascript:"]')]
        .map(e => e.outerHTML)""")
    assert live == []


@pytest.mark.parametrize("question,shown", [
    ("What is the secret code word?", "The secret code word of the project is Marmalade"),
    ("Where is the transcript?", "The transcript of the talks is online [Read it](javascript:window.__pwned=4)"),
])
def test_an_answer_citing_a_passage_with_markup_runs_nothing(page, question, shown):
    answer = ask(page, question)
    assert answer.inner_text().startswith(shown)  # a javascript: link in the answer itself: text, not a link
    page.mouse.move(5, 5)
    answer.locator("a.qa-cite").first.hover()  # the quote's tooltip
    answer.locator("a.qa-cite").first.click()  # the passage, markup and all, in the Sources panel
    card = page.locator(".qa-src:target")
    card.wait_for()
    assert "window.__pwned" in card.inner_text()  # shown as text
    card.locator(".qa-passage").hover()
    _nothing_ran(page)


@pytest.mark.parametrize("question,markup", [
    ("What is the spare code word?", '<img src=x onerror="window.__pwned = 2">'),
    ("What is the backup code word?", '<svg onload="window.__pwned = 3"></svg>'),
    ("What is the archive code word?", '<iframe src="javascript:window.__pwned=6"></iframe>'),
])
def test_a_reply_with_markup_streams_as_text_and_runs_nothing(page, question, markup):
    # the draft shows the reply as it streams, before the citation check (which then withholds it:
    # the markup's words are no claim a source sentence states)
    page.evaluate("""() => { window.__drafts = [];
        new MutationObserver(() => document.querySelectorAll('.qa-draft').forEach(
            e => window.__drafts.push(e.innerText))).observe(document.body, {subtree: true, childList: true,
                                                                             characterData: true}); }""")
    answer = ask(page, question)
    assert any(markup in d for d in page.evaluate("window.__drafts"))  # on screen, as text
    assert answer.inner_text() == "NOT IN THE DOCUMENTS The documents don't say."
    _nothing_ran(page)


def test_a_file_named_with_markup_is_uploaded_listed_answered_and_runs_nothing(page, tmp_path):
    doc = tmp_path / UPLOAD_NAME
    doc.write_text(UPLOADED)
    page.get_by_text("Documents", exact=True).click()
    page.locator("#qa-upload input[type=file]").set_input_files(str(doc))
    page.locator("#qa-notice").get_by_text("Added", exact=False).wait_for(timeout=60_000)
    page.locator(".qa-docs li").filter(has_text="onerror").first.wait_for()  # the name, shown as text
    _nothing_ran(page)
    answer = ask(page, "What is the upload code word?")
    assert answer.inner_text().startswith("The upload code word is Damson")
    answer.locator("a.qa-cite").first.click()
    assert "onerror" in page.locator(".qa-src:target .qa-doc").inner_text()  # its name, as text
    _nothing_ran(page)
