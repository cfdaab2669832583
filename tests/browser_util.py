"""What the app and browser tests share: a keyed scripted model, a served app, Chromium.

Also makes the README screenshot (the fakes by default, --real for the real models):

    .venv/bin/python tests/browser_util.py docs/screenshot.png [--real]
"""
from __future__ import annotations

import contextlib
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # conftest, when run as a script

from conftest import ARTICLE, ScriptedGenerator, ToyEmbedder  # noqa: E402

from qa.api import Pipeline  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.prompts import ABSTAIN  # noqa: E402

SHERMAN = "Wendy Sherman, the US deputy secretary of state, led the American delegation [1]."
SHERMAN_QUOTE = "Wendy Sherman, the US deputy secretary of state who led the American delegation"
TROOPS = ("Wendy Sherman said it is very hard to have diplomacy when you have 100,000 troops "
          "live-fire exercises, propaganda, disinformation [1].")
REPLIES = {  # question words -> reply; the first key found in the question wins
    "american delegation": SHERMAN,
    "did she say": "What did Wendy Sherman say about the troops?",  # the follow-up rewrite
    "sherman say about the troops": TROOPS,
    "code word": "The secret code word of the project is Marmalade [1].",
}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class KeyedGenerator(ScriptedGenerator):
    """Picks its reply by the question (not by call order), so any test may ask in any order;
    `delay` seconds between pieces makes the streaming visible in a browser."""

    def __init__(self, replies: dict[str, str] = REPLIES, delay: float = 0.0):
        super().__init__([])
        self.keyed, self.delay = dict(replies), delay

    def stream(self, messages, max_tokens=96, not_first=""):
        question = messages[-1]["content"].lower().rsplit("question:", 1)[-1]
        self.replies = [next((r for k, r in self.keyed.items() if k in question), ABSTAIN)]
        for piece in super().stream(messages, max_tokens):
            time.sleep(self.delay)
            yield piece


def fake_pipeline(root: Path, delay: float = 0.0) -> Pipeline:
    """The toy embedder and keyed model over a copy of the article under root/."""
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTICLE, docs / ARTICLE.name)
    # top-k retrieval, so the canned replies' [1] is the passage they quote
    config = Config(docs=(str(docs),), index_dir=str(root / "index"), min_support=0.0, whole_chars=0, confirm=0)
    return Pipeline(config, embedder=ToyEmbedder(), generator=KeyedGenerator(delay=delay))


def real_pipeline(root: Path) -> Pipeline:
    """The real embedder and GGUF model over a copy of the article (index under root/)."""
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTICLE, docs / ARTICLE.name)
    return Pipeline(Config.from_env(docs=(str(docs),), index_dir=str(root / "index")))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(pipeline):
    """The app on a free loopback port, in this process -> its URL."""
    from qa import app

    port = free_port()
    demo = app.launch(port=port, pipeline=pipeline, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def ask(page, question: str, timeout_ms: int = 30_000):
    """Type a question, press Enter, wait for the verified answer -> its last bubble locator."""
    n = page.locator(".qa-answer:not(.qa-draft)").count()
    page.locator("#qa-question textarea").fill(question)
    page.locator("#qa-question textarea").press("Enter")
    page.wait_for_function(f"document.querySelectorAll('.qa-answer:not(.qa-draft)').length > {n}",
                           timeout=timeout_ms)
    return page.locator(".qa-answer:not(.qa-draft)").last


def screenshot(path: str, real: bool = False) -> None:
    root = Path(tempfile.mkdtemp())
    pipe = real_pipeline(root) if real else fake_pipeline(root)
    pipe.ask("When was the Nato-Russia Council established?")  # load the model: timings of a warm server
    with served(pipe) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
        page.goto(url)
        ask(page, "Who led the American delegation?", 300_000)
        ask(page, "Who was Russia's representative at the talks?", 300_000)
        page.locator("a.qa-cite").last.click()
        time.sleep(1)
        page.screenshot(path=path)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    screenshot(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.png", real="--real" in sys.argv)
