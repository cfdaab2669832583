"""qa as an OpenAI-compatible model: `GET /v1/models` and `POST /v1/chat/completions` on `qa serve`.

    from openai import OpenAI
    client = OpenAI(base_url="http://127.0.0.1:7860/v1", api_key="unused")   # or QA_API_KEY's value
    r = client.chat.completions.create(model="qa", messages=[{"role": "user", "content": "Who led the American delegation?"}])
    r.choices[0].message.content   # 'Wendy Sherman led the American delegation [9].\\n\\nSources:\\n- [9] …'
    r.model_extra["qa"]            # the `qa ask --json` dict: answer, abstained, citations (doc, start, end, quote), …

The last message is the question; earlier user/assistant turns are the history a follow-up
is rewritten against, as in the chat. System messages, temperature and max_tokens are
ignored: qa's own prompt and greedy decoding answer. A streamed reply (`stream: true`)
opens at once but carries the answer only once it is verified: the draft the model writes
can still be withheld, and OpenAI deltas cannot be taken back. Errors are OpenAI-shaped
`{"error": {"message", "type", "param", "code"}}`; with QA_API_KEY set in the server's
environment every /v1 request needs `Authorization: Bearer <that key>`.
"""
# no `from __future__ import annotations`: FastAPI reads the route functions' annotations, whose
# types are imported inside routes()

import hmac
import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import Iterator

from .errors import BackendError, BadQuestion, QAError
from .types import Answer, Stage

MODEL = "qa"
SOURCES = "\n\nSources:\n"  # starts the sources list in a reply (and is cut from history sent back)


class ApiError(Exception):
    """A request qa refuses, as an OpenAI error object with an HTTP status."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.status, self.body = status, {"error": {"message": message, "type": kind, "param": param, "code": code}}


@dataclass(frozen=True)
class Request:
    question: str
    history: tuple[tuple[str, str], ...]  # (question, answer) turns before it
    stream: bool


def parse(body) -> Request:
    """A chat completion request's question, history and stream flag; ApiError(400/404) if malformed."""
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    if body.get("model") not in (None, MODEL):
        raise ApiError(404, f"The model {body['model']!r} does not exist; this server has {MODEL!r}",
                       code="model_not_found", param="model")
    if not isinstance(body.get("stream", False), bool):
        raise ApiError(400, "'stream' must be true or false", param="stream")
    if body.get("n", 1) != 1:
        raise ApiError(400, "only n=1 is supported", param="n")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list of {role, content} objects", param="messages")
    turns = []
    for m in messages:
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise ApiError(400, "each message must be an object with a 'role' and a 'content'", param="messages")
        turns.append((m["role"], _text(m.get("content"))))
    if turns[-1][0] != "user":
        raise ApiError(400, "the last message must be the user's question", param="messages")
    history, asked = [], None
    for role, text in turns[:-1]:
        if role == "user":
            asked = text
        elif role == "assistant" and asked is not None:
            history.append((asked, text.split(SOURCES)[0]))  # our own sources list means nothing to the rewrite
            asked = None
    return Request(turns[-1][1], tuple(history), body.get("stream", False))


def _text(content) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    if content is None:
        return ""
    raise ApiError(400, "a message's 'content' must be a string or a list of text parts", param="messages")


def reply(answer: Answer) -> str:
    """The answer text with its [n] markers, then one line per verified quote."""
    if answer.abstained or not answer.citations:
        return answer.text
    return answer.text + SOURCES + "\n".join(f'- [{c.n}] {c.doc}:{c.start}-{c.end} "{c.quote}"'
                                             for c in answer.citations)


def extra(answer: Answer) -> dict:
    """The structured field beside the text: the `qa ask --json` dict and the question searched for."""
    return {**answer.to_json(), "question": answer.question}


def completion(answer: Answer, ident: str, created: int) -> dict:
    return {"id": ident, "object": "chat.completion", "created": created, "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply(answer)},
                         "finish_reason": "stop", "logprobs": None}],
            "qa": extra(answer)}


def events(pipeline, req: Request, ident: str, created: int) -> Iterator[str]:
    """The streamed reply as server-sent events: the role at once, an SSE comment at each step of the
    pipeline (keeps the connection busy), then the verified text, its sources, the `qa` field, [DONE]."""
    def chunk(delta: dict, finish: str | None = None, **more) -> str:
        body = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": MODEL,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **more}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    try:
        answer = None
        for item in pipeline.stream(req.question, req.history):  # pauses only between model calls
            if isinstance(item, Stage):
                yield f": {item.name}\n\n"
            elif isinstance(item, Answer):
                answer = item
    except Exception as e:  # the stream is open: the error goes in it, and the client raises it
        yield f"data: {json.dumps(error_for(e).body, ensure_ascii=False)}\n\n"
        return
    text, _, sources = reply(answer).partition(SOURCES)
    yield chunk({"content": text})
    if sources:
        yield chunk({"content": SOURCES + sources})
    yield chunk({}, "stop", qa=extra(answer))
    yield "data: [DONE]\n\n"


def error_for(e: Exception) -> ApiError:
    if isinstance(e, BadQuestion):
        return ApiError(400, str(e), param="messages")
    if isinstance(e, BackendError):
        return ApiError(502, str(e), "server_error", "model_server_error")
    return ApiError(500, str(e) if isinstance(e, QAError) else f"{type(e).__name__}: {e}", "server_error")


def routes(pipeline, api_key: str | None = None) -> list:
    """The /v1 routes, for FastAPI(routes=...) (qa serve passes them to Gradio's app).
    api_key: the bearer token every request must carry; None reads QA_API_KEY ("" or unset: none)."""
    from fastapi import APIRouter, Request as HttpRequest
    from fastapi.responses import JSONResponse, StreamingResponse
    from starlette.concurrency import run_in_threadpool

    key = os.environ.get("QA_API_KEY", "") if api_key is None else api_key
    started = int(time.time())
    router = APIRouter(prefix="/v1")

    def refuse(e: ApiError) -> JSONResponse:
        return JSONResponse(e.body, status_code=e.status)

    def authorized(request: HttpRequest) -> bool:
        given = request.headers.get("authorization", "")
        return not key or hmac.compare_digest(given.encode(), f"Bearer {key}".encode())

    unauthorized = ApiError(401, "Incorrect or missing API key: send 'Authorization: Bearer <key>' with the "
                                 "key in QA_API_KEY on the qa server", code="invalid_api_key")
    model = {"id": MODEL, "object": "model", "created": started, "owned_by": "qa"}

    @router.get("/models")
    def list_models(request: HttpRequest):
        return JSONResponse({"object": "list", "data": [model]}) if authorized(request) else refuse(unauthorized)

    @router.get("/models/{name}")
    def get_model(name: str, request: HttpRequest):
        if not authorized(request):
            return refuse(unauthorized)
        if name != MODEL:
            return refuse(ApiError(404, f"The model {name!r} does not exist", code="model_not_found"))
        return JSONResponse(model)

    @router.post("/chat/completions")
    async def chat(request: HttpRequest):
        if not authorized(request):
            return refuse(unauthorized)
        try:
            try:
                body = json.loads(await request.body())
            except ValueError:
                raise ApiError(400, "the request body is not valid JSON") from None
            req = parse(body)
            pipeline.check(req.question)  # an empty or too long question is refused before any stream opens
            ident, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
            if req.stream:
                return StreamingResponse(events(pipeline, req, ident, created), media_type="text/event-stream",
                                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
            answer = await run_in_threadpool(pipeline.ask, req.question, req.history)
            return JSONResponse(completion(answer, ident, created))
        except ApiError as e:
            return refuse(e)
        except Exception as e:  # QAError and kin: one line, OpenAI-shaped
            return refuse(error_for(e))

    @router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def unknown(rest: str, request: HttpRequest):
        return refuse(ApiError(404, f"Unknown request URL: {request.method} /v1/{rest}", code="unknown_url"))

    return list(router.routes)
