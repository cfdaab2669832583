"""OpenAIGenerator against a tiny fake OpenAI-compatible server on 127.0.0.1 (stdlib http.server in a thread):
what it sends, how it reads streams and logprobs, and the one line each failure gives.
The slow test at the end runs llama-cpp-python's own server on the packaged GGUF."""
from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from browser_util import SHERMAN, SHERMAN_QUOTE, free_port
from conftest import ScriptedGenerator, ToyEmbedder

from qa import prompts
from qa.api import Pipeline
from qa.config import Config
from qa.errors import BackendError, QAError
from qa.remote import OpenAIGenerator

MESSAGES = [{"role": "user", "content": "Who led the American delegation?"}]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self._serve(None)

    def do_POST(self):
        self._serve(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))

    def _serve(self, body):
        self.server.requests.append((self.command, self.path, dict(self.headers), body))
        self.server.respond(self, body)

    def send_json(self, status: int, data) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def send_events(self, events: list, cut: bool = False) -> None:
        """Server-sent events (dicts, or "[DONE]"), chunked; cut=True drops the connection mid-chunk."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for e in events:
            data = f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        if cut:
            self.wfile.write(b"40\r\ndata: {\"choi")  # half a chunk, then the connection goes
        else:
            self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that gave up (the timeout test) is what these tests are about


@contextlib.contextmanager
def fake_server(respond):
    """respond(handler, body) answers each request -> the server (its .url ends in /v1, .requests lists them)."""
    server = Server(("127.0.0.1", 0), Handler)
    server.respond, server.requests = respond, []
    server.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def delta(text: str, finish=None) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


def replying(*replies: str, usage=None):
    """A server that streams each reply word by word, in order, and answers GET /models."""
    left = list(replies)

    def respond(h, body):
        if h.command == "GET":
            return h.send_json(200, {"object": "list", "data": [{"id": "served-model", "object": "model"}]})
        words = left.pop(0).split(" ")
        events = [delta(w if i == 0 else " " + w) for i, w in enumerate(words)] + [delta("", "stop")]
        h.send_events(events + ([{"choices": [], "usage": usage}] if usage else []) + ["[DONE]"])
    return respond


def test_stream_sends_greedy_deterministic_settings_and_yields_the_pieces():
    usage = {"prompt_tokens": 812, "completion_tokens": 9, "prompt_tokens_details": {"cached_tokens": 800}}
    with fake_server(replying(SHERMAN, usage=usage)) as server:
        gen = OpenAIGenerator(server.url, "qwen", seed=7)
        pieces = list(gen.stream(MESSAGES, max_tokens=33, not_first="["))
    assert pieces == [w if i == 0 else " " + w for i, w in enumerate(SHERMAN.split(" "))]
    [(method, path, headers, body)] = server.requests
    assert (method, path) == ("POST", "/v1/chat/completions")
    assert body == {"model": "qwen", "messages": MESSAGES, "max_tokens": 33, "temperature": 0.0, "seed": 7,
                    "cache_prompt": True, "stream": True, "stream_options": {"include_usage": True}}
    assert "Authorization" not in headers
    assert (gen.last_prompt_tokens, gen.last_prompt_evaluated, gen.last_completion_tokens) == (812, 12, 9)


def test_without_a_model_name_the_first_listed_model_is_used():
    with fake_server(replying("Yes.", "No.")) as server:
        gen = OpenAIGenerator(server.url)
        assert "".join(gen.stream(MESSAGES)) + "".join(gen.stream(MESSAGES)) == "Yes.No."
    assert [(m, p) for m, p, _, _ in server.requests] == [("GET", "/v1/models"), ("POST", "/v1/chat/completions"),
                                                          ("POST", "/v1/chat/completions")]
    assert server.requests[1][3]["model"] == "served-model" and gen.name == "served-model"


def top_logprobs(pairs) -> dict:
    top = [{"token": t, "logprob": lp} for t, lp in pairs]
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": pairs[0][0]},
                         "logprobs": {"content": [{**top[0], "top_logprobs": top}]}, "finish_reason": "length"}]}


def test_yes_probability_comes_from_top_logprobs_of_one_token():
    pairs = [("Yes", -0.3), (" yes", -2.0), ("No", -1.6), ("The", -4.0), ("no", -5.0)]
    with fake_server(lambda h, body: h.send_json(200, top_logprobs(pairs))) as server:
        p = OpenAIGenerator(server.url, "m").yes_probability(MESSAGES)
    yes, no = math.exp(-0.3) + math.exp(-2.0), math.exp(-1.6) + math.exp(-5.0)
    assert p == pytest.approx(yes / (yes + no))
    body = server.requests[0][3]
    assert (body["max_tokens"], body["logprobs"], body["top_logprobs"], body["temperature"]) == (1, True, 20, 0.0)
    assert "stream" not in body


@pytest.mark.parametrize("reply, p", [("Yes", 1.0), ("yes, it does", 1.0), ("No", 0.0), ("Maybe", 0.0)])
def test_without_logprobs_the_one_token_reply_decides(reply, p):
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "length"}]}
    with fake_server(lambda h, body: h.send_json(200, answer)) as server:
        gen = OpenAIGenerator(server.url, "m")
        assert gen.yes_probability(MESSAGES) == p
        assert gen.yes_probability(MESSAGES) == p
    # the server sent no logprobs once: it is not asked for them again
    assert ["logprobs" in body for *_, body in server.requests] == [True, False]


def test_a_server_that_refuses_logprobs_is_asked_again_without():
    def respond(h, body):
        if body.get("logprobs"):  # llama-cpp-python's server started with --logits_all false
            return h.send_json(500, {"error": {"message": "logprobs is not supported for models created with "
                                                          "logits_all=False", "type": "internal_server_error"}})
        h.send_json(200, {"choices": [{"message": {"content": "Yes"}, "finish_reason": "length"}]})
    with fake_server(respond) as server:
        assert OpenAIGenerator(server.url, "m").yes_probability(MESSAGES) == 1.0
    assert [body.get("logprobs") for *_, body in server.requests] == [True, None]


def test_a_server_that_refuses_cache_prompt_is_asked_again_without():
    def respond(h, body):
        if "cache_prompt" in body:  # OpenAI's own API refuses fields it does not know
            return h.send_json(400, {"error": {"message": "Unrecognized request argument supplied: cache_prompt"}})
        h.send_events([delta("Yes."), delta("", "stop"), "[DONE]"])
    with fake_server(respond) as server:
        gen = OpenAIGenerator(server.url, "m")
        assert "".join(gen.stream(MESSAGES)) + "".join(gen.stream(MESSAGES)) == "Yes.Yes."
    assert ["cache_prompt" in body for *_, body in server.requests] == [True, False, False]


def test_the_api_key_is_sent_as_a_bearer_token_and_shown_nowhere(monkeypatch):
    monkeypatch.setenv("QA_LLM_API_KEY", "sk-secret-123")
    with fake_server(lambda h, body: h.send_json(401, {"error": {"message": "Invalid API key sk-secret-123"}})) as s:
        gen = OpenAIGenerator(s.url, "m")
        with pytest.raises(BackendError) as e:
            list(gen.stream(MESSAGES))
    assert s.requests[0][2]["Authorization"] == "Bearer sk-secret-123"
    assert str(e.value) == (f"the model server at {s.url} refused the request (HTTP 401): "
                            f"the key in QA_LLM_API_KEY was refused")
    assert "sk-secret" not in repr(gen) + repr(vars(gen)) + str(e.value)


def test_missing_key_says_which_variable_to_set(monkeypatch):
    monkeypatch.delenv("QA_LLM_API_KEY", raising=False)
    with fake_server(lambda h, body: h.send_json(401, {"error": {"message": "no key"}})) as s:
        with pytest.raises(BackendError, match=r"refused the request \(HTTP 401\): set QA_LLM_API_KEY"):
            OpenAIGenerator(s.url, "m").yes_probability(MESSAGES)


def test_server_down_is_one_line():
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with pytest.raises(BackendError) as e:
        list(OpenAIGenerator(url, "m").stream(MESSAGES))
    assert str(e.value) == (f"cannot reach the model server at {url}: connection refused "
                            f"(is it running? QA_LLM_URL names it)")


def test_wrong_url_says_to_end_it_in_v1():
    with fake_server(lambda h, body: h.send_json(404, {"detail": "Not Found"})) as s:
        url = s.url.removesuffix("/v1")
        with pytest.raises(BackendError) as e:
            list(OpenAIGenerator(url, "m").stream(MESSAGES))
    assert str(e.value) == (f"no OpenAI-compatible API at {url}/chat/completions (HTTP 404): QA_LLM_URL should end "
                            f"in /v1, like http://127.0.0.1:8080/v1")


def test_unknown_model_names_the_ones_served():
    def respond(h, body):
        if h.command == "GET":
            return h.send_json(200, {"data": [{"id": "qwen2.5:7b"}, {"id": "llama3.1:8b"}]})
        h.send_json(404, {"error": {"message": f"model \"{body['model']}\" not found, try pulling it first",
                                    "type": "api_error"}})  # Ollama's words
    with fake_server(respond) as s:
        with pytest.raises(BackendError) as e:
            list(OpenAIGenerator(s.url, "qwen-typo").stream(MESSAGES))
    assert str(e.value) == (f"the model server at {s.url} has no model 'qwen-typo' (model \"qwen-typo\" not found, try "
                            f"pulling it first): set QA_LLM_MODEL; it serves: qwen2.5:7b, llama3.1:8b")


@pytest.mark.parametrize("error", [
    {"code": 400, "message": "the request exceeds the available context size, try increasing it",
     "type": "exceed_context_size_error"},  # llama.cpp's llama-server
    {"message": "This model's maximum context length is 2048 tokens. However, you requested 3100 tokens (3004 in "
                "the messages, 96 in the completion).", "type": "invalid_request_error",
     "code": "context_length_exceeded"},  # llama-cpp-python's server, vLLM
])
def test_context_overflow_says_what_to_change(error):
    with fake_server(lambda h, body: h.send_json(400, {"error": error})) as s:
        with pytest.raises(BackendError) as e:
            list(OpenAIGenerator(s.url, "m").stream(MESSAGES))
    assert str(e.value).startswith(f"the prompt does not fit the context of the model server at {s.url} (")
    assert str(e.value).endswith("give the server a longer context, or set QA_N_CTX to its size so that qa sends less")


def test_a_silent_server_times_out():
    release = threading.Event()

    def respond(h, body):
        release.wait(5)
        h.send_json(200, {})
    with fake_server(respond) as s:
        t0 = time.perf_counter()
        with pytest.raises(BackendError, match=r"did not answer within 0.3 s \(QA_LLM_TIMEOUT\)"):
            list(OpenAIGenerator(s.url, "m", timeout=0.3).stream(MESSAGES))
        release.set()
    assert time.perf_counter() - t0 < 3


@pytest.mark.parametrize("cut", ["connection", "no end"])
def test_a_stream_cut_halfway_raises_and_the_pipeline_gives_no_answer(toy_config, cut):
    """The server sends half the reply, then drops the connection (or just ends, never saying it finished)."""
    half = [delta("Wendy"), delta(" Sherman")]
    with fake_server(lambda h, body: h.send_events(half, cut=cut == "connection")) as s:
        pipe = Pipeline(replace(toy_config, llm_url=s.url, llm_model="m"), embedder=ToyEmbedder())
        items = []
        with pytest.raises(BackendError) as e:
            for item in pipe.stream("Who led the American delegation?"):
                items.append(item)
    assert str(e.value) == (f"the model server at {s.url} stopped after 13 characters of the reply, before it "
                            f"finished; the partial reply is not shown as an answer")
    assert items == ["Wendy", " Sherman"]  # the draft; no Answer follows


def test_an_error_inside_the_stream_is_raised():
    events = [delta("Wendy"), {"error": {"code": 500, "message": "CUDA out of memory"}}]
    with fake_server(lambda h, body: h.send_events(events)) as s:
        with pytest.raises(BackendError, match=r"answered HTTP 500: CUDA out of memory$"):
            list(OpenAIGenerator(s.url, "m").stream(MESSAGES))


def test_a_server_that_ignores_stream_true_still_answers():
    answer = {"choices": [{"message": {"role": "assistant", "content": SHERMAN}, "finish_reason": "stop"}]}
    with fake_server(lambda h, body: h.send_json(200, answer)) as s:
        assert list(OpenAIGenerator(s.url, "m").stream(MESSAGES)) == [SHERMAN]


def test_config_llm_url_puts_answer_rewrite_and_check_on_the_server(toy_config):
    """The whole pipeline through the fake server: the follow-up rewrite, the answer, the answer check."""
    def respond(h, body):
        if h.command == "GET":  # the pipeline loads the model (GET /models) in the background
            return h.send_json(200, {"data": [{"id": "m"}]})
        if body.get("logprobs"):
            return h.send_json(200, top_logprobs([("Yes", -0.05), ("No", -3.0)]))
        question = body["messages"][-1]["content"]
        reply = ("Who led the American delegation?" if question.startswith("Conversation:") else SHERMAN)
        h.send_events([delta(reply), delta("", "stop"), "[DONE]"])
    config = Config.from_env({"QA_LLM_URL": "http://127.0.0.1:9/v1/", "QA_LLM_MODEL": "m", "QA_LLM_TIMEOUT": "5"})
    assert (config.llm_url, config.llm_model, config.llm_timeout) == ("http://127.0.0.1:9/v1/", "m", 5.0)
    with fake_server(respond) as s:
        pipe = Pipeline(replace(toy_config, llm_url=s.url, llm_model="m", min_support=0.55), embedder=ToyEmbedder())
        assert isinstance(pipe.generator, OpenAIGenerator) and pipe.checker is pipe.generator
        a = pipe.ask("Who led it?", [("Tell me about the delegation.", "The documents don't say.")])
    assert a.text == SHERMAN and [c.quote for c in a.citations] == [SHERMAN_QUOTE]
    assert a.support == pytest.approx(1 / (1 + math.exp(-3.0 + 0.05)))
    sent = [("logprobs" in body, body["messages"][0]["content"].split()[0]) for m, _, _, body in s.requests
            if m == "POST"]
    first = [p.split()[0] for p in (prompts.REWRITE_SYSTEM, prompts.SYSTEM, prompts.CHECK)]
    assert sent == [(False, first[0]), (False, first[1]), (True, first[2])]


def test_compare_reports_latency_and_differences(toy_config):
    """python -m qa.remote --bench, on fakes: a scripted in-process model against the fake server."""
    from qa.remote import compare, report

    replies = [SHERMAN, SHERMAN, prompts.ABSTAIN]
    with fake_server(replying(SHERMAN, SHERMAN, "Wendy Sherman led it [1].")) as s:
        here = Pipeline(toy_config, embedder=ToyEmbedder(), generator=ScriptedGenerator(replies))
        there = Pipeline(replace(toy_config, llm_url=s.url, llm_model="m"), embedder=here.embedder)
        questions = ["Who led the American delegation?", "Who led the American delegation, again?"]
        pairs = list(compare(here, there, questions))
    assert [p.same for p in pairs] == [True, False]
    assert pairs[1].here.abstained and pairs[1].there.citations[0].quote == SHERMAN_QUOTE
    lines = report(pairs).splitlines()
    assert lines[1].endswith("same  Who led the American delegation?")
    assert lines[2].endswith("DIFFERENT  Who led the American delegation, again?")
    assert lines[3:5] == [f"    in-process: {prompts.ABSTAIN}", "    server:     Wendy Sherman led it [1]."]
    assert lines[5].startswith("p50: in-process ") and lines[5].endswith("s; 1 of 2 answers the same")


def test_bad_url_is_refused_at_once():
    with pytest.raises(QAError, match="must be an http"):
        OpenAIGenerator("127.0.0.1:8080/v1")


# -- for real: llama-cpp-python's server on the packaged GGUF --------------------------------------
QUESTIONS = ["Who led the American delegation?", "Who is the President of Ukraine?"]


@contextlib.contextmanager
def llama_server(model: str, n_ctx: int, threads: int, timeout: float = 180):
    """`python -m llama_cpp.server` on a free loopback port -> its /v1 URL; stopped afterwards."""
    pytest.importorskip("sse_starlette", reason="llama-cpp-python's server extra: pip install -e '.[test]'")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1",
                             "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(threads),
                             "--n_threads_batch", str(threads), "--seed", "0", "--verbose", "false"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(url + "/models", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    why = proc.stderr.read()[-2000:] if proc.poll() is not None else "timeout"
                    pytest.fail(f"llama_cpp.server did not start: {why}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow
def test_through_llama_cpp_server_the_answers_match_in_process(article_dir, tmp_path):
    """The same GGUF answers in-process and behind llama_cpp.server: same greedy answers, same citations.
    In-process decoding guesses ahead (prompt lookup), which can tip a near tie; draft_tokens=0 is the
    exact one-token-at-a-time greedy decoding the server does."""
    from qa import models
    from qa.remote import compare, pipelines, report

    config = Config.from_env(docs=(str(article_dir),), index_dir=str(tmp_path / "index"), draft_tokens=0)
    with llama_server(str(models.resolve(config.model)), config.n_ctx, config.threads()) as url:
        pairs = list(compare(*pipelines(url, config), QUESTIONS))
    print(report(pairs))
    for p in pairs:
        print(f"{p.question}: in-process {p.here.timings['total_s']:.1f} s {p.here.text!r} (support {p.here.support}); "
              f"server {p.there.timings['total_s']:.1f} s {p.there.text!r} (support {p.there.support})")
    assert [p.here.abstained for p in pairs] == [False, True]
    assert [(p.there.text, p.there.citations) for p in pairs] == [(p.here.text, p.here.citations) for p in pairs]
    assert pairs[0].there.support == pytest.approx(pairs[0].here.support, abs=0.02)
