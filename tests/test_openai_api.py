"""qa as an OpenAI-compatible model: the /v1 routes over a scripted pipeline, through FastAPI's TestClient,
then through a live `qa serve` app on loopback with the official `openai` client, streamed and not."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from browser_util import SHERMAN, SHERMAN_QUOTE, TROOPS, fake_pipeline, free_port, served
from conftest import ScriptedGenerator, ToyEmbedder

from qa import documents, openai_api, prompts
from qa.api import Pipeline
from qa.openai_api import SOURCES, ApiError, parse
from qa.remote import OpenAIGenerator

QUESTION = "Who led the American delegation?"


def client(pipe, api_key=""):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    return TestClient(FastAPI(routes=openai_api.routes(pipe, api_key)))


def pipeline(config, *replies) -> Pipeline:
    return Pipeline(config, embedder=ToyEmbedder(), generator=ScriptedGenerator(replies))


def ask(question=QUESTION, **more) -> dict:
    return {"model": "qa", "messages": [{"role": "user", "content": question}], **more}


def sse(text: str) -> list:
    """The data of each server-sent event ("[DONE]" as is); comment lines are dropped."""
    out = []
    for block in text.split("\n\n"):
        data = [line[6:] for line in block.split("\n") if line.startswith("data: ")]
        if data:
            out.append(data[0] if data[0] == "[DONE]" else json.loads("\n".join(data)))
    return out


def test_parse_pairs_history_and_strips_our_sources_list():
    req = parse({"messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": SHERMAN + SOURCES + f'- [1] a.txt:1-9 "{SHERMAN_QUOTE}"'},
        {"role": "user", "content": [{"type": "text", "text": "What did she say"},
                                     {"type": "text", "text": "about troops?"}]},
    ], "stream": True})
    assert req == openai_api.Request("What did she say\nabout troops?", ((QUESTION, SHERMAN),), True)


@pytest.mark.parametrize("body, status, code, words", [
    ([], 400, None, "JSON object"),
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": "q"}]}, 404, "model_not_found", "'gpt-4o'"),
    ({"messages": []}, 400, None, "non-empty list"),
    ({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}, 400, None, "last message"),
    ({"messages": [{"role": "user", "content": 5}]}, 400, None, "'content'"),
    ({"messages": [{"role": "user", "content": "q"}], "stream": "yes"}, 400, None, "'stream'"),
    ({"messages": [{"role": "user", "content": "q"}], "n": 3}, 400, None, "n=1"),
])
def test_parse_refuses_malformed_requests_openai_style(body, status, code, words):
    with pytest.raises(ApiError) as e:
        parse(body)
    assert e.value.status == status and words in e.value.body["error"]["message"]
    assert set(e.value.body["error"]) == {"message", "type", "param", "code"}
    assert (e.value.body["error"]["type"], e.value.body["error"]["code"]) == ("invalid_request_error", code)


def test_models_lists_qa(toy_config):
    r = client(pipeline(toy_config)).get("/v1/models")
    assert r.status_code == 200 and [m["id"] for m in r.json()["data"]] == ["qa"]


def test_a_completion_carries_markers_sources_and_the_json_citations(toy_config):
    pipe = pipeline(toy_config, SHERMAN)
    r = client(pipe).post("/v1/chat/completions", json=ask())
    assert r.status_code == 200
    body = r.json()
    [c] = body["qa"]["citations"]
    assert c["quote"] == SHERMAN_QUOTE and documents.text_of(c["doc"])[c["start"]:c["end"]] == SHERMAN_QUOTE
    assert body["choices"][0]["message"] == {
        "role": "assistant", "content": f'{SHERMAN}\n\nSources:\n- [1] {c["doc"]}:{c["start"]}-{c["end"]} "{SHERMAN_QUOTE}"'}
    assert (body["object"], body["model"], body["choices"][0]["finish_reason"]) == ("chat.completion", "qa", "stop")
    assert body["qa"]["answer"] == SHERMAN and body["qa"]["abstained"] is False
    assert body["qa"]["question"] == QUESTION
    assert pipe.generator.prompts[0][1]["content"].endswith(f"Question: {QUESTION}")


def test_a_streamed_reply_shows_only_the_verified_answer(toy_config):
    """The model's draft names someone no passage supports: the stream carries the abstention, never the draft."""
    pipe = pipeline(toy_config, "Volodymyr Zelensky is the President of Ukraine [1].")
    r = client(pipe).post("/v1/chat/completions", json=ask("Who is Ukraine's president?", stream=True))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    *chunks, done = sse(r.text)
    assert done == "[DONE]" and "Zelensky" not in r.text
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == prompts.ABSTAIN
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["qa"]["abstained"] is True and chunks[-1]["qa"]["citations"] == []
    assert {c["id"] for c in chunks} == {chunks[0]["id"]} and chunks[0]["object"] == "chat.completion.chunk"


def test_history_goes_through_the_follow_up_rewrite(toy_config):
    pipe = pipeline(toy_config, "What did Wendy Sherman say about the troops?", TROOPS)
    earlier = SHERMAN + SOURCES + '- [1] x.txt:1-2 "Wendy"'
    body = {"messages": [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": earlier},
                         {"role": "user", "content": "What did she say about the troops?"}]}
    r = client(pipe).post("/v1/chat/completions", json=body)
    rewrite, answer = pipe.generator.prompts
    assert rewrite == prompts.rewrite_messages("What did she say about the troops?", [(QUESTION, SHERMAN)])
    assert answer[1]["content"].endswith("Question: What did Wendy Sherman say about the troops?")
    assert r.json()["qa"]["question"] == "What did Wendy Sherman say about the troops?"
    assert r.json()["choices"][0]["message"]["content"].startswith(TROOPS + SOURCES)


@pytest.mark.parametrize("header", [None, "Bearer wrong", "sekret"])
def test_with_qa_api_key_set_a_missing_or_wrong_token_gets_401(toy_config, monkeypatch, header):
    monkeypatch.setenv("QA_API_KEY", "sekret")
    c = client(pipeline(toy_config, SHERMAN), api_key=None)  # None: read QA_API_KEY
    headers = {"Authorization": header} if header else {}
    for r in (c.get("/v1/models", headers=headers), c.post("/v1/chat/completions", json=ask(), headers=headers)):
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
        assert "sekret" not in r.text
    ok = c.post("/v1/chat/completions", json=ask(), headers={"Authorization": "Bearer sekret"})
    assert ok.status_code == 200 and ok.json()["qa"]["answer"] == SHERMAN


def test_bad_requests_get_openai_shaped_errors(toy_config):
    pipe = pipeline(toy_config, SHERMAN)
    c = client(pipe)
    cases = [(c.post("/v1/chat/completions", content=b"{not json"), 400, "not valid JSON"),
             (c.post("/v1/chat/completions", json=ask("   ")), 400, "the question is empty"),
             (c.post("/v1/chat/completions", json=ask("x" * 5000, stream=True)), 400, "too long"),
             (c.post("/v1/completions", json={"prompt": "hi"}), 404, "POST /v1/completions"),
             (c.get("/v1/models/gpt-4o"), 404, "'gpt-4o'")]
    for r, status, words in cases:
        assert r.status_code == status and words in r.json()["error"]["message"], r.text
        assert set(r.json()["error"]) == {"message", "type", "param", "code"}
    assert pipe.generator.prompts == []  # nothing reached the model


def test_a_model_server_that_is_down_is_a_502_and_a_stream_error(toy_config):
    dead = OpenAIGenerator(f"http://127.0.0.1:{free_port()}/v1", "m")
    c = client(Pipeline(toy_config, embedder=ToyEmbedder(), generator=dead))
    r = c.post("/v1/chat/completions", json=ask())
    assert r.status_code == 502 and "connection refused" in r.json()["error"]["message"]
    assert r.json()["error"]["type"] == "server_error"
    streamed = sse(c.post("/v1/chat/completions", json=ask(stream=True)).text)
    assert streamed[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "connection refused" in streamed[-1]["error"]["message"]  # the openai client raises this


def test_the_official_openai_client_against_a_live_qa_serve(tmp_path):
    openai = pytest.importorskip("openai")
    with served(fake_pipeline(tmp_path)) as url:
        api = openai.OpenAI(base_url=url + "v1", api_key="unused", timeout=30, max_retries=0)
        assert [m.id for m in api.models.list()] == ["qa"]
        r = api.chat.completions.create(model="qa", messages=[{"role": "user", "content": QUESTION}])
        [c] = r.model_extra["qa"]["citations"]
        assert r.choices[0].message.content == f'{SHERMAN}{SOURCES}- [1] {c["doc"]}:{c["start"]}-{c["end"]} "{SHERMAN_QUOTE}"'
        assert c["quote"] == SHERMAN_QUOTE and documents.text_of(c["doc"])[c["start"]:c["end"]] == c["quote"]
        history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": r.choices[0].message.content},
                   {"role": "user", "content": "What did she say about the troops?"}]
        chunks = list(api.chat.completions.create(model="qa", messages=history, stream=True))
        text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
        assert text.startswith(TROOPS + SOURCES)
        assert chunks[-1].model_extra["qa"]["question"] == "What did Wendy Sherman say about the troops?"
        with pytest.raises(openai.NotFoundError, match="does not exist"):
            api.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])


def test_importing_qa_and_its_api_modules_loads_no_web_framework():
    code = ("import sys, qa, qa.remote, qa.openai_api; "
            "print([m for m in ('fastapi', 'gradio', 'starlette', 'llama_cpp', 'torch') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
