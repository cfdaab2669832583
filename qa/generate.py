"""Text generation: one small interface, and the llama-cpp-python adapter.

`Generator.stream(messages) -> Iterator[str]` yields pieces of the reply.
Decoding is greedy (temperature 0) with a fixed seed: same prompt, same answer.
llama_cpp is imported on first use; the model loads once per process.
"""
from __future__ import annotations

import ctypes
import os
import threading
from typing import Iterator, Protocol

import numpy as np

from . import kv_file
from .errors import ModelMissing


# For a GGUF without a chat template of its own.
CHATML = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
          "<|im_start|>assistant\n")


class Generator(Protocol):
    name: str

    def stream(self, messages: list[dict], max_tokens: int = 96, not_first: str = "") -> Iterator[str]: ...

    def prefill(self, messages: list[dict], upto: str, cache_dir: str | None = None) -> int: ...


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


# One model load at a time in a process: llama.cpp loading two models in two threads at once ends the
# process on the spot, exit status 0, nothing flushed (seen with a separate check model preloading).
_LOADING = threading.Lock()
_MIN_NGRAM, _MAX_NGRAM = 2, 3  # a guess follows the last 3 (else 2) tokens where they occur earlier
# Prompt prefixes kept pinned at once (`LlamaGenerator._pin`): the answer's (a whole document's, ~57 MB of state
# for the article), the answer check's and the entailment prompt's openings, and one more set's document
_PINS = 4


def _lookup(ids: list[int], n: int) -> list[int]:
    """Up to n tokens that followed the latest earlier occurrence of the last 3 (else 2) tokens.

    >>> _lookup([5, 6, 7, 8, 9, 1, 6, 7], 2)
    [8, 9]
    >>> _lookup([5, 6, 7], 2)
    []
    """
    if n <= 0:
        return []
    for size in range(min(_MAX_NGRAM, len(ids) - 1), _MIN_NGRAM - 1, -1):
        tail = ids[-size:]
        for i in range(len(ids) - size - 1, -1, -1):
            if ids[i:i + size] == tail:
                return ids[i + size:i + size + n]
    return []


def _greedy(decode, undo, room, logits: np.ndarray, seen: list[int], max_tokens: int, draft: int,
            is_end) -> Iterator[list[int]]:
    """Greedy decoding with prompt-lookup guesses; yields the tokens each model step adds.

    An answer copies names and phrases from its passages, so the tokens that followed the
    reply's last few tokens in the prompt (`_lookup`) are a good guess at what comes next.
    The next token and up to `draft` guessed ones are evaluated in one batch (where a batch of
    five costs little more than one token: not with the AVX-512 build, where it costs 4.3, so
    config.draft_tokens is 0 and `qa models` measures it: speed.batch_cost), and each guess the
    model's own argmax agrees with is kept; the first that disagrees and the rest are forgotten (`undo`). So
    the reply is the greedy one, token for token, up to the floating-point difference
    between a batch and a single token (which can flip a near tie, as a different batch
    size for the prompt can). decode(tokens, every) evaluates tokens after the context and
    returns logits rows (one per token if every, else the last); room() is the free context.
    """
    out = 0
    while out < max_tokens:
        token = int(np.argmax(logits))
        if is_end(token):
            return
        seen.append(token)
        out += 1
        space = room() - 1  # for guesses, beside the token itself
        if space < 0:
            yield [token]  # the context is full: the token is the reply's last
            return
        guess = _lookup(seen, min(draft, max_tokens - out, space))
        rows = decode([token] + guess, bool(guess))
        taken = 0
        while taken < len(guess) and int(np.argmax(rows[taken])) == guess[taken] and not is_end(guess[taken]):
            taken += 1
        if taken < len(guess):
            undo(len(guess) - taken)
        seen += guess[:taken]
        out += taken
        yield [token] + guess[:taken]
        logits = rows[taken]


def llama_cpp_is_eog(llm, token: int) -> bool:
    """The token ends the turn (end of sequence, <|im_end|>, <end_of_turn>...)."""
    import llama_cpp

    return bool(llama_cpp.llama_vocab_is_eog(llm._model.vocab, token))


class LlamaGenerator:
    """A local GGUF chat model through llama-cpp-python.

    Prompts go through the GGUF's own chat template. llama.cpp's prefix match
    reuses the KV cache of whatever the last prompt shared with this one (the
    system prompt at least); `prefill` pins a longer prefix (a whole document)
    that survives other prompts in between.
    """

    def __init__(self, path: str, n_ctx: int = 2048, n_threads: int = 2, n_batch: int = 512, seed: int = 0,
                 draft: int = 0):
        self.path, self.n_ctx, self.n_threads, self.n_batch, self.seed = path, n_ctx, n_threads, n_batch, seed
        self.draft = draft  # prompt-lookup tokens guessed per step (stream); 0 = one token at a time
        self.name = str(path).rsplit("/", 1)[-1]
        self.lock = threading.Lock()  # one llama context: never two threads at once
        self.last_prompt_tokens = 0      # tokens in the last prompt
        self.last_prompt_evaluated = 0   # of those, evaluated (not reused from the KV cache)
        self.last_completion_tokens = 0
        self._llm = None
        self._formatter = None  # the GGUF's chat template
        self._ids = None        # (yes token ids, no token ids)
        self._stop: list[str] = []  # the chat template's end-of-turn strings
        self._pins: list[tuple[list[int], bytes]] = []  # (tokens, llama.cpp state) of pinned prefixes, last used first
        self._heads: list[list[int]] = []  # prefixes to pin the first time a prompt is evaluated past them (`keep`)

    def load(self):
        """The llama.cpp model, loaded once (safe to call from a preloading thread)."""
        with _LOADING:
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
        """Reply pieces, greedy; the reply never starts with `not_first`. Decoding guesses
        ahead from the prompt (`_greedy`): the greedy reply in fewer model steps (`draft`=0: one
        token per step)."""
        with self.lock:
            llm = self.load()
            tokens = self._tokens(llm, self._format(messages))
            if len(tokens) >= llm.n_ctx():
                raise ValueError(f"the prompt ({len(tokens)} tokens) does not fit the context ({llm.n_ctx()})")
            self._restore(llm, tokens)
            keep, logits = self._evaluate(llm, tokens)
            self.last_prompt_tokens, self.last_prompt_evaluated = len(tokens), len(tokens) - keep
            self.last_completion_tokens = 0
            if not_first:
                logits = _NotFirst(lambda t: llm.detokenize([t]).decode(errors="ignore"), not_first)(None, logits)

            def undo(n: int) -> None:  # forget the last n tokens evaluated (rejected guesses)
                llm.n_tokens -= n
                llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)

            out, shown = [], ""
            for new in _greedy(lambda t, every: self._decode(llm, t, every), undo,
                               lambda: llm.n_ctx() - llm.n_tokens, logits, list(tokens), max_tokens,
                               self.draft, lambda t: llama_cpp_is_eog(llm, t)):
                out += new
                self.last_completion_tokens = len(out)
                text, done = self._text(llm, out)
                if len(text) > len(shown):
                    yield text[len(shown):]
                    shown = text
                if done:
                    return
            text, _ = self._text(llm, out, final=True)
            if len(text) > len(shown):
                yield text[len(shown):]

    def _evaluate(self, llm, tokens: list[int]) -> tuple[int, np.ndarray]:
        """Evaluate a prompt after the longest prefix the KV cache already holds (its last token
        at least is evaluated): (tokens reused, the last token's logits). A prefix to keep (`keep`)
        that this prompt evaluates past is evaluated on its own first and pinned."""
        keep = min(llm.longest_token_prefix(llm._input_ids, tokens), len(tokens) - 1)
        llm.n_tokens = keep
        head = next((h for h in self._heads if keep < len(h) < len(tokens) and tokens[:len(h)] == h), None)
        if head is not None:
            llm.eval(head[keep:])
            self._pin(head, self._state(llm))
        llm.eval(tokens[llm.n_tokens:])
        return keep, np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()

    @staticmethod
    def _decode(llm, tokens: list[int], every: bool) -> np.ndarray:
        """Evaluate `tokens` after the cached ones; the logits of each (every=True) or of the last."""
        n_past = llm.n_tokens
        llm._ctx.kv_cache_seq_rm(-1, n_past, -1)
        llm._batch.set_batch(batch=tokens, n_past=n_past, logits_all=every)
        llm._ctx.decode(llm._batch)
        llm.input_ids[n_past:n_past + len(tokens)] = tokens
        llm.n_tokens += len(tokens)
        rows = len(tokens) if every else 1
        return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(rows, llm.n_vocab())).copy()

    def _text(self, llm, out: list[int], final: bool = False) -> tuple[str, bool]:
        """The reply so far, cut at a stop string (then done=True); an unfinished UTF-8
        character, or what may be the start of a stop string, is held back until it is whole."""
        data = llm.detokenize(out)
        try:
            text = data.decode()
        except UnicodeDecodeError as e:  # an unfinished character at the end waits for its next byte
            whole = final or e.reason != "unexpected end of data"
            text = data.decode(errors="ignore") if whole else data[:e.start].decode(errors="ignore")
        for stop in self._stop:
            at = text.find(stop)
            if at >= 0:
                return text[:at], True
        if not final:
            for stop in self._stop:
                for n in range(min(len(stop) - 1, len(text)), 0, -1):
                    if text.endswith(stop[:n]):
                        return text[:-n], False
        return text, False

    def prefill(self, messages: list[dict], upto: str, cache_dir: str | None = None) -> int:
        """Evaluate the prompt for `messages` up to the first `upto` and keep its KV cache.

        The pipeline pins the part every question shares (system prompt and the whole
        document): later prompts that start with it skip it, even after the answer check
        or a follow-up rewrite used the context in between. With `cache_dir` it is kept
        in a file there (kv-<model key>.bin) across processes; the file holds its tokens,
        so a stale one is recomputed, never misused. Returns the number of pinned tokens.
        """
        with self.lock:
            llm = self.load()
            cache = os.path.join(cache_dir, f"kv-{self._key()}.bin") if cache_dir else None
            prompt = self._format(messages)
            cut = prompt.find(upto)
            # the last token may merge with what follows `upto`: pin up to the one before
            tokens = self._tokens(llm, prompt[:cut if cut >= 0 else len(prompt)])[:-1]
            if any(pinned == tokens for pinned, _ in self._pins):
                return len(tokens)
            if not (cache and self._load_file(llm, cache, tokens)):
                keep = llm.longest_token_prefix(llm._input_ids, tokens)
                llm.n_tokens = keep
                llm.eval(tokens[keep:])
                if cache:
                    self._save_file(llm, cache, tokens)
            self._pin(tokens, self._state(llm))
            return len(tokens)

    def keep(self, messages: list[dict], upto: str) -> None:
        """Pin the prompt prefix for `messages` up to the first `upto` the first time a prompt evaluates past
        it, at no extra cost: the fixed opening of a reading that follows the answer (the answer check's chat
        template and "Text:", 27 tokens; the entailment prompt's instructions, 73) is then restored, not
        evaluated again, after each answer overwrote the context."""
        with self.lock:
            llm = self.load()
            prompt = self._format(messages)
            cut = prompt.find(upto)
            tokens = self._tokens(llm, prompt[:cut if cut >= 0 else len(prompt)])[:-1]
            if tokens and tokens not in self._heads:
                self._heads.append(tokens)

    def _pin(self, tokens: list[int], state: bytes) -> None:
        """Keep `state` (the KV cache holding exactly `tokens`) to restore; the least recently used of
        more than _PINS goes."""
        self._pins = [(tokens, state)] + [p for p in self._pins if p[0] != tokens][:_PINS - 1]

    def _tokens(self, llm, prompt: str) -> list[int]:
        """The prompt's tokens, with a BOS token unless the chat template wrote one."""
        bos = self._formatter.bos_token if self._formatter else ""
        return llm.tokenize(prompt.encode(), add_bos=not (bos and prompt.startswith(bos)), special=True)

    def _key(self) -> str:
        """Names this model file and llama.cpp build: a state from another never loads."""
        import hashlib

        import llama_cpp

        st = os.stat(self.path)
        ident = f"{os.path.abspath(self.path)}|{st.st_size}|{st.st_mtime_ns}|{llama_cpp.__version__}"
        return hashlib.sha1(ident.encode()).hexdigest()[:12]

    def _restore(self, llm, tokens: list[int]) -> None:
        """Put the longest pinned prefix `tokens` start with back in the KV cache, if it was overwritten."""
        found = [(n, p) for n, p in enumerate(self._pins) if tokens[:len(p[0])] == p[0]]
        if not found:
            return
        at, (pinned, state) = max(found, key=lambda f: len(f[1][0]))
        n = len(pinned)
        if llm.longest_token_prefix(llm._input_ids, tokens) >= n:
            return
        import llama_cpp

        buf = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_set_data(llm._ctx.ctx, buf, len(state)) != len(state):
            del self._pins[at]  # the prompt is then evaluated in full: slower, still right
            llm.n_tokens = 0
            return
        self._pins.insert(0, self._pins.pop(at))
        llm.input_ids[:n] = pinned
        llm.n_tokens = n

    @staticmethod
    def _state(llm) -> bytes:
        import llama_cpp

        size = llama_cpp.llama_state_get_size(llm._ctx.ctx)
        buf = (ctypes.c_uint8 * size)()
        n = llama_cpp.llama_state_get_data(llm._ctx.ctx, buf, size)
        return ctypes.string_at(buf, n)  # one copy: bytes(buf[:n]) builds a list of n ints first (2.8 s for 57 MB)

    @staticmethod
    def _load_file(llm, path: str, tokens: list[int]) -> bool:
        """Restore the KV state saved for `tokens` (kv_file.read checks it); False: recompute it.
        A damaged file, or one another model or context size wrote, is said in one line on stderr."""
        import llama_cpp

        try:
            state = kv_file.read(path, tokens, llm.n_ctx())
        except kv_file.Stale:
            return False
        except kv_file.Damaged as e:
            import sys

            print(f"qa: the saved prompt prefix {path} {e}; recomputing it", file=sys.stderr)
            return False
        if state is None:
            return False
        buf = (ctypes.c_uint8 * len(state)).from_buffer(state)
        if llama_cpp.llama_state_set_data(llm._ctx.ctx, buf, len(state)) != len(state):
            llm._ctx.kv_cache_clear()
            llm.n_tokens = 0
            return False
        llm.input_ids[:len(tokens)] = tokens
        llm.n_tokens = len(tokens)
        return True

    @staticmethod
    def _save_file(llm, path: str, tokens: list[int]) -> None:
        import llama_cpp

        size = llama_cpp.llama_state_get_size(llm._ctx.ctx)
        buf = (ctypes.c_uint8 * size)()
        n = llama_cpp.llama_state_get_data(llm._ctx.ctx, buf, size)
        try:
            kv_file.write(path, tokens, llm.n_ctx(), ctypes.string_at(buf, n))  # atomic: never a half file
        except OSError as e:  # a full disk or a read-only index: the next process evaluates the prefix again
            import sys

            print(f"qa: the prompt prefix was not saved to {path} ({e.strerror or e})", file=sys.stderr)

    def yes_probability(self, messages: list[dict]) -> float:
        """P(yes) / (P(yes) + P(no)) for the reply to `messages`, from one forward pass.

        Used by the answer check (check.py): `messages` asks whether a text answers
        a question. Only the tokens after the prefix shared with the previous call
        (the chat template's opening) are evaluated.
        """
        with self.lock:
            llm = self.load()
            tokens = llm.tokenize(self._format(messages).encode(), add_bos=False, special=True)
            self._restore(llm, tokens)
            keep, logits = self._evaluate(llm, tokens)
            self.last_prompt_tokens, self.last_prompt_evaluated = len(tokens), len(tokens) - keep
            yes, no = (np.logaddexp.reduce(logits[ids]) for ids in self._yes_no_ids())
            return float(1 / (1 + np.exp(no - yes)))

    def _format(self, messages: list[dict]) -> str:
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            llm = self._llm
            self._formatter = Jinja2ChatFormatter(
                template=llm.metadata.get("tokenizer.chat_template") or CHATML,
                eos_token=llm.detokenize([llm.token_eos()], special=True).decode(errors="ignore"),
                bos_token=llm.detokenize([llm.token_bos()], special=True).decode(errors="ignore")
                if llm.token_bos() >= 0 else "")
        result = self._formatter(messages=messages)
        stop = result.stop if isinstance(result.stop, list) else [result.stop]
        self._stop = [x for x in stop if x]
        return result.prompt

    def _yes_no_ids(self):
        if self._ids is None:
            llm = self._llm
            first = lambda words: sorted({llm.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words})
            self._ids = (first(["yes", "Yes", " yes", " Yes"]), first(["no", "No", " no", " No"]))
        return self._ids
