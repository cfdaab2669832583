"""Deterministic fakes and shared fixtures.

ToyEmbedder: one dimension per vocabulary word, value = count of that word in
the text, rows scaled to unit length, so every cosine can be worked out by hand.
ScriptedGenerator: replays canned replies and records every prompt it was sent.
run_cli: `python -m qa ...` in a fresh process, as a user runs it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa import models
from qa.config import ROOT, Config
from qa.retrieve import tokens

ARTICLE = ROOT / "seeds" / "nato_russia_talks.txt"


def run_cli(*args, env=None, cwd=None, timeout=600) -> subprocess.CompletedProcess:
    """`python -m qa ARGS` in a fresh process, the environment plus `env`; output captured as text."""
    return subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=cwd)


class ToyEmbedder:
    name = "toy"

    def __init__(self, vocab=("sherman", "delegation", "american", "troop", "ukraine", "russia", "nato",
                              "truss", "stoltenberg", "grushko", "brussel", "sanction")):
        self.vocab = list(vocab)
        self.dim = len(self.vocab) + 1  # the last dimension is a constant, so no row is all zeros
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        rows = []
        for t in texts:
            toks = tokens(t)
            v = np.array([toks.count(w) for w in self.vocab] + [0.1], dtype="float32")
            rows.append(v / np.linalg.norm(v))
        return np.array(rows, dtype="float32").reshape(len(texts), self.dim)


class ScriptedGenerator:
    name = "scripted"

    def __init__(self, replies, support=None):
        self.replies = list(replies)
        self.support = list(support or [])  # P(yes) answers for the self-check, if any
        self.prompts: list[list[dict]] = []
        self.checks: list[list[dict]] = []
        self.prefills: list[tuple[list[dict], str]] = []
        self.last_prompt_tokens = self.last_completion_tokens = 0

    def stream(self, messages, max_tokens=96, not_first=""):
        self.prompts.append(messages)
        reply = self.replies.pop(0) if self.replies else ""
        for i, word in enumerate(reply.split(" ")):  # streamed word by word, spaces kept
            yield word if i == 0 else " " + word

    def prefill(self, messages, upto, cache_dir=None):
        self.prefills.append((messages, upto))
        return 0

    def yes_probability(self, messages):
        self.checks.append(messages)
        return self.support.pop(0) if self.support else 1.0


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory, monkeypatch):
    """No test reads or writes the repository's index/: QA_INDEX_DIR points at a temp dir."""
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path_factory.getbasetemp() / "index"))
    for var in ("QA_DOCS", "QA_TOP_K"):
        monkeypatch.delenv(var, raising=False)
    # the registry's default model, named: a speed self-test that found this machine slow (models/speed.json)
    # would otherwise swap in the small model for "", and the tests assert the default model's behaviour
    monkeypatch.setenv("QA_MODEL", models.registry()["default"])
    monkeypatch.setattr(models, "SPEED_FILE", tmp_path_factory.getbasetemp() / "no-speed.json")


@pytest.fixture
def article_dir(tmp_path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    shutil.copy(ARTICLE, d / ARTICLE.name)
    return d


@pytest.fixture
def toy_config(article_dir, tmp_path) -> Config:
    # min_support=0, agree=0, confirm=0, focus_chars=0: no answer check, no shortest-answer reading, no
    # confirming reading and whole passages, which the fakes' tests of them turn on themselves
    return Config(docs=(str(article_dir),), index_dir=str(tmp_path / "index"), min_support=0.0,
                  whole_chars=0, agree=0, confirm=0, focus_chars=0)
