"""The answer check: a second reading of whether the quoted source sentences
answer *this* question, as the probability a model gives to "yes".

    p = support(generator, "Whom did the Normans fight in Italy?", citations, text_of)

The citation verifier (cite.py) proves an answer's words are in the source; it
cannot see that "The Normans fought in Italy." does not say whom they fought,
or that a sentence about the American delegation does not say who led the
Russian one. Questions built that way (SQuAD 2.0's unanswerable half) are
what this check is for. It reads only the sentences holding the quotes (and,
for a sentence opening with a pronoun, the one before; and the one after where
it carries them on: "… left Messina with a large fleet. But a storm dispersed
the fleet."), so the prompt is short, and it is a fresh prompt, not a turn
after the answer.
"""
from __future__ import annotations

from . import prompts
from .cite import context  # the sentences holding the quotes (re-exported: check.context)
from .types import Citation


def read(citations: tuple[Citation, ...], text_of) -> str:
    """The text the answer check reads: the sentences holding the quotes, with the one before a pronoun
    and the one after that carries them on (steps.agree asks its question of the same text)."""
    return context(citations, text_of, ahead=True)


def support(generator, question: str, citations: tuple[Citation, ...], text_of) -> float:
    """P(yes) that the cited sentences answer `question` (from the model's next-token logits)."""
    return generator.yes_probability(prompts.check_messages(read(citations, text_of), question))
