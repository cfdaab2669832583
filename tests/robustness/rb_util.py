"""Helpers of the robustness tests: a scripted model that never runs out of replies and
encodes its prompt as llama.cpp does, and a Pipeline over a copy of the article."""
from __future__ import annotations

from pathlib import Path

from conftest import ScriptedGenerator, ToyEmbedder

from qa import robustness


class Repeating(ScriptedGenerator):
    """Replies with its one reply to every prompt; like the llama.cpp adapter, it encodes the
    prompt as UTF-8 first, so a question the real model cannot take fails here too."""

    def stream(self, messages, max_tokens=96, not_first=""):
        "".join(m["content"] for m in messages).encode("utf-8")
        self.replies = self.replies[:1] * 2
        yield from super().stream(messages, max_tokens, not_first)


def pipeline(tmp_path: Path):
    """The article read whole (every question reaches the model), ToyEmbedder, and a model that answers
    "Wendy Sherman led the American delegation [n]." with n the passage that says so."""
    gen = Repeating([])
    pipe = robustness.good_pipeline(tmp_path / "good", tmp_path / "index", embedder=ToyEmbedder(), generator=gen)
    gen.replies = [robustness.good_reply(pipe)]
    return pipe, gen
