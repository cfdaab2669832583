"""Every prompt the pipeline sends, as constants with named placeholders.

ABSTAIN is the one "cannot answer" phrase: the prompt asks for it, `cite.py`
detects it, the API returns it and the tests compare against it.
"""

import re

ABSTAIN = "The documents don't say."

# Fixed, so llama.cpp reuses its KV cache for this prefix across questions.
SYSTEM = (
    "You answer questions using only the numbered passages you are given. "
    "Reply with one short sentence that answers the question, copying names, numbers and phrases "
    "from the passage, and end it with the passage number in brackets, like [2]. "
    f"If the passages do not contain the answer, reply exactly: {ABSTAIN}"
)

PASSAGE = "[{n}] {text}"
# A reply may not open with this: the small models write a bare "[2]" and stop.
NOT_FIRST = "["
# A citation marker as the model writes it: "[2]" or "[1, 3]", with the space before it.
MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")

# The answer check (check.py), on a fresh context: P(yes) is the answer's support score.
CHECK = "Text: {text}\n\nQuestion: {question}\n\nDoes the text answer this exact question? Reply yes or no."

USER = "Passages:\n{passages}\n\nQuestion: {question}"
# Said after the question, by kind (kinds.py): the system prompt and the passages stay one cached prefix.
KIND_INSTRUCTIONS = {
    "fact": "",
    "yesno": "Start your reply with Yes or No, as the passages say, then the reason in the passages' words, "
             "ending with the passage number.",
    "list": "This question asks for several items: reply with a list, one item per line, each in the passages' "
            "words and followed by its passage number.",
    "summary": "This question asks for more than one fact: reply with two or three short sentences, each ending "
               "with its passage number.",
    "why": "Reply with one or two sentences giving the reason or the way, as the passages state it, each ending "
           "with its passage number.",
    "compare": "Reply with one short sentence about each side, naming who or what it is about, each ending with "
               "its passage number.",
    "twopart": "Answer each part in its own short sentence, each ending with its passage number.",
}
# Asked of a claim whose negating words differ from its quote's (cite.disputed): P(yes) below 0.5 withholds it.
# Of three phrasings tried on 15 claims (8 true, 7 inverted or misattributed) this one judged 14 right.
ENTAIL = ("Read the text and the claim carefully. Watch for negation (not, no, nothing, denied) and for who said "
          "what. If the text says the opposite, or says it of someone else, the answer is no.\n\n"
          "Text: {text}\n\nClaim: {claim}\n\nIs the claim true according to the text? Answer yes or no.")
# Asked of the quoted sentences alone for a yes/no question: a reply whose Yes or No differs is withheld.
POLARITY = "Text: {text}\n\nQuestion: {question}\n\nAccording to the text, is the answer yes or no? Reply yes or no."
# Stands in for the question where the prompt prefix shared by every question is cut (api.prefill).
SLOT = "{question}"

# Turns a follow-up into a question that stands alone, for retrieval.
REWRITE_SYSTEM = (
    "Rewrite the user's last question so that it can be understood without the conversation: "
    "replace pronouns and vague references with the names they refer to. "
    "Reply with the rewritten question only."
)

REWRITE_USER = "Conversation:\n{history}\n\nLast question: {question}"

HISTORY_TURN = "Q: {question}\nA: {answer}"


def answer_messages(question: str, passages, instruction: str = "") -> list[dict]:
    """The chat messages for one question: (system, user) with passages numbered from 1, and the
    question kind's instruction after the question (kinds.py)."""
    body = "\n".join(PASSAGE.format(n=i, text=" ".join(p.chunk.text.split()))
                     for i, p in enumerate(passages, 1))
    user = USER.format(passages=body, question=question) + (f"\n\n{instruction}" if instruction else "")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def entail_messages(text: str, claim: str) -> list[dict]:
    return [{"role": "user", "content": ENTAIL.format(text=text, claim=claim)}]


def polarity_messages(text: str, question: str) -> list[dict]:
    return [{"role": "user", "content": POLARITY.format(text=text, question=question)}]


def check_messages(text: str, question: str) -> list[dict]:
    return [{"role": "user", "content": CHECK.format(text=text, question=question)}]


def rewrite_messages(question: str, history) -> list[dict]:
    # citation markers would be copied into the rewrite: "[1]" means nothing to retrieval
    turns = "\n".join(HISTORY_TURN.format(question=q, answer=MARKER.sub("", a)) for q, a in history)
    return [{"role": "system", "content": REWRITE_SYSTEM},
            {"role": "user", "content": REWRITE_USER.format(history=turns, question=question)}]
