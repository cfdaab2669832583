"""The answer check: a second reading of whether the quoted source sentences
answer *this* question, as the probability a model gives to "yes".

    p = support(generator, "Whom did the Normans fight in Italy?", citations, text_of)

The citation verifier (cite.py) proves an answer's words are in the source; it
cannot see that "The Normans fought in Italy." does not say whom they fought,
or that a sentence about the American delegation does not say who led the
Russian one. Questions built that way (SQuAD 2.0's unanswerable half) are
what this check is for. It reads only the sentences holding the quotes (and,
for a sentence opening with a pronoun, the one before), so the prompt is short,
and it is a fresh prompt, not a turn after the answer.
"""
from __future__ import annotations

import re

from . import prompts
from .chunk import sentences
from .types import Citation

_PRONOUN = re.compile(r"[“\"'‘]?\s*(?:he|she|it|they|this|that|these|those|his|her|its|their)\b", re.I)


def context(citations: tuple[Citation, ...], text_of) -> str:
    """The source sentences that hold the quotes, in citation order, each once; a
    sentence that opens with a pronoun ("She said ...") brings the one before it,
    so the checker can tell who "she" is."""
    out: list[str] = []
    for c in citations:
        doc = text_of(c.doc)
        spans = sentences(doc, max(0, c.start - 1000), min(len(doc), c.end + 1000))
        for i, (a, b) in enumerate(spans):
            if a < c.end and c.start < b:
                wanted = [spans[i - 1], (a, b)] if i and _PRONOUN.match(doc, a) else [(a, b)]
                for x, y in wanted:
                    s = " ".join(doc[x:y].split())
                    if s not in out:
                        out.append(s)
    return " ".join(out)


def support(generator, question: str, citations: tuple[Citation, ...], text_of) -> float:
    """P(yes) that the cited sentences answer `question` (from the model's next-token logits)."""
    return generator.yes_probability(prompts.check_messages(context(citations, text_of), question))
