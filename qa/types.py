"""The small frozen value objects that flow through the pipeline.

Chunk -> Passage (a retrieved chunk with its score) -> Answer (text, verified
Citations, the passages it was built from, per-stage timings). While a reply
streams, a Stage says what the pipeline does next.
Offsets are character offsets into the *loaded* text of the document
(`qa.documents.text_of(doc)`), so every quote can be checked with
`text_of(doc)[start:end] == quote`.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Chunk:
    id: str     # sha1 of doc + offsets + text, 16 hex chars: stable across rebuilds
    doc: str    # document path as given to the index (relative where possible)
    start: int  # char offset of text in the document
    end: int
    text: str


@dataclass(frozen=True)
class Passage:
    chunk: Chunk
    score: float  # fused retrieval score (RRF), higher is better
    dense: float = 0.0  # cosine similarity of question and chunk
    context: str = ""   # what a reader of a passage cut from a larger one knows (retrieve.best_sentences): its
                        # document's title and the chunk it came from; the citation check finds the question's
                        # names there


@dataclass(frozen=True)
class Citation:
    n: int         # the [n] marker in the answer text (1-based passage number)
    chunk_id: str
    doc: str
    start: int     # text_of(doc)[start:end] == quote
    end: int
    quote: str
    title: str = ""  # the document's title (documents.title), for a reader of a collection


@dataclass(frozen=True)
class Answer:
    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    passages: tuple[Passage, ...] = ()
    timings: dict = field(default_factory=dict)  # stage -> seconds: retrieve_s, first_token_s, generate_s, verify_s, total_s
    question: str = ""     # the standalone question used for retrieval (a follow-up, rewritten)
    support: float | None = None  # the answer check's P(yes) that the cited sentences answer the question (check.py)
    raw: str = ""          # the model's reply before verification (for evaluation and debugging)

    def to_json(self) -> dict:
        """The stable `qa ask --json` schema."""
        return {
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [
                {"n": c.n, "doc": c.doc, "title": c.title, "start": c.start, "end": c.end, "quote": c.quote}
                for c in self.citations
            ],
            "passages": [
                {"doc": p.chunk.doc, "start": p.chunk.start, "end": p.chunk.end, "score": round(p.score, 6)}
                for p in self.passages
            ],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


@dataclass(frozen=True)
class Stage:
    """A step of `Pipeline.stream` between the reply pieces, for a reader to show:
    "reread" -- the reply failed the citation check and the question is asked again on the
    sentences that back it (the pieces that follow are the new reply's); "premise" -- the question's
    words are checked against the quoted sentences (no model pass); "elsewhere" -- whether another
    sentence holds the question's words the quoted ones lack (no model pass); "check" -- the reply
    is being checked against the source; "entail" -- a claim whose "not" or "no" its quote does not
    share is read again against it; "polarity" -- a yes/no reply's Yes or No is checked
    on the quoted sentences alone; "items" -- each item of a list reply is checked against the
    question (items that are not answers are dropped); "confirm" -- a set not read whole asks the question
    again on the quoted sentences alone (nothing more is streamed); "part" -- a two-part question's answer
    answers one part only, and the other is asked on its own (nothing more is streamed)."""
    name: str
