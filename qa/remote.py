"""Answering on a model server: `OpenAIGenerator`, the `Generator` for any OpenAI-compatible API.

    QA_LLM_URL=http://127.0.0.1:8080/v1 qa ask "Who led the American delegation?"
    python -m qa.remote --bench http://127.0.0.1:8080/v1     # per-answer latency: there vs in-process

llama.cpp's llama-server, llama-cpp-python's server, vLLM and Ollama's /v1 all take
`POST /chat/completions`. With config.llm_url set, answering, follow-up rewriting and the
answer check go there; retrieval and citation checks stay here. Standard library only.

- Deterministic: temperature 0 and config.seed on every request. `cache_prompt` lets
  llama.cpp's server reuse the prompt prefix every question shares (vLLM caches prefixes
  itself; others ignore the field, and one that refuses it is asked again without), so
  `prefill` does nothing here.
- The answer check's P(yes) comes from the first reply token's `top_logprobs`:
  P(yes) / (P(yes) + P(no)), as in-process. A server that gives no logprobs, or refuses
  them, is read by its one-token reply instead: "yes" counts 1.0, anything else 0.0, so
  an answer then passes when the model's own greedy reply is yes.
- A reply may not open with "[" in-process (`not_first`, a logits mask); a server cannot
  be told that, so here it may (a reply that is only a marker fails the citation check).
- Every failure is one `BackendError` line. A stream that stops before the server says it
  is finished raises: a partial reply never becomes an answer.
- QA_LLM_API_KEY is read from the environment at each request and sent as a bearer token;
  it is never kept on the object, logged, written, or put in a message.
"""
from __future__ import annotations

import http.client
import json
import math
import os
import re
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlsplit

from .errors import BackendError
from .types import Answer

YES, NO = ("yes", "Yes"), ("no", "No")  # the first tokens the in-process check counts, with or without a space
_OVERFLOW = re.compile(r"context.?(length|size|window)|maximum context|too many tokens", re.I)


class OpenAIGenerator:
    """A chat model behind an OpenAI-compatible URL (".../v1"), greedy, streamed."""

    def __init__(self, url: str, model: str = "", seed: int = 0, timeout: float = 120.0):
        parts = urlsplit(url.strip().rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BackendError("QA_LLM_URL must be an http(s) URL such as http://127.0.0.1:8080/v1")
        self._https, self._host, self._path = parts.scheme == "https", parts.netloc.rpartition("@")[2], parts.path
        self.url = f"{parts.scheme}://{self._host}{self._path}"  # as shown: no user:password, no query
        self.model, self.seed, self.timeout = model, seed, timeout
        self.name = model or self.url
        self.last_prompt_tokens = self.last_prompt_evaluated = self.last_completion_tokens = 0
        self._logprobs = True  # False once the server refused or lacked them: the check reads the reply
        self._cache_prompt = True  # False once the server refused the field
        self._served: list[str] | None = None  # model ids from GET /models

    def __repr__(self) -> str:
        return f"OpenAIGenerator({self.url!r}, model={self.model!r})"

    def load(self) -> list[str]:
        """The model ids the server lists (GET /models, once); names the first if no model was given."""
        if self._served is None:
            data = self._json(*self._open("GET", "/models"))
            self._served = [m["id"] for m in data.get("data") or [] if isinstance(m, dict) and m.get("id")]
            if not self.model and self._served:
                self.model = self.name = self._served[0]
        return self._served

    def prefill(self, messages: list[dict], upto: str, cache_dir: str | None = None) -> int:
        return 0  # the server keeps its own prefix cache (cache_prompt)

    def stream(self, messages: list[dict], max_tokens: int = 96, not_first: str = "") -> Iterator[str]:
        """Reply pieces as the server sends them (server-sent events); raises if the stream is cut."""
        conn, resp = self._open("POST", "/chat/completions", self._body(
            messages, max_tokens, stream=True, stream_options={"include_usage": True}))
        self.last_prompt_tokens = self.last_prompt_evaluated = self.last_completion_tokens = 0
        got, done = "", False
        try:
            if "event-stream" not in (resp.getheader("Content-Type") or ""):  # a server that ignored stream=True
                choice = self._choice(self._json(conn, resp))
                text = (choice.get("message") or {}).get("content") or ""
                if text:
                    yield text
                return
            for event in _events(resp):
                if event is None:  # data: [DONE]
                    done = True
                    break
                if "error" in event:
                    raise self._error(_status(event), event)
                self._count(event)
                for choice in event.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content") or ""
                    if piece:
                        got += piece
                        self.last_completion_tokens += 1  # until usage says better (one event, one token)
                        yield piece
                    done = done or bool(choice.get("finish_reason"))
        except TimeoutError:
            if not done:
                raise BackendError(f"the model server at {self.url} sent nothing for {self.timeout:g} s in the "
                                   f"middle of a reply; it is not shown as an answer (QA_LLM_TIMEOUT)") from None
        except (OSError, http.client.HTTPException):
            pass  # a connection cut: told below unless the reply was finished
        finally:
            conn.close()
        if not done:
            raise BackendError(f"the model server at {self.url} stopped after {len(got)} characters of the reply, "
                               f"before it finished; the partial reply is not shown as an answer")

    def yes_probability(self, messages: list[dict]) -> float:
        """P(yes) / (P(yes) + P(no)) for the reply's first token (the answer check, check.py)."""
        if self._logprobs:
            try:
                choice = self._complete(messages, 1, logprobs=True, top_logprobs=20)
            except BackendError as e:
                if "logprob" not in str(e).lower():
                    raise
                self._logprobs = False  # e.g. llama-cpp-python's server started with --logits_all false
            else:
                p = p_yes(choice)
                if p is not None:
                    return p
                self._logprobs = bool((choice.get("logprobs") or {}).get("content"))
                return yes_reply(choice)
        return yes_reply(self._complete(messages, 1))

    # -- HTTP ---------------------------------------------------------------------------
    def _body(self, messages: list[dict], max_tokens: int, **extra) -> dict:
        if not self.model:
            self.load()
        return {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": 0.0,
                "seed": self.seed, **({"cache_prompt": True} if self._cache_prompt else {}), **extra}

    def _complete(self, messages: list[dict], max_tokens: int, **extra) -> dict:
        data = self._json(*self._open("POST", "/chat/completions", self._body(messages, max_tokens, **extra)))
        self._count(data)
        return self._choice(data)

    def _open(self, method: str, path: str, body: dict | None = None):
        """(connection, response) for a 2xx answer; any other outcome is a BackendError."""
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, timeout=self.timeout)
        headers = {"Accept": "application/json, text/event-stream"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if os.environ.get("QA_LLM_API_KEY"):
            headers["Authorization"] = "Bearer " + os.environ["QA_LLM_API_KEY"]
        try:
            conn.request(method, self._path + path, json.dumps(body).encode() if body is not None else None, headers)
            resp = conn.getresponse()
            if resp.status >= 400:
                said = resp.read(1 << 16)
                if resp.status == 400 and body and body.get("cache_prompt") and b"cache_prompt" in said:
                    conn.close()  # a strict server (OpenAI's own) refuses fields it does not know
                    self._cache_prompt = False
                    return self._open(method, path, {k: v for k, v in body.items() if k != "cache_prompt"})
                raise self._error(resp.status, said, path)
        except TimeoutError:
            conn.close()
            raise BackendError(f"the model server at {self.url} did not answer within {self.timeout:g} s "
                               f"(QA_LLM_TIMEOUT)") from None
        except ConnectionRefusedError:
            conn.close()
            raise BackendError(f"cannot reach the model server at {self.url}: connection refused "
                               f"(is it running? QA_LLM_URL names it)") from None
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise BackendError(f"cannot reach the model server at {self.url}: "
                               f"{getattr(e, 'strerror', None) or type(e).__name__}") from None
        except BackendError:
            conn.close()
            raise
        return conn, resp

    def _json(self, conn, resp) -> dict:
        try:
            data = json.loads(resp.read())
        except TimeoutError:
            raise BackendError(f"the model server at {self.url} did not finish its answer within "
                               f"{self.timeout:g} s (QA_LLM_TIMEOUT)") from None
        except (ValueError, OSError, http.client.HTTPException):
            raise BackendError(f"the model server at {self.url} sent an answer that is not JSON") from None
        finally:
            conn.close()
        if not isinstance(data, dict):
            raise BackendError(f"the model server at {self.url} sent an answer that is not a JSON object")
        if "error" in data:
            raise self._error(_status(data), data)
        return data

    def _choice(self, data: dict) -> dict:
        choices = data.get("choices") or [{}]
        return choices[0] if isinstance(choices[0], dict) else {}

    def _count(self, data: dict) -> None:
        """Token counts from `usage` (and llama.cpp's `timings`), where the server sends them."""
        usage = data.get("usage") or {}
        if usage.get("prompt_tokens"):
            self.last_prompt_tokens = self.last_prompt_evaluated = int(usage["prompt_tokens"])
            cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
            if cached:  # vLLM with prefix caching
                self.last_prompt_evaluated -= int(cached)
        if usage.get("completion_tokens"):
            self.last_completion_tokens = int(usage["completion_tokens"])
        if (data.get("timings") or {}).get("prompt_n") is not None:  # llama.cpp: the tokens not reused
            self.last_prompt_evaluated = int(data["timings"]["prompt_n"])

    def _error(self, status: int, body, path: str = "/chat/completions") -> BackendError:
        """One line for an HTTP error (or an error object inside a stream)."""
        said = _said(body)
        if os.environ.get("QA_LLM_API_KEY"):  # a server that quotes the key back does not get it shown
            said = said.replace(os.environ["QA_LLM_API_KEY"], "***")
        where = f"the model server at {self.url}"
        if status in (401, 403):
            hint = ("the key in QA_LLM_API_KEY was refused" if os.environ.get("QA_LLM_API_KEY")
                    else "set QA_LLM_API_KEY to its key")
            return BackendError(f"{where} refused the request (HTTP {status}): {hint}")
        if _OVERFLOW.search(said):
            return BackendError(f"the prompt does not fit the context of {where} ({said}): give the server a "
                                f"longer context, or set QA_N_CTX to its size so that qa sends less")
        if status in (400, 404) and re.search(r"model", said, re.I) and re.search(
                r"not (be )?found|does not exist|unknown|no such|not served", said, re.I):
            served = ""
            try:
                served = f"; it serves: {', '.join(self.load()[:5])}" if self.load() else ""
            except BackendError:
                pass
            return BackendError(f"{where} has no model {self.model!r} ({said}): set QA_LLM_MODEL{served}")
        if status == 404:
            return BackendError(f"no OpenAI-compatible API at {self.url}{path} (HTTP 404): QA_LLM_URL should "
                                f"end in /v1, like http://127.0.0.1:8080/v1")
        return BackendError(f"{where} answered HTTP {status}" + (f": {said}" if said else ""))


def _said(body) -> str:
    """The server's own error message (and code), on one short line."""
    if isinstance(body, bytes):
        try:
            body = json.loads(body)
        except ValueError:
            body = body.decode(errors="replace")
    if isinstance(body, dict):
        err = body.get("error", body.get("detail", body))
        if isinstance(err, dict):
            code = err.get("code") if isinstance(err.get("code"), str) else ""
            err = " ".join(x for x in (str(err.get("message") or err.get("type") or json.dumps(err)), code) if x)
        body = err
    text = " ".join(str(body).split())
    return text[:200] + ("…" if len(text) > 200 else "")


def _status(data: dict) -> int:
    """The HTTP status an error object inside a 200 answer (or a stream) stands for."""
    code = data["error"].get("code") if isinstance(data.get("error"), dict) else None
    return code if isinstance(code, int) else 500


def _events(resp) -> Iterator[dict | None]:
    """Server-sent events' JSON data, None for "[DONE]"; stops at the end of the stream or at a cut line."""
    data: list[bytes] = []
    while True:
        line = resp.readline(1 << 20)
        if line and not line.endswith(b"\n"):
            return  # the connection broke inside a line
        end, line = not line, line.rstrip(b"\r\n")
        if line.startswith(b"data:"):
            data.append(line[5:].removeprefix(b" "))
        elif not line and data:  # a blank line (or the end) closes an event
            payload, data = b"\n".join(data).strip(), []
            if payload == b"[DONE]":
                yield None
                return
            try:
                event = json.loads(payload)
            except ValueError:
                return  # half an event: the stream was cut
            if isinstance(event, dict):
                yield event
        if end:
            return


def p_yes(choice: dict) -> float | None:
    """P(yes) / (P(yes) + P(no)) from the first token's top_logprobs; None if neither word is there.

    >>> top = [{"token": "Yes", "logprob": -0.1}, {"token": " yes", "logprob": -3.0}, {"token": "No", "logprob": -2.5}]
    >>> round(p_yes({"logprobs": {"content": [{"token": "Yes", "logprob": -0.1, "top_logprobs": top}]}}), 3)
    0.921
    >>> p_yes({"message": {"content": "Yes"}}) is None
    True
    """
    content = (choice.get("logprobs") or {}).get("content") or []
    if not content:
        return None
    top = content[0].get("top_logprobs") or [content[0]]
    yes = [t["logprob"] for t in top if str(t.get("token", "")).strip() in YES]
    no = [t["logprob"] for t in top if str(t.get("token", "")).strip() in NO]
    if not yes and not no:
        return None
    y = _logsumexp(yes) if yes else -math.inf
    n = _logsumexp(no) if no else -math.inf
    return 1.0 if n == -math.inf else 0.0 if y == -math.inf else 1 / (1 + math.exp(n - y))


def yes_reply(choice: dict) -> float:
    """The fallback without logprobs: 1.0 if the reply is "yes", else 0.0."""
    text = (choice.get("message") or {}).get("content") or ""
    return 1.0 if re.match(r"\s*yes\b", text, re.I) else 0.0


def _logsumexp(xs: list[float]) -> float:
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


# -- the same questions answered in-process and through a server (python -m qa.remote --bench URL) --------
@dataclass(frozen=True)
class Pair:
    question: str
    here: Answer   # in-process (config.model)
    there: Answer  # through the server

    @property
    def same(self) -> bool:
        """The same text and the same verified citations."""
        return self.here.text == self.there.text and self.here.citations == self.there.citations


def pipelines(url: str, config=None):
    """(in-process, through the server at `url`): the same configuration, documents and embedder."""
    from dataclasses import replace

    from .api import Pipeline
    from .config import Config

    config = config or Config.from_env()
    here = Pipeline(replace(config, llm_url=""))
    return here, Pipeline(replace(config, llm_url=url), embedder=here.embedder)


def compare(here, there, questions: list[str]) -> Iterator[Pair]:
    """Each question answered by both pipelines, one after the other. Both are warmed up on the
    first question first (untimed), so the latencies are steady-state, not a cold start."""
    for pipe in (here, there):
        pipe.warm()
        pipe.ask(questions[0])
    for q in questions:
        yield Pair(q, here.ask(q), there.ask(q))


HEADER = "in-process    server  answers    question"


def row(p: Pair) -> str:
    """Seconds per answer on each side and whether the answers agree (both texts when not)."""
    line = (f"{p.here.timings['total_s']:8.2f} s {p.there.timings['total_s']:7.2f} s  "
            f"{'same' if p.same else 'DIFFERENT'}  {p.question}")
    return line if p.same else f"{line}\n    in-process: {p.here.text}\n    server:     {p.there.text}"


def summary(pairs: list[Pair]) -> str:
    import statistics

    p50 = [statistics.median(getattr(p, side).timings["total_s"] for p in pairs) for side in ("here", "there")]
    return (f"p50: in-process {p50[0]:.2f} s, server {p50[1]:.2f} s; "
            f"{sum(p.same for p in pairs)} of {len(pairs)} answers the same")


def report(pairs: list[Pair]) -> str:
    return "\n".join([HEADER, *map(row, pairs), summary(pairs)])


def main(argv=None) -> int:
    import argparse
    import sys

    from .config import ROOT
    from .errors import QAError

    ap = argparse.ArgumentParser(prog="python -m qa.remote", description="Per-answer latency through an "
                                 "OpenAI-compatible server against in-process, on the same questions.")
    ap.add_argument("--bench", metavar="URL", required=True, help="the server, e.g. http://127.0.0.1:8080/v1")
    ap.add_argument("--questions", default=str(ROOT / "tests" / "data" / "nato_qa.jsonl"))
    ap.add_argument("--limit", type=int, default=4, help="how many questions (default 4)")
    args = ap.parse_args(argv)
    try:
        with open(args.questions, encoding="utf-8") as f:
            questions = [json.loads(line)["question"] for line in f if line.strip()][:args.limit]
        print(HEADER)
        pairs = []
        for pair in compare(*pipelines(args.bench), questions):  # each line as soon as it is measured
            pairs.append(pair)
            print(row(pair), flush=True)
        print(summary(pairs))
    except QAError as e:
        print(f"qa: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
