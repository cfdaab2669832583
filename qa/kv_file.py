"""The saved prompt prefix, `index/<set>/kv-<model key>.bin`: llama.cpp's state after the tokens
every question shares, in a file that says what it holds, so a damaged one is never handed to llama.cpp.

    b"QAKV1\\n"                 magic and version
    4 bytes, little-endian      length of the JSON header that follows
    {"key", "n_ctx", "n_tokens", "bytes", "sha256"}
                                the model key (the file name's), the context size, the token count,
                                the state's length, and the sha256 of tokens + state
    n_tokens int32              the prompt prefix's tokens
    bytes                       llama_state_get_data's output

`read` raises Damaged (truncated, edited, another format, another model or context size: the caller
says so and recomputes) or Stale (the prompt changed: recomputed without a word). `write` is atomic.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

MAGIC = b"QAKV1\n"


class Damaged(Exception):
    """The file is not a whole state this model and context wrote; the message completes "the file ..."."""


class Stale(Exception):
    """A sound file for another prompt prefix (the documents or the prompt changed)."""


def key_of(path: str | Path) -> str:
    """The model key in the file name: kv-<key>.bin -> <key>."""
    return Path(path).name.removeprefix("kv-").removesuffix(".bin")


def pack(key: str, tokens: list[int], n_ctx: int, state: bytes) -> bytes:
    ids = np.asarray(tokens, dtype="<i4").tobytes()
    head = json.dumps({"key": key, "n_ctx": n_ctx, "n_tokens": len(tokens), "bytes": len(state),
                       "sha256": hashlib.sha256(ids + state).hexdigest()}).encode()
    return MAGIC + len(head).to_bytes(4, "little") + head + ids + state


def write(path: str | Path, tokens: list[int], n_ctx: int, state: bytes) -> None:
    """Written aside, synced, then renamed over `path`: a reader sees the old file or the new, whole."""
    from .index import atomic_write

    atomic_write(Path(path), pack(key_of(Path(path)), tokens, n_ctx, state))


def read(path: str | Path, tokens: list[int], n_ctx: int) -> memoryview | None:
    """The state saved for `tokens`, checked; None if there is no file."""
    try:
        with open(path, "rb") as f:  # into a bytearray: llama.cpp is handed the state without a copy
            data = bytearray(os.fstat(f.fileno()).st_size)
            del data[f.readinto(data):]
    except FileNotFoundError:
        return None
    except OSError as e:
        raise Damaged(f"cannot be read ({e.strerror or e})") from None
    if not data.startswith(MAGIC):
        raise Damaged("is not a qa prompt-prefix file (another format, or overwritten)")
    at = len(MAGIC) + 4
    start = at + int.from_bytes(data[len(MAGIC):at], "little")  # where the tokens begin
    try:
        head = json.loads(data[at:start])
        want = start + 4 * head["n_tokens"] + head["bytes"]
    except (ValueError, TypeError, KeyError):
        raise Damaged("has a damaged header") from None
    if head.get("key") != key_of(path):
        raise Damaged(f"was written by another model or llama.cpp build (key {head.get('key')!r})")
    if head.get("n_ctx") != n_ctx:
        raise Damaged(f"was written for a context of {head.get('n_ctx')} tokens, not {n_ctx}")
    if len(data) != want:
        raise Damaged(f"is truncated or padded ({len(data)} bytes, its header says {want})")
    body = memoryview(data)[start:]
    if body[:4 * head["n_tokens"]] != np.asarray(tokens, dtype="<i4").tobytes():
        raise Stale()
    if hashlib.sha256(body).hexdigest() != head["sha256"]:
        raise Damaged("was changed after it was written (sha256 differs)")
    return body[4 * head["n_tokens"]:]
