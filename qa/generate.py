"""Text generation: one small interface, and the llama-cpp-python adapter.

`Generator.stream(messages) -> Iterator[str]` yields pieces of the reply.
Decoding is greedy (temperature 0) with a fixed seed: same prompt, same answer.
llama_cpp is imported on first use; the model loads once per process.
"""
from __future__ import annotations

import threading
from typing import Iterator, Protocol

from .errors import ModelMissing


class Generator(Protocol):
    name: str

    def stream(self, messages: list[dict], max_tokens: int = 96) -> Iterator[str]: ...


class LlamaGenerator:
    """A local GGUF chat model through llama-cpp-python.

    The system prompt is identical for every question, so llama.cpp's prefix
    match reuses its KV cache and only the passages and question are evaluated.
    """

    def __init__(self, path: str, n_ctx: int = 2048, n_threads: int = 2, n_batch: int = 512, seed: int = 0):
        self.path, self.n_ctx, self.n_threads, self.n_batch, self.seed = path, n_ctx, n_threads, n_batch, seed
        self.name = str(path).rsplit("/", 1)[-1]
        self.lock = threading.Lock()  # one llama context: never two threads at once
        self.last_prompt_tokens = 0
        self.last_completion_tokens = 0
        self._llm = None

    def load(self):
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise ModelMissing("llama-cpp-python is not installed: pip install llama-cpp-python") from None
            try:
                self._llm = Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                                  n_threads_batch=self.n_threads, n_batch=self.n_batch, seed=self.seed,
                                  verbose=False)
            except ValueError as e:  # llama_cpp raises ValueError for unreadable model files
                raise ModelMissing(f"cannot load model {self.path}: {e}") from None
        return self._llm

    def count_tokens(self, messages: list[dict]) -> int:
        llm = self.load()
        text = "".join(m["content"] for m in messages)
        return len(llm.tokenize(text.encode(), add_bos=False))

    def stream(self, messages: list[dict], max_tokens: int = 96) -> Iterator[str]:
        with self.lock:
            llm = self.load()
            out = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0,
                                             top_k=1, seed=self.seed, stream=True)
            n = 0
            for part in out:
                piece = part["choices"][0]["delta"].get("content")
                if piece:
                    n += 1
                    yield piece
            self.last_completion_tokens = n
            self.last_prompt_tokens = llm.n_tokens - n
