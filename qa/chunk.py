"""Splitting a document into sentences and overlapping sentence-window chunks.

Every span is a pair of character offsets into the document text, so
``text[start:end]`` is always the chunk or sentence itself.
"""
from __future__ import annotations

import hashlib
import re

from .types import Chunk

# Titles and initials whose period does not end a sentence.
_ABBREV = {"mr", "mrs", "ms", "dr", "prof", "st", "gen", "col", "lt", "sgt", "rev", "sen", "rep", "gov",
           "jr", "sr", "vs", "etc", "no", "u.s", "u.k", "e.g", "i.e", "jan", "feb", "mar", "apr", "jun",
           "jul", "aug", "sep", "sept", "oct", "nov", "dec", "inc", "ltd", "co", "corp", "st"}
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space, or at a line break.
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)|\n")


def sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (start, end) inside text[start:end], stripped of surrounding space.

    >>> t = "Mr. Smith came. He left!\\nNew line"
    >>> [t[a:b] for a, b in sentences(t)]
    ['Mr. Smith came.', 'He left!', 'New line']
    """
    end = len(text) if end is None else end
    spans, pos = [], start
    for m in _END.finditer(text, start, end):
        if m.group() != "\n" and _continues(text, pos, m):
            continue
        _add(text, pos, m.end(), spans)
        pos = m.end()
    _add(text, pos, end, spans)
    return spans


def _continues(text: str, pos: int, m: re.Match) -> bool:
    """True when this period is not a sentence end: "Mr.", "p.m.", "J." or a lower-case next word."""
    nxt = re.match(r"\s*(\S)", text[m.end():m.end() + 20])
    if nxt and nxt.group(1).islower():
        return True
    # the word before the period; looked for in the last 64 characters only: a long run-on "sentence"
    # (initials, "No. 1 No. 2 ...") would otherwise be searched from its start at every period (quadratic)
    word = re.search(r"([\w.]+)$", text[max(pos, m.start() - 64):m.start()])
    return bool(word and m.group().startswith(".") and (
        word.group(1).lower() in _ABBREV or "." in word.group(1) or len(word.group(1)) == 1))


def _add(text: str, a: int, b: int, spans: list) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        spans.append((a, b))


def chunk_id(doc: str, start: int, end: int, text: str) -> str:
    return hashlib.sha1(f"{doc}\0{start}\0{end}\0{text}".encode()).hexdigest()[:16]


def span(doc: str, text: str, start: int, end: int) -> Chunk:
    """text[start:end] of the document `doc` (whose whole text is `text`) as a chunk, with its id."""
    return Chunk(chunk_id(doc, start, end, text[start:end]), doc, start, end, text[start:end])


def chunk_text(doc: str, text: str, size: int = 3, overlap: int = 1, max_chars: int = 800) -> list[Chunk]:
    """Windows of `size` sentences, neighbours sharing `overlap` sentences.

    A sentence longer than max_chars is cut at whitespace first, so no chunk
    exceeds max_chars unless one word does.
    """
    if size < 1 or not 0 <= overlap < size:
        raise ValueError("need size >= 1 and 0 <= overlap < size")
    spans = [piece for s in sentences(text) for piece in _cut(text, *s, max_chars)]
    chunks, i = [], 0
    while i < len(spans):
        window = spans[i:i + size]
        # shrink a window that is too long, keeping at least one sentence
        while len(window) > 1 and window[-1][1] - window[0][0] > max_chars:
            window = window[:-1]
        a, b = window[0][0], window[-1][1]
        chunks.append(span(doc, text, a, b))
        if i + len(window) >= len(spans):
            break
        i = max(i + 1, i + len(window) - overlap)  # next window starts `overlap` sentences back
    return chunks


def _cut(text: str, a: int, b: int, max_chars: int) -> list[tuple[int, int]]:
    out = []
    while b - a > max_chars:
        cut = text.rfind(" ", a + 1, a + max_chars)
        cut = cut if cut > a else a + max_chars
        out.append((a, cut))
        a = cut + 1 if text[cut:cut + 1] == " " else cut
    out.append((a, b))
    return out
