"""Text generation: one small interface, and the llama-cpp-python adapter.

`Generator.stream(messages) -> Iterator[str]` yields pieces of the reply.
Decoding is greedy (temperature 0) with a fixed seed: same prompt, same answer.
llama_cpp is imported on first use; the model loads once per process.
"""
from __future__ import annotations

import threading
from typing import Iterator, Protocol

import numpy as np

from .errors import ModelMissing


class Generator(Protocol):
    name: str

    def stream(self, messages: list[dict], max_tokens: int = 96, not_first: str = "") -> Iterator[str]: ...


class _NotFirst:
    """A llama.cpp logits processor: at the first step, skip every token that
    starts with `prefix` (a reply must not open with a bare citation marker such
    as "[2]": the small models then often stop there, having said nothing)."""

    def __init__(self, piece, prefix: str):
        self.piece, self.prefix, self.first = piece, prefix, True

    def __call__(self, _ids, logits: np.ndarray) -> np.ndarray:
        if self.first:
            self.first = False
            for _ in range(64):  # greedy picks the argmax: mask it while it is banned
                t = int(np.argmax(logits))
                if not self.piece(t).lstrip().startswith(self.prefix):
                    break
                logits[t] = -1e30
        return logits


class LlamaGenerator:
    """A local GGUF chat model through llama-cpp-python.

    The system prompt is identical for every question, so llama.cpp's prefix
    match reuses its KV cache and only the passages and question are evaluated.
    """

    def __init__(self, path: str, n_ctx: int = 2048, n_threads: int = 2, n_batch: int = 512, seed: int = 0):
        self.path, self.n_ctx, self.n_threads, self.n_batch, self.seed = path, n_ctx, n_threads, n_batch, seed
        self.name = str(path).rsplit("/", 1)[-1]
        self.lock = threading.Lock()  # one llama context: never two threads at once
        self._load_lock = threading.Lock()
        self.last_prompt_tokens = 0
        self.last_completion_tokens = 0
        self._llm = None
        self._formatter = None  # the GGUF's chat template, for yes_probability
        self._ids = None        # (yes token ids, no token ids)

    def load(self):
        """The llama.cpp model, loaded once (safe to call from a preloading thread)."""
        with self._load_lock:
            if self._llm is None:
                try:
                    from llama_cpp import Llama
                except ImportError:
                    raise ModelMissing("llama-cpp-python is not installed: pip install llama-cpp-python") from None
                try:
                    # use_mmap=False: llama.cpp repacks the weights for the CPU anyway; with mmap the
                    # file's pages stay resident beside the repacked copy (1.5B: 1.78 GB vs 1.18 GB peak RSS)
                    self._llm = Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                                      n_threads_batch=self.n_threads, n_batch=self.n_batch, seed=self.seed,
                                      use_mmap=False, verbose=False)
                except ValueError as e:  # llama_cpp raises ValueError for unreadable model files
                    raise ModelMissing(f"cannot load model {self.path}: {e}") from None
            return self._llm

    def count_tokens(self, messages: list[dict]) -> int:
        llm = self.load()
        text = "".join(m["content"] for m in messages)
        return len(llm.tokenize(text.encode(), add_bos=False))

    def stream(self, messages: list[dict], max_tokens: int = 96, not_first: str = "") -> Iterator[str]:
        """Reply pieces, greedy; the reply never starts with `not_first`."""
        with self.lock:
            llm = self.load()
            steer = [_NotFirst(lambda t: llm.detokenize([t]).decode(errors="ignore"), not_first)] if not_first else None
            out = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0,
                                             top_k=1, seed=self.seed, stream=True, logits_processor=steer)
            n = 0
            for part in out:
                piece = part["choices"][0]["delta"].get("content")
                if piece:
                    n += 1
                    yield piece
            self.last_completion_tokens = n
            self.last_prompt_tokens = llm.n_tokens - n

    def yes_probability(self, messages: list[dict]) -> float:
        """P(yes) / (P(yes) + P(no)) for the reply to `messages`, from one forward pass.

        Used by the answer check (check.py): `messages` asks whether a text answers
        a question. Only the tokens after the prefix shared with the previous call
        (the chat template's opening) are evaluated.
        """
        with self.lock:
            llm = self.load()
            tokens = llm.tokenize(self._format(messages).encode(), add_bos=False, special=True)
            keep = min(llm.longest_token_prefix(llm._input_ids, tokens), len(tokens) - 1)
            llm.n_tokens = keep
            llm.eval(tokens[keep:])
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
            yes, no = (np.logaddexp.reduce(logits[ids]) for ids in self._yes_no_ids())
            return float(1 / (1 + np.exp(no - yes)))

    def _format(self, messages: list[dict]) -> str:
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            llm = self._llm
            self._formatter = Jinja2ChatFormatter(
                template=llm.metadata["tokenizer.chat_template"],
                eos_token=llm.detokenize([llm.token_eos()]).decode(errors="ignore"),
                bos_token=llm.detokenize([llm.token_bos()]).decode(errors="ignore") if llm.token_bos() >= 0 else "")
        return self._formatter(messages=messages).prompt

    def _yes_no_ids(self):
        if self._ids is None:
            llm = self._llm
            first = lambda words: sorted({llm.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words})
            self._ids = (first(["yes", "Yes", " yes", " Yes"]), first(["no", "No", " no", " No"]))
        return self._ids
