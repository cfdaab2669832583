"""Verifying an answer against its passages: every shown claim carries a
citation whose quote is verbatim source text at its offsets, or it goes.

    verify("Wendy Sherman led it [1].", passages, text_of)
    # -> Verified(text="Wendy Sherman led it [1].", citations=(Citation(n=1, quote="Wendy Sherman, the US ...", ...),))

Per answer sentence: its claim words are matched against the sentences of the
passages it cites; the best-supported source clause run becomes the quote. A
sentence citing the wrong passage is repaired (re-pointed to the passage that
supports it); a sentence no passage supports, or that names a number or name
found in no passage, is removed. Nothing left -> the answer abstains.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from .chunk import sentences, span
from .prompts import ABSTAIN, MARKER
from .retrieve import STOP, tokens
from .types import Chunk, Citation, Passage

REACH = 3          # a quote opening with "she" (or a quotation) is checked with the sentences back to whoever "she" is
MIN_SUPPORT = 0.6   # share of a claim's content words found in its best quote (one source sentence)
_CLAUSE = re.compile(r"[,;:—–]\s+|\s+[—–]\s+")
_NUMBER = re.compile(r"\d[\d,.]*")
# A name: capitalised words, joined by "of", "the", "de"...: "Robert of Jumièges", "Edward the Confessor".
NAME = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:(?:of|the|de|du|da|del|der|van|von|la|le)\s+)*[A-Z][\w’'-]*)*")
# An all-capitals name ("^us") is found only as a capitalised word ("US", "Nato" for "NATO"):
# "US" is not the "us" of "all of us".
_ACRONYM = re.compile(r"[A-Z]{2,5}")
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z]{1,4}\b")
# Names that stand for one another in news text: a country, its people, its capital and its other names and
# initials ("Moscow said" is "Russia said", "British" is "UK"), for the 218 countries of places.tsv, which
# tools/make_places.py generates from the countryinfo package's data (tokens as `tokens` folds them; "^uk" is
# an all-capitals name). Seats of government and old spellings that data lacks are added here. A multi-word
# name also goes by its initials in any text ("European Union" ~ "EU": `_initials`).
_ALSO = {"russia": ("kremlin",), "france": ("elysee",), "ukraine": ("kiev",)}


def _place_rows() -> list[tuple[str, list[str]]]:
    """(country, the forms it goes by) for each row of places.tsv."""
    return [(name, forms.split()) for name, forms in (
        line.split("\t") for line in Path(__file__).with_name("places.tsv").read_text("utf-8").splitlines()
        if line and not line.startswith("#"))]


_PLACE_ROWS = _place_rows()


def _places() -> list[frozenset[str]]:
    groups = [set(forms) for _, forms in _PLACE_ROWS]
    for group in groups:
        group.update(*(_ALSO.get(name, ()) for name in list(group)))
    return [frozenset(g) for g in groups]


_ALIASES = _places()
_ALIAS_OF = {name: group for group in _ALIASES for name in group}
_CONNECTOR = {"of", "the", "de", "du", "da", "del", "der", "van", "von", "la", "le"}
# Words that make a role or a statement another one: "deputy foreign minister" is not "foreign
# minister", "not easy to bridge" is not "easy to bridge".
_QUALIFIERS = {"deputy", "vice", "former", "acting", "assistant", "interim", "ex", "not", "never"}
_WORD = re.compile(r"[^\W_]+")
_STARTERS = {"according", "yes", "no", "based", "answer", "passage", "passages"}
_ABSTAIN_RE = re.compile(
    r"documents? (?:do(?:es)?n[’']t|do(?:es)? not) (?:say|contain|mention|state|provide)|"
    r"passages? (?:do(?:es)?n[’']t|do(?:es)? not) (?:say|contain|mention|state|provide)|"
    r"(?:no|not enough) information|not (?:mentioned|specified|stated|provided)|cannot be determined|"
    r"(?:is|are) not (?:given|known)", re.I)


@dataclass(frozen=True)
class Verified:
    text: str
    citations: tuple[Citation, ...]
    abstained: bool


def is_abstention(text: str) -> bool:
    return not text.strip() or ABSTAIN.lower() in text.lower() or bool(_ABSTAIN_RE.search(text))


def holds_phrase(reply: str, phrase: str, question: str, source: str, read: str = "") -> bool:
    """Whether a reply holds the answer phrase a second reading copied from the text around its quote
    (steps.agree): one of the phrase's content words the question lacks is in the reply. Only a phrase
    from `source`, the sentences that hold the quotes, can tell against the reply: one from a sentence
    around them may name the same thing another way ("the same message routing methodology", quoted;
    "packet switching", from "He called it packet switching" after it). Nor can a phrase that names
    nothing (none, an abstention, mostly the question's own words), or a reply that adds nothing to the
    question's words; and a phrase the source sets beside the reply's answer (`_apposed`) names the same thing.
    But a phrase of the question's words alone, one of them missing from the text it was asked to copy from
    (`read`, else `source`), is the question written back: the reading found no answer there, and the reply
    does not stand ("Moscow was not negotiating from", to "What did the Kremlin's spokesman say Moscow was not
    negotiating from?" of "Kremlin spokesman Dmitry Peskov … repeated Russia's denials …").

    >>> q, s = "Who operates the voting equipment?", "A vote clerk sits by the Presiding Officer and operates it."
    >>> holds_phrase("The Presiding Officer operates the voting equipment [1].", "A vote clerk", q, s)
    False
    >>> [holds_phrase(r, p, q, s) for r, p in (("A vote clerk [1].", "vote clerk"), ("Smith [1].", "None."),
    ...                                        ("The Presiding Officer [1].", "the chair"))]
    [True, True, True]
    >>> s = "Russia's representative, deputy foreign minister Alexander Grushko, described the talks."
    >>> q = "Who described the talks?"
    >>> holds_phrase("Alexander Grushko described the talks [1].", "Russia's representative", q, s)
    True
    >>> s = "Kremlin spokesman Dmitry Peskov repeated Russia's denials that it intends to invade Ukraine."
    >>> q = "What did the Kremlin's spokesman say Moscow was not negotiating from?"
    >>> holds_phrase("Peskov repeated Russia's denials [1].", "Moscow was not negotiating from.", q, s)
    False
    >>> holds_phrase("Peskov repeated Russia's denials [1].", "Kremlin spokesman", q, s)
    True
    """
    if is_abstention(phrase) or re.match(r"\W*none\b", phrase, re.I):
        return True
    asked, said = stems(question), stems(phrase)
    if said and said <= asked and not said <= stems(read or source):  # the question written back
        return False
    new, answered = said - asked, _beyond(reply, asked)
    if not new or not answered or len(new) < len(said & asked) or not new <= stems(source):
        return True
    return bool(new & answered) or _apposed(phrase, answered, source)


def _apposed(phrase: str, answered: set[str], source: str) -> bool:
    """The phrase and a word of the reply name one thing in the source: both in a sentence's subject (before its
    first verb), which sets names side by side between commas, with no "and" or "or" joining several:
    "Russia's representative, deputy foreign minister Alexander Grushko, described the talks …" answers "Who
    described the talks as a heart-to-heart?" with "Alexander Grushko" as well as with "Russia's representative".

    >>> s = "Russia's representative, deputy foreign minister Alexander Grushko, described the talks."
    >>> _apposed("Russia's representative", {"grushko"}, s), _apposed("Alexander Grushko", {"russia"}, s)
    (True, True)
    >>> _apposed("A vote clerk", {"presid"}, "A vote clerk sits by the Presiding Officer and operates it.")
    False
    >>> _apposed("Truss", {"sherman"}, "Ms Sherman, Ms Truss and Mr Grushko attended."), _apposed(
    ...     "Sherman", {"grushko"}, "Grushko met Sherman, who said it was hard.")
    (False, False)
    """
    said = stems(phrase)
    for a, b in sentences(source):
        plain = _QUOTATION.sub(" ", source[a:b])
        subject = plain[:_first_verb(plain, _SPEECH.search(plain))]
        if "," in subject and not re.search(r"\b(?:and|or)\b", subject) and said <= stems(subject) and (
                stems(subject) & answered):
            return True
    return False


def says_all(reply: str, source: str, question: str) -> bool:
    """The reply holds every content word of `source` that the question lacks: then `holds_phrase` holds
    for any phrase copied from `source`, and steps.agree need not ask for one.

    >>> says_all("Wendy Sherman led it [1].", "Wendy Sherman led it.", "Who led it?")
    True
    >>> says_all("Wendy Sherman led it [1].", "Wendy Sherman, the deputy, led it.", "Who led it?")
    False
    """
    asked = stems(question)
    return stems(source) - asked <= _beyond(reply, asked)


def _beyond(reply: str, asked: set[str]) -> set[str]:
    """The reply's content words the question lacks (`asked`: its stems): what it answers, for `holds_phrase`
    and `says_all` alike, as the one vouches for the other."""
    return stems(MARKER.sub("", reply)) - asked


_SHAPE = re.compile(r"\b(?:in|with|using|as)\s+(?:\d+|[a-z]+)\s+(?:short\s+|brief\s+)?(?:sentences?|words?|lines?"
                    r"|paragraphs?|bullet\s+points?|bullets?)\b", re.I)


def key_terms(text: str, initial: bool = True) -> list[frozenset[str]]:
    """Names and numbers: what an answer must never invent. Each is a set of
    alternative tokens: a name is found if any of its words is ("Liz Truss" ~ "Ms Truss"), or,
    for a name of several words, its initials ("European Union" ~ "EU"), and each word as the root a
    derived or plain form of it must have (`_name_form`: "Europe" for "European").
    initial=False skips a sentence's first word (a question's "Which", "According").

    >>> [sorted(k) for k in key_terms("Which country did the European Union visit in 2022?", initial=False)]
    [['=europ', '^eu', 'european', 'union', '~union'], ['2022']]
    >>> key_terms("How did he describe the gap between the two sides, and three others?", initial=False)
    [frozenset({'3'})]
    >>> key_terms("Summarise the article in two sentences.", initial=False)
    []
    """
    keys = []
    text = _SHAPE.sub(" ", text)  # "in two sentences" asks for a reply's length, not about a count
    for m in NAME.finditer(text):
        at_start = not text[:m.start()].strip() or text[:m.start()].rstrip()[-1] in ".!?"
        words = m.group().split()
        if at_start and (not initial or words[0].lower() in _STARTERS):
            words = words[1:]
        words = [re.sub(r"['’]s$", "", w) for w in words]  # "EU's" is the name "EU"
        toks = frozenset("^" + w.lower() if _ACRONYM.fullmatch(w) else t for w in words for t in tokens(w))
        toks |= {_name_form(t, sought=True) for t in toks if not t.startswith("^")}
        if toks:
            keys.append(toks | _initials(words))
    keys += [frozenset({n.strip(",.")}) for n in _NUMBER.findall(text)]
    # a number in words is a number too ("These five centres" quoted from "four centres"); not "one" (a pronoun),
    # nor "the two" of "the gap between the two sides' positions", which names a pair the text has, not a count
    keys += [frozenset({_NUMBER_WORDS[w]}) for the, w in re.findall(r"(\bthe\s+)?\b([a-z]+)", text.lower())
             if w in _NUMBER_WORDS and _NUMBER_WORDS[w] not in ("0", "1") and not (the and w == "two")]
    return keys


def claim_terms(claim_text: str, question: str, source: str) -> list[frozenset[str]]:
    """A claim's names and numbers (`key_terms`), but for an opening word it echoes from the question,
    which is a name only where `source` writes it capitalised inside a sentence: "Lots of tumor cells
    have fewer MHC class I molecules", to "Lots of tumor cells have fewer of what …?", names "MHC", not "Lots".

    >>> [sorted(k)[0] for k in claim_terms("Lots of cells lack MHC.", "Lots of cells lack what?", "cells lack MHC")]
    ['^mhc']
    >>> len(claim_terms("Russia left.", "Russia did what?", "Then Russia left."))
    1
    """
    first, asked = claim_text.split()[:1], question.split()[:1]
    echo = bool(first) and first == asked and not re.search(
        rf"[^.!?\s]\s+{re.escape(first[0].strip('.,;:!?'))}\b", source)
    return key_terms(claim_text, initial=not echo)


_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}


# Irregular past forms and the verbs they are (of those that name nothing else: not "left", "found", "saw", "lost"),
# for `_base_stems`. `_IRREGULAR` (where a subject ends) lists the pasts alone, those four among them: a subject
# ends at "left" whatever it means, while a question's "leave" is not the "left" of "the left bank"
_IRREGULAR_BASE = dict(pair.split(":") for pair in (
    "met:meet brought:bring led:lead took:take taken:take gave:give given:give held:hold went:go gone:go came:come "
    "wrote:write written:write began:begin begun:begin sent:send kept:keep sought:seek chose:choose chosen:choose "
    "became:become knew:know known:know fought:fight built:build told:tell thought:think spoke:speak spoken:speak "
    "broke:break broken:break drove:drive driven:drive ran:run paid:pay spent:spend meant:mean understood:understand "
    "stood:stand caught:catch taught:teach bought:buy grew:grow grown:grow drew:draw drawn:draw threw:throw "
    "thrown:throw flew:fly sold:sell struck:strike").split())


def stem(word: str) -> str:
    """A content word (`tokens`) with its inflection folded, so that a claim that words the source's
    verb another way is matched ("holding" a set speed, quoted from "could not hold a set speed");
    number words as digits ("four" centres for "4"). An irregular past is not folded here (`_base_stems`):
    the word test would then find "Julianne Smith spoke after the meeting" in "Ms Smith said, speaking before
    the meeting", leaving its "after" to the model's reading alone.

    >>> [stem(w) for w in ("holding", "defined", "define", "typically", "stopped", "falling", "fall", "shown", "four")]
    ['hold', 'defin', 'defin', 'typical', 'stop', 'fall', 'fall', 'show', '4']
    """
    if word in _NUMBER_WORDS:
        return _NUMBER_WORDS[word]
    if len(word) <= 4:
        return word
    if word.endswith("ie"):  # "countrie" (plural s folded) -> "country"
        word = word[:-2] + "y"
    if word.endswith("wn"):  # "shown", "known", "grown" -> "show", "know", "grow"
        word = word[:-1]
    for suffix in ("ing", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[:-len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":  # "stopp" -> "stop"
                word = word[:-1]
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def stems(text: str) -> set[str]:
    """The stems of a text's content words: what the citation check matches a claim on."""
    return {stem(w) for w in tokens(text)}


def _base_stems(text: str) -> set[str]:
    """`stems`, with each irregular past as its verb's too: "brought" says the "bring" of a question.

    >>> sorted(_base_stems("Russia brought nothing; Ms Sherman met him"))
    ['bring', 'brought', 'meet', 'met', 'ms', 'noth', 'russia', 'sherman']
    """
    words = tokens(text)
    return {stem(w) for w in words} | {stem(_IRREGULAR_BASE[w]) for w in words if w in _IRREGULAR_BASE}


def _spans(doc_text: str, p: Passage) -> list[tuple[int, int]]:
    """Clause spans of the passage's sentences, in document offsets."""
    out = []
    for a, b in sentences(doc_text, p.chunk.start, p.chunk.end):
        pos = a
        for m in _CLAUSE.finditer(doc_text, a, b):
            out.append((pos, m.start()))
            pos = m.end()
        out.append((pos, b))
    return out


def best_quote(claim: set[str], doc_text: str, p: Passage, claim_text: str = "") -> tuple[float, int, int, set[str]]:
    """The shortest run of clauses (within one sentence) covering most of the claim words, passing over a
    run that qualifies a word `claim_text` repeats bare (`_drops_qualifier`): "The Council has 352 votes" is
    not quoted from "the Council members (not votes) … or 260 of the 352 votes", but from a run without the
    qualifier.

    Returns (support share, start, end, matched words)."""
    best = (0.0, p.chunk.start, p.chunk.start, set())
    if not claim:
        return best
    spans = _spans(doc_text, p)
    for a, b in sentences(doc_text, p.chunk.start, p.chunk.end):
        clauses = [s for s in spans if a <= s[0] and s[1] <= b]
        found = [stems(doc_text[x:y]) & claim for x, y in clauses]  # each clause's words once, not once per run
        for i in range(len(clauses)):
            seen: set[str] = set()
            for j in range(i, len(clauses)):
                seen |= found[j]
                share = len(seen) / len(claim)
                s, e = clauses[i][0], clauses[j][1]
                if (share > best[0] or (share == best[0] and share > 0 and e - s < best[2] - best[1])) \
                        and not (claim_text and _drops_qualifier(claim_text, doc_text[s:e])):
                    best = (share, s, e, set(seen))
    return best


def cited_numbers(sentence: str) -> list[int]:
    """The passage numbers a sentence's citation markers name, in order: "[1, 3] ... [2]" -> [1, 3, 2]."""
    return [int(n) for m in MARKER.finditer(sentence) for n in re.split(r"\s*,\s*", m.group(1))]


# Words about the passages, not from them, that open a reply's sentence: left out of the claim (its "states"
# would be looked for in the sources, and found in "each state")
_META = re.compile(r"^(?:(?:according to|as stated in|based on) (?:the )?(?:passages?|text|documents?|article)s?"
                   r"(?: \[\d+\])?,\s*|(?:the )?(?:passages?|text|documents?|article) (?:\[\d+\] )?"
                   r"(?:says|states|mentions|notes|reads|reports|discusses|describes|covers|explains|outlines|"
                   r"highlights|is about|focuses on|talks about)(?: that| how)?[:,]?\s+)", re.I)
# ... of which those that say what the text is about keep their words where the claim is shown ("The article
# discusses the tense Russia-Nato summit, which …"): without them it is no sentence
_TOPIC = re.compile(r"(?:the )?(?:passages?|text|documents?|article) (?:discusses|describes|covers|outlines|"
                    r"highlights|is about|focuses on|talks about)\b", re.I)


def verify(answer: str, passages: list[Passage], text_of, question: str = "") -> Verified:
    """Keep the supported sentences of `answer`, each with verified citations."""
    if is_abstention(answer) or not passages:
        return Verified(ABSTAIN, (), True)
    kept, cites, said = [], {}, []
    for a, b in sentences(answer):
        sentence = answer[a:b]
        plain = MARKER.sub("", sentence).strip()
        claim_text = _DANGLING.sub("", _META.sub("", plain))
        claim = stems(claim_text)
        if not claim:
            continue
        cited = cited_numbers(sentence)
        cited = [n for n in dict.fromkeys(cited) if 1 <= n <= len(passages)]
        found = _support(claim, cited, passages, text_of, claim_text)
        if not _covered(claim, claim_text, found, passages, question, text_of):
            found = _support(claim, range(1, len(passages) + 1), passages, text_of, claim_text)  # repair the marker
            if not _covered(claim, claim_text, found, passages, question, text_of):
                found = _verbatim(claim, claim_text, passages, text_of, question)
                if not (found and _covered(claim, claim_text, found, passages, question, text_of)):
                    continue  # no passage supports this sentence: it is not shown
        shown_quotes = _shown(found, question, claim_text)
        if any(swapped_doer(claim_text, _sentence_of(text_of(passages[n - 1].chunk.doc), s, e))
               for n, (_, s, e, _) in shown_quotes):
            continue  # what the source has one name do, the claim has another do
        marks, spans = [], set()
        for n, (share, s, e, _) in shown_quotes:
            doc = passages[n - 1].chunk.doc
            quote = text_of(doc)[s:e]  # cut from the source itself, so text_of(doc)[start:end] == quote
            cites.setdefault((n, s, e), Citation(n, passages[n - 1].chunk.id, doc, s, e, quote))
            marks.append(n)
            spans.add((doc, s, e))
        shown = _marked(_DANGLING.sub("", plain) if _TOPIC.match(plain) else claim_text, marks)
        # a reply that repeats itself ("US [10]. US [10]. ...", or a sentence again with "It" for its subject)
        # shows each claim once: a sentence quoting what an earlier one quotes and saying nothing more is left
        # out (not a list's item: "Nato" is not the "Nato-Russia Council" item before it)
        if shown not in kept and not (len(claim) > 3 and any(spans <= before and claim <= words
                                                             for before, words in said)):
            kept.append(shown)
            said.append((spans, claim | _SUBJECT_PRONOUNS))
    if not kept:
        return Verified(ABSTAIN, (), True)
    ordered = tuple(sorted(cites.values(), key=lambda c: (c.n, c.start)))
    return Verified(" ".join(kept), ordered, False)


def picked_by_question(answer: str, verified: Verified, passages: list[Passage], text_of, question: str) -> bool:
    """A list reply (one item a sentence) most of whose source-backed items the citation check dropped for what
    the question says (`verify` of the reply with the question, against without it): two at least, and more than
    it kept. The model, which read the passages, and the word test then read the question differently, and what
    is left is the word test's pick, not an answer both vouch for: to "Which officials took part in the Brussels
    talks?" the 1.5B listed Stoltenberg, Grushko, Sherman and eight more, each backed by its sentence; every one
    was dropped because its passage does not say "Brussels" but Stefano Sannino, whom Ms Sherman met "in
    Brussels" (not at the talks), and he was shown alone, cited (session 32).

    >>> t = {"d": "Ann spoke. Bob spoke. Cy met Ann in Rome."}
    >>> spans = ((0, 10), (11, 21), (22, 41))
    >>> ps = [Passage(Chunk(f"c{i}", "d", a, b, t["d"][a:b]), 1.0) for i, (a, b) in enumerate(spans)]
    >>> reply, q = "Ann [1].\\nBob [2].\\nCy [3].", "Who spoke in Rome?"
    >>> v = verify(reply, ps, t.get, q)
    >>> v.text, picked_by_question(reply, v, ps, t.get, q)
    ('Cy [3].', True)
    >>> picked_by_question(reply, verify(reply, ps, t.get, "Who spoke?"), ps, t.get, "Who spoke?")
    False
    """
    if verified.abstained or not question:
        return False
    kept, loose = len(claims(verified)), len(claims(verify(answer, passages, text_of)))
    return loose - kept >= 2 and loose - kept > kept


def _sentence_bounds(doc: str, start: int, end: int) -> tuple[int, int]:
    """Where the sentence(s) of `doc` holding [start, end) begin and end."""
    run = _sentence_run(doc, start, end, 0)
    return (run[0][0], run[-1][1]) if run else (start, end)


def _sentence_of(doc: str, start: int, end: int) -> str:
    a, b = _sentence_bounds(doc, start, end)
    return doc[a:b]


# What is left of a marker the reply was cut off in ("Brussels [")
_DANGLING = re.compile(r"\s*\[[\d,\s]*$")
# A phrase a reply quotes: "described the gap … as “not easy to bridge”"
_QUOTED = re.compile(r"[“\"]([^“”\"]+)[”\"]")


def _verbatim(claim: set[str], claim_text: str, passages: list[Passage], text_of, question: str) -> list:
    """The one source sentence holding, word for word, a phrase of two words or more the claim puts in quotation
    marks, where every other word of the claim is that sentence's or the question's; as `_support` finds (its
    share 1.0), for `_covered` to check its names and numbers. A paraphrase around the quoted words shares too
    few words with the sentence to pass the word test: "Jens Stoltenberg described the gap between the two sides'
    positions as “not easy to bridge”", to "How did Stoltenberg describe the gap between the two sides'
    positions?", from "Alliance chief Jens Stoltenberg said the opposing views were “not easy to bridge”". Empty
    where no sentence, or more than one, holds a quoted phrase.

    >>> t = "Jens Stoltenberg said the opposing views were “not easy to bridge”. Talks went on."
    >>> p = [Passage(Chunk("c", "d", 0, len(t), t), 0.0)]
    >>> c = "Stoltenberg described the gap as “not easy to bridge”."
    >>> [(n, q[1:3]) for n, q in _verbatim(stems(c), c, p, lambda d: t, "How did Stoltenberg describe the gap?")]
    [(1, (0, 67))]
    >>> _verbatim(stems(c), c, p, lambda d: t, "How did Stoltenberg describe it?")
    []
    >>> t = "Grushko described the talks as “a heart-to-heart”. Stoltenberg spoke."
    >>> p = [Passage(Chunk("c", "d", 0, len(t), t), 0.0)]
    >>> c = "Stoltenberg described the talks as “a heart-to-heart”."
    >>> found = _verbatim(stems(c), c, p, lambda d: t, "How did Stoltenberg describe the talks?")
    >>> [n for n, _ in found], _covered(stems(c), c, found, p, "How did Stoltenberg describe the talks?", lambda d: t)
    ([1], False)
    """
    phrases = [" ".join(_WORD.findall(m.lower())) for m in _QUOTED.findall(claim_text)]
    phrases = [x for x in phrases if len(x.split()) >= 2]
    if not phrases:
        return []
    held = []
    for n, p in enumerate(passages, 1):
        doc = text_of(p.chunk.doc)
        for a, b in sentences(doc, p.chunk.start, p.chunk.end):
            words = f" {' '.join(_WORD.findall(doc[a:b].lower()))} "
            if any(f" {x} " in words for x in phrases) and (a, b) not in [h[1][1:3] for h in held]:
                held.append((n, (1.0, a, b, claim & stems(doc[a:b]))))
    if len(held) != 1 or claim - held[0][1][3] - stems(question):
        return []
    return held


def _marked(claim_text: str, marks) -> str:
    """The claim with its passage markers before the sentence's end, and after a closing quotation mark
    ('Nato" [1].'), so the marked sentence is one sentence still.

    >>> _marked("“These include arms control.”", [13])
    '“These include arms control” [13].'
    """
    body, stop, closing = re.fullmatch(r"(.*?)([.!?]*)([\"”’'»]*)[.!?]*", claim_text.rstrip(), re.S).groups()
    end = stop[-1:] if stop else "."
    return body.rstrip() + closing + "".join(f" [{n}]" for n in dict.fromkeys(marks)) + end


_SUBJECT_PRONOUNS = frozenset({"he", "she", "they", "it"})


def named(verified: Verified) -> Verified:
    """The verified answer with each claim that is its quote with the quote's subject put as "he", "she", "they"
    or "it" shown as that quote: "They ended with no breakthrough [20]", quoted from "Those talks in Geneva ended
    with no breakthrough", to "Where were the Monday talks held, and how did they end?" is shown as "Those talks
    in Geneva ended with no breakthrough [20]." The source's own subject names what the pronoun does not; the
    words shown are those already quoted.

    >>> q = "Those talks in Geneva ended with no breakthrough."
    >>> v = Verified("They ended with no breakthrough [2].", (Citation(2, "c", "d", 0, len(q), q),), False)
    >>> named(v).text
    'Those talks in Geneva ended with no breakthrough [2].'
    >>> v = Verified("They ended without a deal [2].", (Citation(2, "c", "d", 0, len(q), q),), False)
    >>> named(v).text
    'They ended without a deal [2].'
    """
    if verified.abstained:
        return verified
    text = verified.text
    spans = sentences(text)
    for (a, b), cites in reversed(list(zip(spans, _owned([text[a:b] for a, b in spans], verified.citations)))):
        words = _WORD.findall(MARKER.sub("", text[a:b]).lower())
        if len(cites) != 1 or len(words) < 3 or words[0] not in _SUBJECT_PRONOUNS:
            continue
        quoted = _WORD.findall(cites[0].quote.lower())
        head = quoted[:len(quoted) - len(words) + 1]
        if head and head[0] not in _SUBJECT_PRONOUNS and quoted[len(head):] == words[1:]:
            shown = _marked(" ".join(cites[0].quote.split()), [cites[0].n])
            text = text[:a] + shown + text[a + len(text[a:b].rstrip()):]
    return verified if text == verified.text else replace(verified, text=text)


# Words that make a sentence say what may be, not what is: "Those measures could include Germany terminating its
# agreement …", "… should it escalate", "… if diplomacy proved insufficient".
_HEDGES = frozenset({"could", "may", "might", "would", "should", "if", "unless", "possibly", "potential",
                     "potentially", "perhaps", "likely", "unlikely"})


def hedged(verified: Verified, text_of) -> Verified:
    """The verified answer with each claim that states as fact what its source sentence hedges shown as that
    sentence: "Germany terminated its agreement to put the Nord Stream 2 oil pipeline from Russia into operation
    [11]", quoted from "Those measures could include Germany terminating its agreement …", is shown as the
    sentence, "could" and all. A claim with no hedging word (`_HEDGES`) whose source sentence has one before
    at least two of the claim's words is a claim the source does not make; the sentence it came from is one it
    does, and holds the claim's words. "could not", "would not" state (the governor "could not actually hold a set
    speed"). A Yes or No reply's claim is left to the polarity step.

    >>> t = "Talks ended. Those measures could include Germany terminating its agreement. Nato met."
    >>> c = Citation(2, "c", "d", 42, 76, t[42:76])
    >>> hedged(Verified("Germany terminated its agreement [2].", (c,), False), lambda d: t).text
    'Those measures could include Germany terminating its agreement [2].'
    >>> hedged(Verified("Germany could terminate its agreement [2].", (c,), False), lambda d: t).text
    'Germany could terminate its agreement [2].'
    >>> t = "The governor could not actually hold a set speed."
    >>> c = Citation(1, "c", "d", 0, len(t), t)
    >>> hedged(Verified("The governor was incapable of holding a set speed [1].", (c,), False), lambda d: t).text
    'The governor was incapable of holding a set speed [1].'
    """
    def swap(claim: str, doc_text: str, sa: int, sb: int) -> bool:
        words = _WORD.findall(claim.lower())
        if _HEDGES & set(words):
            return False
        hedge = next((m for m in _WORD.finditer(doc_text, sa, sb) if m.group().lower() in _HEDGES
                      and not re.match(r"\s*not\b|n['’]t\b", doc_text[m.end():])), None)  # "could not hold" states
        return hedge is not None and len(stems(" ".join(words)) & stems(doc_text[hedge.end():sb])) >= 2
    return _as_sentences(verified, text_of, swap)


ATTRIBUTED_WORDS = 4  # a claim shorter than this is a name or a phrase, not a statement someone made


def attributed(verified: Verified, question: str, text_of) -> Verified:
    """The verified answer with each claim that states as fact what its source sentence has a named speaker say
    shown as that sentence, the speaker named: "No, Russia brought nothing new to the talks [9]", quoted from
    "Wendy Sherman, the US deputy secretary of state who led the delegation, said Russia brought nothing new to
    the talks", is shown as "No: Wendy Sherman, … said Russia brought nothing new to the talks [9]." (a Yes or No
    keeps its word). Not a claim that names the speaker or says someone spoke ("Sherman said …"), one of fewer
    than ATTRIBUTED_WORDS words ("Ukraine."), one whose question names the speaker ("What did Sherman say …?"
    sets who says it), one from a quotation whose sentence does not name its speaker ("“These include …”"), nor
    one a third of whose words are not what is said (after the verb of speaking, or quoted): "Russia and the US
    met on Monday", of "The talks in Brussels, described by Mr Stoltenberg as a “defining moment …,” were the
    second part of this week’s peace efforts after Russia and the US met on Monday", is not Stoltenberg's.

    >>> t = "Talks ended. Wendy Sherman said Russia brought nothing new to the talks. Nato met."
    >>> c = Citation(2, "c", "d", 13, 72, t[13:72])
    >>> attributed(Verified("No, Russia brought nothing new [2].", (c,), False), "Did Russia bring anything?", lambda d: t).text
    'No: Wendy Sherman said Russia brought nothing new to the talks [2].'
    >>> attributed(Verified("Russia brought nothing new [2].", (c,), False), "What did Sherman say?", lambda d: t).text
    'Russia brought nothing new [2].'
    >>> attributed(Verified("Sherman said Russia brought nothing [2].", (c,), False), "What?", lambda d: t).text
    'Sherman said Russia brought nothing [2].'
    >>> t = "The talks, described by Mr Stoltenberg as vital, came after Russia and the US met on Monday."
    >>> c = Citation(1, "c", "d", 0, len(t), t)
    >>> attributed(Verified("Yes, Russia and the US met on Monday [1].", (c,), False), "Did they meet?", lambda d: t).text
    'Yes, Russia and the US met on Monday [1].'
    """
    asked = set(_WORD.findall(question.lower()))

    def swap(claim: str, doc_text: str, sa: int, sb: int) -> bool:
        words = set(_WORD.findall(claim.lower()))
        if len(words) < ATTRIBUTED_WORDS or _SPEECH.search(claim):
            return False
        who = set().union(*(w for a, b, w, _ in utterances(doc_text) if a < sb and sa < b))
        if not who & _names(doc_text[sa:sb]) or who & (words | asked):
            return False
        m = _SPEECH.search(doc_text, sa, sb)
        if m is None or re.match(r"\s+by\b", doc_text[m.end():sb]):  # "described by Mr Stoltenberg as …": an aside
            return False
        # what is said: the words after the verb of speaking, and the quotations ("“…,” Ms Smith said")
        said = stems(doc_text[m.end():sb] + " " + " ".join(_QUOTATION.findall(doc_text[sa:sb])))
        mine = stems(claim)
        return 3 * len(mine & said) >= 2 * len(mine)
    return _as_sentences(verified, text_of, swap, yes_no=True)


def unnamed_answer(verified: Verified, question: str, text_of) -> Verified:
    """For a question that asks who (`_ASKS_WHO`), each claim that names no one the question does not (a role for
    a name) shown as its source sentence where that sentence names someone more: "Who spoke for the European
    Union?" was answered "The European Union foreign affairs chief spoke for the European Union [18]", true and
    no answer, where its sentence, "Josep Borrell, European Union foreign affairs chief, said …", is one.

    >>> t = "Josep Borrell, European Union foreign affairs chief, said the plans failed."
    >>> c = Citation(1, "c", "d", 15, 51, t[15:51])
    >>> v = Verified("The European Union foreign affairs chief spoke [1].", (c,), False)
    >>> unnamed_answer(v, "Who spoke for the European Union?", lambda d: t).text
    'Josep Borrell, European Union foreign affairs chief, said the plans failed [1].'
    >>> unnamed_answer(v, "What did the European Union say?", lambda d: t).text
    'The European Union foreign affairs chief spoke [1].'
    """
    if not _ASKS_WHO.search(question):
        return verified
    asked = _names(question)

    def swap(claim: str, doc_text: str, sa: int, sb: int) -> bool:
        return not (_names(claim) - asked) and bool(_names(doc_text[sa:sb]) - asked - _names(claim))
    return _as_sentences(verified, text_of, swap)


# the members either side of a claim's answer words in a series: "rejected by the US, the alliance and …"
# (not a clause: ", and nobody may share it")
_SERIES_AFTER = re.compile(r"(?P<gap>(?:\s+[\w’'-]+){0,3}?)(?:\s*,\s+(?:(?!(?:and|or)\b)[\w’'-]+\s+){1,5}?(?:and|or)\s+"
                           r"|\s+(?:and|or)\s+)"
                           r"(?!(?:he|she|it|they|we|i|you|nobody|no one|there|then)\b)(?P<next>(?:[\w’'-]+\s*){1,4})",
                           re.I)
_SERIES_BEFORE = re.compile(r"(?P<prev>(?:[\w’'-]+\s+){1,4}?)(?:,|\band|\bor)\s+(?:[\w’'-]+\s+){0,2}$")


def one_of_many(verified: Verified, question: str, text_of) -> Verified:
    """The verified answer with each claim that names one member of a series in its source sentence ("A, B and C",
    "A and B"), and not the others, shown as that sentence: "Who rejected Moscow's key objective?" was answered
    "The US rejected Moscow's key objective [8]", where the sentence has it "rejected by the US, the alliance and
    potential candidate countries such as Ukraine". The claim's answer is its words the question lacks, found
    close together in the sentence; a member is a neighbour across a comma or an "and"/"or" with a word the
    claim lacks.

    >>> t = "Moscow's key objective is to stop any eastward expansion of Nato, a condition rejected by the US, the alliance and potential candidate countries such as Ukraine."
    >>> c = Citation(1, "c", "d", 0, len(t), t)
    >>> one_of_many(Verified("The US rejected Moscow's key objective [1].", (c,), False), "Who rejected Moscow's key objective?", lambda d: t).text == t[:-1] + " [1]."
    True
    >>> one_of_many(Verified("The alliance rejected it [1].", (c,), False), "Who rejected Moscow's key objective?", lambda d: t).text == t[:-1] + " [1]."
    True
    >>> v = Verified("The US, the alliance and potential candidate countries such as Ukraine rejected it [1].", (c,), False)
    >>> one_of_many(v, "Who rejected Moscow's key objective?", lambda d: t) is v
    True
    >>> t = "An estimated 50,000 Protestant Walloons and Huguenots fled to England. The US put economic sanctions, and has created or assisted groups."
    >>> v = Verified("50,000 [1].", (Citation(1, "c", "d", 13, 19, "50,000"),), False)
    >>> one_of_many(v, "About how many Walloons and Huguenots emigrated?", lambda d: t) is v
    True
    >>> v = Verified("Economic sanctions [1].", (Citation(1, "c", "d", 82, 100, "economic sanctions"),), False)
    >>> one_of_many(v, "What type of sanctions has the US directed at Iran?", lambda d: t) is v
    True
    >>> t = "The code word is Marmalade, and nobody may share it."
    >>> v = Verified("The code word is Marmalade [1].", (Citation(1, "c", "d", 0, 26, t[:26]),), False)
    >>> one_of_many(v, "What is the code word?", lambda d: t) is v
    True
    >>> t = "Wendy Sherman, the US deputy secretary of state, said Russia brought nothing new to the talks."
    >>> c = Citation(1, "c", "d", 0, len(t), t)
    >>> v = Verified("Wendy Sherman said Russia brought nothing new [1].", (c,), False)
    >>> one_of_many(v, "Who said Russia brought nothing new?", lambda d: t) is v
    True
    """
    asked = stems(question)

    def swap(claim: str, doc_text: str, sa: int, sb: int) -> bool:
        said = stems(claim)
        answer = said - asked
        words = [m for m in _WORD.finditer(doc_text, sa, sb) if stem(m.group().lower()) in answer]
        if not answer or not words or {stem(m.group().lower()) for m in words} != answer:
            return False
        a, b = words[0].start(), words[-1].end()
        if len(_WORD.findall(doc_text, a, b)) > 8:
            return False  # the answer's words are not one phrase of the sentence
        after = _SERIES_AFTER.match(doc_text, b, sb)
        if after and stems(after["gap"]) & asked:
            after = None  # the series is the question's own ("50,000 Protestant Walloons and Huguenots")
        before = _SERIES_BEFORE.search(doc_text, max(sa, a - 80), a)
        return any(m and stems(m.group(g)) - said for m, g in ((after, "next"), (before, "prev")))
    return _as_sentences(verified, text_of, swap)


def _as_sentences(verified: Verified, text_of, swap, yes_no: bool = False) -> Verified:
    """The verified answer with each claim quoted from one source sentence (or run) for which
    `swap(claim, doc_text, start, end)` holds shown as that sentence. A Yes or No reply's claim is left as it is,
    but, `yes_no`, shown as "Yes: " or "No: " and that sentence (steps.denied shows its No so)."""
    if verified.abstained:
        return verified
    text, cites_of = verified.text, dict.fromkeys(verified.citations)
    spans = sentences(text)
    for (a, b), cites in reversed(list(zip(spans, _owned([text[a:b] for a, b in spans], verified.citations)))):
        claim = MARKER.sub("", text[a:b])
        words = _WORD.findall(claim.lower())
        said = words[0] in ("yes", "no") if words else False
        if len(cites) != 1 or not words or said and not yes_no:
            continue
        c = cites[0]
        doc_text = text_of(c.doc)
        sa, sb = _sentence_bounds(doc_text, c.start, c.end)  # the sentence(s) holding the quote
        if not swap(_YES_NO.sub("", claim, count=1) if said else claim, doc_text, sa, sb):
            continue
        whole = Citation(c.n, c.chunk_id, c.doc, sa, sb, doc_text[sa:sb])
        shown = _marked(" ".join(whole.quote.split()), [c.n])
        shown = f"{words[0].capitalize()}: {shown}" if said else shown
        text = text[:a] + shown + text[a + len(text[a:b].rstrip()):]
        cites_of = {(whole if k == c else k): None for k in cites_of}
    if text == verified.text:
        return verified
    return replace(verified, text=text, citations=tuple(cites_of))


@lru_cache(maxsize=1)
def _country_pattern() -> re.Pattern:
    """The 218 countries of places.tsv by their names, and by the acronyms there that are their names' initials
    ("US", "UK"; not Afghanistan's "IRA"), as written in a text (case kept: "us" is not the US)."""
    names = set()
    for name, forms in _PLACE_ROWS:
        names.add(name)
        initials = "".join(w[0] for w in name.split() if w[0].isupper())
        names.update(f[1:].upper() for f in forms if f.startswith("^") and f[1:].upper() == initials)
    return re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b")


def countries_named(verified: Verified, passages: list[Passage], text_of) -> Verified:
    r"""A list of the countries a text mentions with each country the passages name (`_country_pattern`) that its
    items do not, one a line after them, cited to its first mention, the name itself the quote: the 1.5B, asked
    "Which countries are named in the article?", listed two of the six. An item names a country where it holds
    any of that country's names or forms (a list left withheld has none).

    >>> doc = "Russia and the US met. The UK and Ukraine watched. Russian troops moved."
    >>> p = [Passage(Chunk("c", "d", 0, len(doc), doc), 0.0)]
    >>> v = Verified("Russia [1].", (Citation(1, "c", "d", 0, 6, "Russia"),), False)
    >>> w = countries_named(v, p, lambda d: doc)
    >>> print(w.text)
    Russia [1].
    US [1].
    UK [1].
    Ukraine [1].
    >>> [(c.start, c.quote) for c in w.citations]
    [(0, 'Russia'), (15, 'US'), (27, 'UK'), (34, 'Ukraine')]
    """
    said = set() if verified.abstained else set().union(*(_pool(claim) for claim, _ in claims(verified)))
    added, citations, seen = [], [] if verified.abstained else list(verified.citations), set()
    for n, p in enumerate(passages, 1):
        doc = text_of(p.chunk.doc)
        for m in _country_pattern().finditer(doc, p.chunk.start, p.chunk.end):
            forms = _pool(m.group())
            if forms & said or m.group() in seen:
                continue
            seen.add(m.group())
            said |= forms
            citations.append(Citation(n, p.chunk.id, p.chunk.doc, m.start(), m.end(), m.group()))
            added.append(f"{m.group()} [{n}].")
    if not added:
        return verified
    shown = [] if verified.abstained else [verified.text]
    return Verified("\n".join(shown + added), tuple(citations), False)


# A sentence that names the members of what the one before it speaks of: "Nato has offered a series of areas … “These
# include reciprocal actions around risk reduction …”", "… to discuss potential financial penalties on Russia. Those
# measures could include Germany terminating …". A reply quoting the first has not said what they are.
_ENUMERATES = re.compile(r"[“\"'‘]?\s*(?:these|those|they|this|it|such)(?:\s+[a-z-]+){0,2}\s+"
                         r"(?:(?:could|would|may|might|will|can)\s+)?(?:include[sd]?|comprise[sd]?|consist(?:s|ed)?)\b",
                         re.I)


def enumerated(verified: Verified, passages: list[Passage], text_of) -> Verified:
    """The verified answer with, after it, each sentence that follows a quote and names the members of what
    it speaks of (`_ENUMERATES`; across a paragraph break too, as a quotation carried on), quoted whole and
    cited, where a passage the model read holds it and no quote is taken from it already: "The Nato allies
    offered their views on areas where Nato and Russia could make progress together … [12]" to "What areas of
    co-operation did the Nato allies offer Russia?" goes on "“These include reciprocal actions around risk
    reduction and transparency, improved communication and arms control” [12]."

    >>> doc = "Nato offered areas of co-operation. These include arms control and transparency. It ended."
    >>> v = Verified("Nato offered areas of co-operation [1].", (Citation(1, "c", "d", 0, 35, doc[:35]),), False)
    >>> w = enumerated(v, [Passage(Chunk("c", "d", 0, len(doc), doc), 1.0)], lambda d: doc)
    >>> w.text, [c.quote for c in w.citations]
    ('Nato offered areas of co-operation [1]. These include arms control and transparency [1].', ['Nato offered areas of co-operation.', 'These include arms control and transparency.'])
    >>> enumerated(Verified("Nato [1].", (Citation(1, "c", "d", 0, 35, doc[:35]),), False), [], lambda d: doc).text
    'Nato [1].'
    """
    if verified.abstained:
        return verified
    added, citations = [], list(verified.citations)
    # a list's item of a name or two ("Stefano Sannino [10]") announces nothing, whatever its quote goes on to
    named = {c for claim, cites in claims(verified) if len(_WORD.findall(claim)) <= 3 for c in cites}
    for c in verified.citations:
        if c in named:
            continue
        doc = text_of(c.doc)
        spans = sentences(doc, c.start, min(len(doc), c.end + 1000))
        if len(spans) < 2 or "\n\n\n" in doc[spans[0][1]:spans[1][0]] or not _ENUMERATES.match(doc, spans[1][0]):
            continue
        a, b = spans[1]
        n = next((i for i, p in enumerate(passages, 1)
                  if p.chunk.doc == c.doc and p.chunk.start <= a and b <= p.chunk.end), 0)
        if not n or any(x.doc == c.doc and x.start < b and a < x.end for x in citations):
            continue
        cited = Citation(n, passages[n - 1].chunk.id, c.doc, a, b, doc[a:b])
        citations.append(cited)
        added.append(_marked(" ".join(doc[a:b].split()), [n]))
    if not added:
        return verified
    return Verified(("\n" if "\n" in verified.text else " ").join([verified.text, *added]), tuple(citations), False)


# Words that turn a statement into its opposite: a claim and its quote must agree on them, or the
# model reads the pair again (api.Pipeline: the entailment step). "n't" is folded into "not".
# Those that may follow what they negate ("Russia's demands were rejected"), then the rest.
_NEGATE_BACK = {"deny", "denied", "denies", "denial", "denials", "reject", "rejected", "rejects", "refuse", "refused",
                "refuses"}
NEGATORS = {"not", "no", "nothing", "never", "none", "nobody", "neither", "nor", "without", "cannot", "unable",
            "incapable"} | _NEGATE_BACK
SCOPE = 4  # content words a negating word reaches


def negations(text: str, about: set[str] | None = None) -> frozenset[str]:
    """The negating words of a text, "n't" as "not"; given `about` (stems), only those that negate one of
    them, within SCOPE content words after it (or before it, for "rejected"): the "(no compound)" of "a
    5-cylinder engine (no compound)" negates nothing a claim about its 5 cylinders says.

    >>> sorted(negations("Russia doesn't have a veto; it brought nothing new.")), negations("No.")
    (['not', 'nothing'], frozenset({'no'}))
    >>> negations("a 5-cylinder engine (no compound) with superheated steam", stems("The engine has 5 cylinders"))
    frozenset()
    >>> sorted(negations("Russia's demands were rejected; Russia brought nothing new.", stems("Russia's demands")))
    ['rejected']
    """
    return frozenset(w for w, reached in _scopes(text) if about is None or reached & about)


def negated(text: str, about: set[str]) -> set[str]:
    """The stems of `about` that a negating word of `text` reaches (`negations`).

    >>> sorted(negated("Stoltenberg said Russia doesn't have a veto", stems("Does Russia have a veto?")))
    ['veto']
    """
    return {x for _, reached in _scopes(text) for x in reached & about}


def denies_asked(claim: str, question: str) -> bool | None:
    """Whether a negating word of the claim reaches a word the question asks about beyond its names: True where
    it does; False where it reaches only names and the claim says none of the question's other words, so that it
    denies something else of them (to "Was Russia negotiating from a position of strength, according to
    Peskov?", "Peskov repeated Russia's denials … that it intends to invade Ukraine" denies an invasion); None
    where the negation reaches none of the question's words, or only names of a claim that says some of the
    others.

    >>> q = "Was Russia negotiating from a position of strength, according to Peskov?"
    >>> [denies_asked(c, q) for c in ("Peskov repeated Russia's denials that it intends to invade Ukraine.",
    ...  "Peskov said Russia was not negotiating from a position of strength.", "Russia said it was negotiating.")]
    [False, True, None]
    """
    asked = stems(question) - {"accord"}  # "…, according to Peskov?" names who says it
    names = _name_stems(question)
    if negated(claim, asked - names):
        return True
    if negated(claim, names) and not (asked - names) & stems(claim):
        return False
    return None


def negates_question(claim: str, question: str) -> bool:
    """The claim is the question's statement negated: a negating word reaches the question's words, and
    the claim adds no other word the question lacks (a fuller form of one of its names aside).

    >>> negates_question("Russia does not have a veto, according to Jens Stoltenberg",
    ...                  "Does Russia have a veto, according to Stoltenberg?")
    True
    >>> negates_question("Russia insisted it would not accept anything less than guarantees",
    ...                  "Did Russia insist on guarantees?")
    False
    """
    asked = stems(question)
    if not negated(claim, asked):
        return False
    names = {stem(t) for k in key_terms(claim) if k & _pool(question) for t in k}
    return not stems(claim) - asked - {stem(w) for w in NEGATORS} - names


def states_question(claim: str, question: str) -> bool:
    """The claim holds every word of the question: its names as names are found (`_holds`: "OSCE" in "the
    Organisation for Security and Co-operation in Europe"), its other words as stems.

    >>> states_question("The talks will continue with a meeting of the Organisation for Security and "
    ...                 "Co-operation in Europe on Thursday", "Will the talks continue with an OSCE meeting?")
    True
    >>> states_question("The council was established in 2002", "Was the council disbanded in 2002?")
    False
    """
    return _holds(claim, key_terms(question, initial=False)) and stems(question) - _name_stems(question) <= stems(claim)


ELSEWHERE = 2  # question words the quoted sentences lack that one other sentence holds: `elsewhere`


def elsewhere(question: str, quoted: str, docs: list[str]) -> str:
    """The sentence of `docs` (full texts) that holds the question's words its quoted sentences lack, ELSEWHERE
    of them at least, and more of the question's words than the quoted sentences hold: the reply answered from
    the wrong sentence. "What did Smith say Washington would not allow anyone to do?", answered with her "push
    back on proposals … non-starters", lacks "allow anyone", which "“We will not allow anyone to slam Nato’s
    open-door policy shut,” Ms Smith said" holds. "" where there is none. (One word lacked is no sign: "Why did
    Warsaw become the capital …?" was rightly answered from a sentence without "become".)

    >>> doc = "Smith said they would push back. “We will not allow anyone to slam the door,” Ms Smith said."
    >>> elsewhere("What did Smith say they would not allow anyone to do?", "Smith said they would push back.", [doc])
    '“We will not allow anyone to slam the door,” Ms Smith said.'
    >>> elsewhere("What did Smith say about pushing back?", "Smith said they would push back.", [doc])
    ''
    """
    asked, have = stems(question), stems(quoted)
    lacking = asked - have
    if len(lacking) < ELSEWHERE:
        return ""
    for doc in docs:
        for a, b in sentences(doc, 0, len(doc)):
            words = stems(doc[a:b])
            if lacking <= words and len(words & asked) > len(have & asked):
                return doc[a:b]
    return ""


_ABOUT_SAYING = frozenset(stems("say said says saying tell told describe described call called word words remark "
                                 "remarks comment comments mention mentioned state stated"))


def answers_part(claim: str, part: str, other: str) -> bool:
    """Whether a claim holds a word of its part of a two-part question that the other part has not (names and
    words about saying left out): "Truss condemned Russia's aggression" answers "What did she condemn?", not
    "What did Truss call unacceptable?"; a part with no such word ("Who is Dmitry Peskov?") is answered by any.

    >>> q1, q2 = "What did Truss call unacceptable?", "What did she condemn?"
    >>> answers_part("Truss condemned Russia's aggression [14].", q1, q2), answers_part("Truss condemned it.", q2, q1)
    (False, True)
    >>> answers_part("Peskov repeated Russia's denials [17].", "Who is Dmitry Peskov?", "What did he deny?")
    True
    """
    own = stems(part) - stems(other) - _name_stems(part) - _ABOUT_SAYING
    return not own or bool(own & stems(claim))


def _name_stems(text: str) -> set[str]:
    """The stems of the words of a text's names (`NAME`)."""
    return stems(" ".join(m.group() for m in NAME.finditer(text)))


_PHRASE_END = re.compile(r"[,;:()\[\].!?—–]")


def _scopes(text: str) -> list[tuple[str, set[str]]]:
    """Each negating word of a text with the stems it reaches: SCOPE content words after it, or before it too
    for the words that may follow what they negate, within its phrase (the "(no compound)" of "(no compound)
    with superheated steam" does not reach "steam")."""
    out = []
    for phrase in _PHRASE_END.split(re.sub(r"n['’]t\b", " not", text)):
        words = [w.lower() for w in _WORD.findall(phrase)]
        for i, w in enumerate(words):
            if w in NEGATORS:
                after = [x for x in words[i + 1:] if x not in STOP and x not in NEGATORS][:SCOPE]
                before = [x for x in words[:i] if x not in STOP][-SCOPE:] if w in _NEGATE_BACK else []
                out.append((w, {stem(x) for x in after + before}))
    return out


_YES_NO = re.compile(r"^(\W*)(?:yes|no)\b(\W*)", re.I)


def without_yes_no(claim: str) -> str:
    """A claim without the Yes or No it opens with (the polarity step's to judge).

    >>> without_yes_no("No, Russia brought nothing new.")
    'Russia brought nothing new.'
    """
    return _YES_NO.sub("", claim)


def without_doubt(reply: str) -> str:
    """A reply that opens with Yes or No, with a sentence that says the documents do not say left out: the 1.5B
    now and then writes one after its answer ("Yes, Russia and the US met on Monday. The documents don't say."),
    which made the whole reply an abstention. What is left faces every check, as any reply (a claim the source
    does not state is withheld as before: "No, Hungary did not block a joint statement …").

    >>> without_doubt("Yes, Russia and the US met on Monday. The documents don't say.")
    'Yes, Russia and the US met on Monday.'
    >>> without_doubt("The documents don't say."), without_doubt("Nato met. The documents don't say.")
    ("The documents don't say.", "Nato met. The documents don't say.")
    """
    kept = [reply[a:b] for a, b in sentences(reply) if not is_abstention(reply[a:b])]
    return " ".join(kept) if kept and _YES_NO.match(reply) and _YES_NO.match(kept[0]) else reply


def with_yes_no(verified: Verified, word: str) -> Verified:
    """The verified answer with `word` for the Yes or No it opens with (the polarity step's verdict).

    >>> with_yes_no(Verified("Yes, Russia has no veto [1].", (), False), "No").text
    'No, Russia has no veto [1].'
    """
    return replace(verified, text=_YES_NO.sub(lambda m: m.group(1) + word + m.group(2), verified.text, count=1))


def _owned(shown: list[str], citations: tuple[Citation, ...]) -> list[tuple[Citation, ...]]:
    """For each shown sentence, the citations its markers name that are its own: a citation whose marker
    several sentences carry ("She condemned … [20]. She said … [20].") goes with the one sharing the most
    words with its quote (with each, on a tie). A sentence left with none keeps the citations its markers
    name that share the most words with it, or, sharing none, every one: "Alexander Grushko [4]", whose quote
    is inside that of a later "deputy foreign minister Alexander Grushko [4]", does not keep the "Russia's
    representative" of another item quoting passage 4 too.

    >>> cs = (Citation(4, "a", "d", 0, 23, "Russia's representative"),
    ...       Citation(4, "a", "d", 25, 66, "deputy foreign minister Alexander Grushko"))
    >>> [[c.quote for c in mine] for mine in _owned(["Alexander Grushko [4].", "Russia's representative [4].",
    ...                                              "deputy foreign minister Alexander Grushko [4]."], cs)]
    [['deputy foreign minister Alexander Grushko'], ["Russia's representative"], ['deputy foreign minister Alexander Grushko']]
    """
    marks = [list(dict.fromkeys(cited_numbers(x))) for x in shown]
    words = [stems(MARKER.sub("", x)) for x in shown]
    owners: dict[Citation, set[int]] = {}
    for c in citations:
        naming = [i for i, m in enumerate(marks) if c.n in m]
        shared = {i: len(words[i] & stems(c.quote)) for i in naming}
        owners[c] = {i for i in naming if shared[i] == max(shared.values())}
    out = []
    for i, m in enumerate(marks):
        named = [c for n in m for c in citations if c.n == n]
        shared = {c: len(words[i] & stems(c.quote)) for c in named}
        nearest = [c for c in named if shared[c] and shared[c] == max(shared.values())]
        out.append(tuple(c for c in named if i in owners[c]) or tuple(nearest or named))
    return out


def claims(verified: Verified) -> list[tuple[str, tuple[Citation, ...]]]:
    """Each shown sentence of a verified answer (markers removed, a leading Yes/No kept) with its own
    citations (`_owned`).

    >>> v = Verified("She condemned Russia [1]. She said sanctions would follow [1].",
    ...     (Citation(1, "a", "d", 0, 20, "She condemned Russia"), Citation(1, "a", "d", 22, 56, "She said sanctions would follow")), False)
    >>> [(claim, [c.quote for c in cites]) for claim, cites in claims(v)]
    [('She condemned Russia.', ['She condemned Russia']), ('She said sanctions would follow.', ['She said sanctions would follow'])]
    """
    shown = [verified.text[a:b] for a, b in sentences(verified.text)]
    return [(MARKER.sub("", x).strip(), cites) for x, cites in zip(shown, _owned(shown, verified.citations))]


def keep_sentences(verified: Verified, keep: list[bool]) -> Verified:
    r"""The verified answer with only the sentences (a list's items: one a line) that `keep` marks, in
    the order of `claims`, and only their own citations (`_owned`).

    >>> v = Verified("Oslo [1]\nNato [2]\nRiga [3].", (Citation(1, "a", "d", 0, 4, "Oslo"),
    ...     Citation(2, "b", "d", 9, 13, "Nato"), Citation(3, "c", "d", 20, 24, "Riga")), False)
    >>> w = keep_sentences(v, [True, False, True]); w.text, [c.n for c in w.citations]
    ('Oslo [1]\nRiga [3].', [1, 3])

    Two items that cite the same passage each have their own quote: a dropped item's quote goes with it.

    >>> v = Verified("Oslo [1]\nNato [1]", (Citation(1, "a", "d", 0, 4, "Oslo"), Citation(1, "a", "d", 9, 13, "Nato")), False)
    >>> [c.quote for c in keep_sentences(v, [True, False]).citations]
    ['Oslo']
    """
    shown = [verified.text[a:b] for a, b in sentences(verified.text)]
    kept = {c for cites, k in zip(_owned(shown, verified.citations), keep) if k for c in cites}
    text = [x for x, k in zip(shown, keep) if k]
    return Verified("\n".join(text), tuple(c for c in verified.citations if c in kept), not text)


def distinct(verified: Verified) -> Verified:
    r"""A list's items, each said once: an item that repeats an earlier one's words, or holds them or is held in
    them and quotes words that one quotes, goes (two items quoted from one clause are two items). `verify` leaves
    out a repeated sentence, but not a short item ("Nato" is not the "Nato-Russia Council"). "Name the Russian
    officials in the article." was answered "Alexander Grushko [4]. … deputy foreign minister Alexander Grushko
    [4]." (the model's "Russia's representative, deputy foreign minister Alexander Grushko" split at its comma).

    >>> v = Verified("Alexander Grushko [1]\nPeskov [2]\nminister Alexander Grushko [1]\nPeskov [3]",
    ...     (Citation(1, "a", "d", 50, 67, "Alexander Grushko"), Citation(2, "b", "d", 90, 96, "Peskov"),
    ...      Citation(1, "a", "d", 41, 67, "minister Alexander Grushko"), Citation(3, "c", "d", 120, 126, "Peskov")), False)
    >>> distinct(v).text
    'Alexander Grushko [1]\nPeskov [2]'
    >>> v = Verified("Russia [1]\nUkraine [1]", (Citation(1, "a", "d", 0, 40, "Russia demanded a say over Ukraine"),), False)
    >>> distinct(v).text
    'Russia [1]\nUkraine [1]'
    """
    kept, keep = [], []  # (" words ", spans quoted) of the items kept
    for claim, cites in claims(verified):
        words = " " + " ".join(re.sub(r"[\W_]+", " ", claim.lower()).split()) + " "
        mine = [(c.doc, c.start, c.end) for c in cites]
        again = any(words == other or (words in other or other in words) and any(
            d == e and a < y and x < b for d, a, b in mine for e, x, y in theirs) for other, theirs in kept)
        keep.append(not again)
        if not again:
            kept.append((words, mine))
    return verified if all(keep) else keep_sentences(verified, keep)


def renumbered(text: str, before: int = 0, moved: dict[int, int] | None = None) -> str:
    """The text with each citation marker's numbers moved on by `before`, or `moved` to the numbers it maps them to.

    >>> renumbered("Smith said so [1]. She added it [1, 2].", 3)
    'Smith said so [4]. She added it [4, 5].'
    >>> renumbered("Smith said so [1]. She added it [1, 2].", moved={1: 7, 2: 3})
    'Smith said so [7]. She added it [7, 3].'
    """
    new = (lambda n: moved.get(n, n)) if moved is not None else (lambda n: n + before)
    return MARKER.sub(lambda m: m.group().replace(m.group(1), ", ".join(
        str(new(int(n))) for n in m.group(1).split(","))), text)


def joined(parts: list[tuple[Verified, int]]) -> Verified:
    """Answers verified each against its own passages, as one: each part's passage numbers moved on by the number
    of passages before its own (`renumbered`); the parts that abstained left out, and all abstained, abstained."""
    kept = [(v, before) for v, before in parts if not v.abstained]
    if not kept:
        return Verified(ABSTAIN, (), True)
    return Verified(" ".join(renumbered(v.text, before) for v, before in kept),
                    tuple(replace(c, n=c.n + before) for v, before in kept for c in v.citations), False)


SURE = 0.8  # P(yes) a claim needs when its quote is negated and it is not, or the other way round
# A claim that gives a reason or a result: each half may be quoted right and the link between them the model's
# own ("the talks failed because Russia walked out"), or turned round; no word test sees it ("since" is left
# out: "since 2002" is a time).
CAUSAL = re.compile(r"\b(?:because|due to|owing to|thanks to|as a result|so that|in order to|therefore|thus|hence|"
                    r"(?:which|that) is why|the reason|led to|leads? to|leading to|caused|causes|resulted in|result of)\b",
                    re.I)


def _links(claim: str, question: str) -> bool:
    """The claim links a reason to what it explains, and the question did not ask for that link ("What did the
    crisis cause?" is answered by a "caused", which the answer check reads against the question).

    >>> _links("The talks failed because Russia left.", "Why did the talks fail?"), _links("It caused a rise.", "What did it cause?")
    (True, False)
    """
    asked = stems(question)
    # "led to" answers "what did it lead to?"; "so that" or "which is why" has no word a question would hold
    return any(not (said := stems(re.sub(r"(?i)\bled\b", "lead", m))) or not said <= asked
               for m in CAUSAL.findall(claim))


def _opposites() -> tuple[dict[str, frozenset[str]], frozenset[frozenset[str]]]:
    """opposites.txt as stems: each word's set of the words it excludes, and the pairs that are one relation
    seen from its two sides ("~")."""
    out: dict[str, set[str]] = {}
    converse = set()
    for line in Path(__file__).with_name("opposites.txt").read_text("utf-8").splitlines():
        group = [stem(w) for w in line.lstrip("~").split()] if line and not line.startswith("#") else []
        for w in group:
            out.setdefault(w, set()).update(o for o in group if o != w)
        if line.startswith("~"):
            converse.add(frozenset(group))
    return {w: frozenset(o) for w, o in out.items()}, frozenset(converse)


_OPPOSITE, _CONVERSE = _opposites()


def _sides(text: str, word: str) -> tuple[set[str], set[str]]:
    """The content words of `text` before and after its first word with the stem `word`."""
    words = [stem(w) for w in tokens(text)]
    i = words.index(word)
    return set(words[:i]), set(words[i + 1:])


def opposed(question: str, citations: tuple[Citation, ...], text_of, claim: str = "") -> list[tuple[str, str]]:
    """(the question's word, its quote's word) where the question says a word (opposites.txt) that its quoted
    sentences and those around them lack, and its quote says, in lower case, one that excludes it and that the
    question lacks: the question asks about what the source does not state ("The SNP gave how many seats to
    Labour?", quoted from "The SNP took 16 seats from Labour"; "Where did Marin build his first fort?", quoted
    from "Marin constructed a second fort"). A word in a name ("Asia Minor") is not said in lower case. A relation
    seen from its other side (opposites.txt's "~") counts only where no name or word before it in the claim (or,
    where the claim lacks it, the question) comes after its opposite in the quote, or the other way round: "Yale
    won the final" is quoted from "Harvard lost the final to Yale".

    >>> src = "The SNP took 16 seats from Labour. Turnout fell."
    >>> c = (Citation(1, "c", "d", 0, 33, src[:33]),)
    >>> opposed("The SNP gave how many seats to Labour?", c, lambda d: src, "The SNP gave 16 seats to Labour.")
    [('gave', 'took')]
    >>> opposed("How many seats did the SNP take from Labour?", c, lambda d: src)
    []
    >>> opposed("Who gave Labour 16 seats?", c, lambda d: src, "Labour gave the SNP 16 seats.")
    []
    >>> army = "The king raised a small army of 5,000 men."
    >>> opposed("How large was the king's army?", (Citation(1, "c", "d", 0, len(army), army),), lambda d: army)
    []
    """
    # the word after "how" asks for a degree, it does not say one: "How large is the army?" of "a small army"
    asked = stems(question) - stems(" ".join(re.findall(r"(?i)\bhow\s+(\w+)", question)))
    near = stems(context(citations, text_of, REACH))
    quotes = [c.quote for c in citations]
    quoted = {stem(w) for q in quotes for w in _WORD.findall(q) if w.islower()}
    out = []
    for w in sorted(asked - near):
        for o in sorted((_OPPOSITE.get(w, frozenset()) & quoted) - asked):
            quote = next((q for q in quotes if o in stems(q)), "")
            if frozenset((w, o)) in _CONVERSE and quote:
                before, after = _sides(claim if w in stems(claim) else question, w)
                q_before, q_after = _sides(quote, o)
                if before & q_after or after & q_before:
                    continue
            out.append((w, o))
    return out


_ANY = {"noth": "anyth", "nobody": "anybody", "none": "any", "never": "ever"}  # a negating word's "any" (stems)


def denials(question: str, claim: str, passages: list[Passage], text_of) -> list[Citation]:
    """The source sentences that say No, in words, to a yes/no question whose reply said Yes with `claim`: each
    holds the question's names (or the sentences back to whoever its "he" is do) and every other word of it,
    and a negating word reaches one of them ("repeated Russia's denials … that it intends to invade Ukraine" to
    "Did Russia say it intends to invade Ukraine?"), or it says, in lower case, a word that excludes one of them
    (`opposed`: "a condition rejected by the US" to "Did the US accept …?"), or "before" for the question's
    "after" or the other way round (`_turned_round`). Only where neither the question
    nor the claim is negated, and the claim says every word of the question but its names and one more (it is
    the question's statement: the model's "Yes" asserted it; after a reply that says No, the question itself is
    given as the claim). A word of the question may be said as an irregular past ("brought" for "bring") or, for
    its "anything", by the sentence's "nothing". Whether the sentence denies what the claim states is the model's
    to read (steps.denied); these are where to look, in the passages' order, each once.

    >>> src = "Peskov repeated Russia's denials that it intends to invade Ukraine. The talks ended."
    >>> p = [Passage(Chunk("c", "d", 0, len(src), src), 0.0)]
    >>> [c.quote for c in denials("Did Russia say it intends to invade Ukraine?",
    ...                           "Russia said it intends to invade Ukraine.", p, lambda d: src)]
    ["Peskov repeated Russia's denials that it intends to invade Ukraine."]
    >>> denials("Did Russia say it intends to invade Poland?", "Russia said it intends to invade Poland.", p,
    ...         lambda d: src)
    []
    >>> denials("Did Russia deny it intends to invade Ukraine?", "Russia denied it.", p, lambda d: src)
    []
    >>> [c.quote[:24] for c in denials("Is Russia planning to invade Ukraine?", "Russia intends to invade Ukraine.", p,
    ...                                lambda d: src)]
    ["Peskov repeated Russia's"]

    Where the sentence says a word that excludes one of the question's, one other word of the question may be
    missing from it ("demand" here):

    >>> src = "Moscow's key objective is to stop any expansion of Nato, a condition rejected by the US."
    >>> p = [Passage(Chunk("c", "d", 0, len(src), src), 0.0)]
    >>> q = "Has the US accepted Moscow's demand to stop the expansion of Nato?"
    >>> two = "Has the US accepted Moscow's plan to halt the expansion of Nato?"  # "plan" and "halt" missing
    >>> [len(denials(q, q, p, lambda d: src)), len(denials(two, two, p, lambda d: src))]
    [1, 0]
    """
    if negations(claim) or negations(question):
        return []
    asked = stems(question) - {"accord"}  # "…, according to Peskov?" names who says it, which a source says its way
    if len(asked - _name_stems(question) - stems(claim)) > 1:  # one may be a verb the claim inflects its own way ("speak", "spoke")
        return []
    keys = key_terms(question, initial=False)
    restated = stems(claim) - {"accord"}
    out, seen = [], set()
    for n, p in enumerate(passages, 1):
        text = text_of(p.chunk.doc)
        for a, b in sentences(text, p.chunk.start, p.chunk.end):
            if (p.chunk.doc, a, b) in seen:
                continue
            seen.add((p.chunk.doc, a, b))
            c = Citation(n, p.chunk.id, p.chunk.doc, a, b, text[a:b])
            around = context((c,), text_of, REACH)
            if not _holds(around, keys):
                continue
            excluded = opposed(question, (c,), text_of, claim)
            # "brought nothing new" says the "anything" of "Did Russia bring anything new?", and denies it
            held = _base_stems(around) | {w for w, _ in excluded} | {_ANY[w] for w in stems(c.quote) if w in _ANY}
            # every word of the question, or of the claim, which restates it in the source's words ("Is Russia
            # planning to invade Ukraine?", "Yes, Russia intends to invade Ukraine")
            # but for one, where the sentence says a word that excludes one of the question's: "a condition rejected
            # by the US, the alliance …" to "Has Nato accepted Moscow's demand to stop its eastward expansion?"
            missing = min(len(asked - held), len(restated - held))
            if missing > (1 if excluded else 0):
                continue
            if excluded or negated(c.quote, asked) or _turned_round(question, c.quote):
                out.append(c)
    return out


_ORDER = {"before": "after", "after": "before"}  # what a stopword list drops, so `opposed` cannot see it


def _order_words(text: str) -> set[str]:
    """The "before" and "after" of a text: words that order events, which the stopword list drops (a claim
    that says "after" where its source does not say it is read by the model: `disputed`)."""
    return set(_WORD.findall(text.lower())) & set(_ORDER)


def _turned_round(question: str, quote: str) -> bool:
    """The question places something before (after) where the quote says after (before) and not before
    (after): "Did Julianne Smith speak after the meeting?" of "…, Ms Smith said, speaking before the meeting."

    >>> _turned_round("Did Smith speak after the meeting?", "Smith said, speaking before the meeting.")
    True
    >>> _turned_round("Did Smith speak after the meeting?", "Smith spoke before and after the meeting.")
    False
    """
    said = _order_words(quote)
    return any(_ORDER[w] in said and w not in said for w in _order_words(question))


def disputed(verified: Verified, text_of, stitched: bool = True,
             question: str = "", asserts: bool = False) -> list[tuple[str, list[str], float]]:
    """(claim, source texts, P(yes) needed) for the shown claims the word test cannot vouch for (a claim
    without its opening Yes/No, which is the polarity step's to judge), for the
    model to read (steps.entailment: the claim stands if one source text states it with that P(yes)):
    - a name or number of the claim that its cited sentences lack ("Stoltenberg described the talks as a
      heart-to-heart", quoted from Grushko's sentence), or a subject that is not who its quote's "it" or "she"
      is (`wrong_referent`): no source states it (an empty list), it goes;
    - a claim negated where its quote is not, or the other way round ("Russia brought something new" quoted
      from "brought nothing new"): read against its sources together, and only a sure yes (SURE) keeps it;
    - a claim with words its sources and the question lack ("Wendy Sherman condemned Russia's aggression",
      quoted from a Sherman sentence that does not say it): read against its sources together; with `asserts`
      (a yes/no question, whose reply asserts the question's own words: "Yes, the council stopped meeting
      after the annexation of Crimea", quoted from "the council … has kept going after most ties were severed
      following Moscow's annexation of Crimea"), words its sources lack, the question's too; "before" and
      "after" count as words here;
    - with `stitched`, a claim cited to several source sentences (not several quotes of one): read against
      each on its own (`_alone`), and only a sure yes (SURE) keeps it; so too a claim that takes words from the
      sentences before its quote that tell who its "she" is (`_spilled`), read against the quote alone;
    - a claim that links a reason to what it explains (`CAUSAL`) where the question did not: read against its
      sources together, whose words alone cannot show that they state the link, or which way it goes.

    >>> v = Verified("Nato agreed to more talks [1].", (Citation(1, "c", "d", 0, 27, "Nato did not agree to talks"),), False)
    >>> disputed(v, lambda doc: "Nato did not agree to talks. Russia left.")
    [('Nato agreed to more talks.', ['Nato did not agree to talks.'], 0.8)]

    A reason with every word of it in the source, "because" too, is still the model's to read: the link may
    be turned round.

    >>> src = "The talks began because Russia moved troops to the border."
    >>> v = Verified("Russia moved troops because the talks began [1].", (Citation(1, "c", "d", 0, 59, src),), False)
    >>> [(claim, bar) for claim, _, bar in disputed(v, lambda doc: src)]
    [('Russia moved troops because the talks began.', 0.5)]
    >>> disputed(Verified("The talks began and Russia moved troops [1].", v.citations, False), lambda doc: src)
    []
    """
    out = []
    for claim, cites in claims(verified):
        if not cites:
            continue
        bare = without_yes_no(claim)
        said = bare[:1].upper() + bare[1:]  # as the model reads it
        source = context(cites, text_of, REACH)
        if not _holds(source, claim_terms(bare, question, source)) or all(
                wrong_referent(bare, c, text_of) for c in cites):
            out.append((said, [], 1.0))
        elif stitched and len(list(dict.fromkeys(context((c,), text_of, REACH) for c in cites))) > 1:
            # several quotes of one sentence are one source; each source read without the others, and only a
            # sure yes keeps it: a claim that needed two sentences is rarely stated by one (the 1.5B read "a further
            # military incursion would come with a severe cost" as stating that the build-up would, P(yes) 0.69)
            out.append((said, list(dict.fromkeys(_alone(c, cites, text_of) for c in cites)), SURE))
        elif own := _spilled(bare, cites, text_of, question):
            out.append((said, [own], SURE))
        else:
            words = stems(bare) | _order_words(bare)
            # a bare name or noun ("Jens Stoltenberg", a list's item) states nothing a "not" could invert
            quote = " ".join(c.quote for c in cites)
            # a negation counts where it negates what the other side says (`negations`)
            if len(words) > 2 and bool(negations(bare, stems(quote))) != bool(negations(quote, words)):
                out.append((said, [source], SURE))
            elif words - stems(source) - _order_words(source) - (set() if asserts else stems(question) | _order_words(
                    question)) or _links(bare, question):
                out.append((said, [source], 0.5))
    return out


def _spilled(claim: str, cites, text_of, question: str = "") -> str:
    """The quoted sentences alone, where the claim takes two or more of its words (not a name, not the question's)
    from the sentences before them that only tell who their "she" is: stitched from those and the quote, as
    "Russia's military build-up … would come with a severe cost on Russia's economy" was, quoted from Truss's
    "She said that a further military incursion … would come with a severe cost …", its "military build-up"
    from the sentence naming her. Else "".

    >>> doc = "Truss said the build-up was unacceptable. She said an incursion would cost Russia dearly."
    >>> c = (Citation(1, "c", "d", 42, 88, doc[42:88]),)
    >>> _spilled("The build-up was unacceptable and would cost Russia dearly.", c, lambda d: doc)
    'She said an incursion would cost Russia dearly.'
    >>> _spilled("Truss said an incursion would cost Russia dearly.", c, lambda d: doc)
    ''
    """
    own, back = context(cites, text_of, reach=0), context(cites, text_of, REACH)
    if own == back:
        return ""
    taken = (stems(claim) - stems(own) - stems(question) - _name_stems(claim)) & stems(back)
    return own if len(taken) >= 2 else ""


def _alone(c: Citation, cites, text_of) -> str:
    """c's source read on its own, for a claim stitched from several: its sentence, with those back to whom its
    "she" is (REACH), but not one that holds another of the claim's quotes, a source of its own. "Russia's
    military build-up … would come with a severe cost on Russia's economy", stitched from Truss's "… said
    Russia's military build-up … was unacceptable" and the "She said that a further military incursion … would
    come with a severe cost …" after it, was read as stated by the second with the first before it (P(yes) 0.93).

    >>> doc = "Truss said the build-up was unacceptable. She said an incursion would be costly."
    >>> a, b = Citation(1, "c", "d", 0, 40, doc[:40]), Citation(2, "c", "d", 42, len(doc), doc[42:])
    >>> _alone(b, (a, b), lambda d: doc), context((b,), lambda d: doc, REACH) == doc
    ('She said an incursion would be costly.', True)
    """
    doc = text_of(c.doc)
    own = _sentence_run(doc, c.start, c.end, 0)
    theirs = {span for o in cites if o is not c and o.doc == c.doc for span in _sentence_run(doc, o.start, o.end, 0)}
    return " ".join(" ".join(doc[x:y].split()) for x, y in _sentence_run(doc, c.start, c.end, REACH)
                    if (x, y) in own or (x, y) not in theirs)


def focus(answer: str, passages: list[Passage], text_of) -> Passage | None:
    """The source sentence that best supports a reply, as a passage of its own (with the
    sentences back to whoever a "she" is), or None when no sentence holds MIN_SUPPORT of
    any of its claims. A reply the citation check rejects, say for a name taken from the
    wrong sentence ("Julianne Smith repeated Russia's denials"), is asked again on it."""
    best = None
    for a, b in sentences(answer):
        claim = stems(MARKER.sub("", answer[a:b]))
        found = _support(claim, range(1, len(passages) + 1), passages, text_of) if claim else []
        if found and found[0][1][0] >= MIN_SUPPORT and (best is None or found[0][1][0] > best[1][0]):
            best = found[0]
    if best is None:
        return None
    n, (_, s, e, _) = best
    return _run_passage(passages[n - 1].chunk.doc, s, e, text_of)


def quoted(citations: tuple[Citation, ...], text_of, passages=()) -> list[Passage]:
    """The source sentences that hold the quotes (with the sentences back to whoever a "she"
    is), one passage per quote, in document order, each once: what an answer rests on. Given the
    `passages` the citations number, each keeps as its `context` theirs (a title, the chunk a cut
    passage came from): "the city's population" is still known to be Berlin's when the question names it."""
    runs: dict[str, list[list]] = {}  # doc -> [start, end, context texts] of its runs, overlapping ones merged
    for c in citations:
        a, b = _run_span(text_of(c.doc), c.start, c.end)
        source = passages[c.n - 1] if 1 <= c.n <= len(passages) else None
        around = [t for t in (source.context, source.chunk.text) if t] if source else []
        spans = runs.setdefault(c.doc, [])
        # "Its growth was reversed ..." brings the sentence before it, which another quote may hold alone
        hit = next((x for x in spans if x[0] < b and a < x[1]), None)
        if hit:
            hit[0], hit[1] = min(hit[0], a), max(hit[1], b)
            hit[2] += around
        else:
            spans.append([a, b, around])
    return [_passage(doc, text_of(doc), a, b, " ".join(dict.fromkeys(around)))
            for doc in sorted(runs) for a, b, around in sorted(runs[doc])]


def _run_passage(doc: str, start: int, end: int, text_of) -> Passage:
    """The sentences holding doc[start:end] with the sentences back to whoever a "she" is, as a passage."""
    text = text_of(doc)
    return _passage(doc, text, *_run_span(text, start, end))


def _run_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the sentences holding text[start:end], with those back to whoever a "she" is, begin and end."""
    run = _sentence_run(text, start, end, REACH)
    return run[0][0], run[-1][1]


def _passage(doc: str, text: str, a: int, b: int, context: str = "") -> Passage:
    return Passage(span(doc, text, a, b), 0.0, context=context)


def _support(claim, numbers, passages, text_of, claim_text: str = "") -> list[tuple[int, tuple]]:
    """Best quote per passage number (`best_quote`), best first; passages with no overlap are skipped."""
    scored = []
    for n in numbers:
        p = passages[n - 1]
        q = best_quote(claim, text_of(p.chunk.doc), p, claim_text)
        if q[0] > 0:
            scored.append((n, q))
    scored.sort(key=lambda x: (-x[1][0], x[0]))
    # a second passage is kept only if it adds words the first does not cover
    out, covered = [], set()
    for n, q in scored:
        if not out or q[3] - covered:
            out.append((n, q))
            covered |= q[3]
    return out


def _shown(found, question: str, claim_text: str = "") -> list[tuple[int, tuple]]:
    """The quotes a claim is shown with: its best, and each further one that supports words of
    the claim the ones before it do not and the question does not supply. "Washington's deputy
    secretary of state said X" to "What did Washington's deputy secretary of state say?" is not
    also cited to a passage for its "Washington"; nor is "Wendy Sherman met Sannino", quoted from "Ms
    Sherman met Sannino", also cited to any sentence that says "Wendy": a name the quotes before hold
    by one of its words is held."""
    echo = _pool(question) | stems(question)
    names = [{stem(w) for w in k} for k in key_terms(claim_text)]
    out, covered = [], set()
    for n, q in found:
        held = {w for k in names if k & covered for w in k}
        if not out or {w for w in q[3] - covered - held if w not in echo}:
            out.append((n, q))
            covered |= q[3]
    return out


_PRONOUNS = "he|she|it|they|this|that|these|those|his|her|its|their"
_PRONOUN = re.compile(rf"[“\"'‘]?\s*(?:{_PRONOUNS})\b", re.I)
_OPEN_QUOTE = re.compile(r"[“\"‘]")
# A sentence whose subject is a pronoun after a short opening phrase of time or place, with no name before it:
# "From 2000 to 2007 it killed 542 people" (it = Hamas, the sentence before), "After the battle, they marched".
_OPENING_PRONOUN = re.compile(r"(?:In|On|At|From|After|Before|During|Since|Until|By|Between|Within|Over|For|Later|"
                              r"Then|Soon|Eventually|Subsequently|Finally|Meanwhile)\b"
                              r"(?:[\s,–-]+(?:[a-z]+|\d[\d,.]*s?)){0,6}[\s,]+(?:he|she|it|they)\b")
# A sentence that carries on the one before it: "In April 1191 Richard left Messina with a large fleet. But a storm
# dispersed the fleet.", "… new rules for the 1906 season. These included legalizing the forward pass"
_CARRIES_ON = re.compile(rf"[“\"'‘]?\s*(?:{_PRONOUNS}|but|however|so|such)\b", re.I)


# A sentence that opens with a personal pronoun, and the two words after it: "It wants Nato forces …"
_PERSONAL = re.compile(r"[“\"'‘]?\s*(?:he|she|it|they)\s+(\S+\s+\S+)", re.I)
# Where a sentence's subject ends: its first verb, roughly ("Moscow's key objective is …", "Liz Truss, the UK
# Foreign Secretary, said …", "Russia's representative, … Alexander Grushko, described …")
_VERB = re.compile(r"\b(?:is|are|was|were|has|have|had|will|would|could|can|must|may|said|says|told|tells|[a-z]{2,}ed)\b")


def wrong_referent(claim: str, citation: Citation, text_of) -> bool:
    """The claim names as its subject someone other than the one its quote's "he", "she", "it" or "they" is: the
    claim copies what follows the pronoun, and the subject it puts before that is not named in the subject of
    the sentence the pronoun refers back to (the nearest before it that does not itself open with one, within
    REACH). "The US wants Nato forces withdrawn …", quoted from "It wants Nato forces withdrawn …", where "it" is
    Moscow ("Moscow's key objective is …, a condition rejected by the US"): the words match, even "US" is in the
    sentences, and the model reading them says yes. False where that cannot be told.

    >>> doc = "Moscow's key objective is to stop Nato, a goal the US rejects. It wants Nato forces withdrawn."
    >>> c = Citation(1, "c", "d", doc.index("It"), len(doc), doc[doc.index("It"):])
    >>> wrong_referent("The US wants Nato forces withdrawn.", c, lambda d: doc), wrong_referent("Russia wants Nato forces withdrawn.", c, lambda d: doc)
    (True, False)
    >>> wrong_referent("The US wanted Nato forces withdrawn.", c, lambda d: doc)
    True
    """
    doc = text_of(citation.doc)
    run = _sentence_run(doc, citation.start, citation.end, REACH)
    quoted = " ".join(doc[run[-1][0]:run[-1][1]].split()) if run else ""
    m = _PERSONAL.match(quoted)
    verb, after = m.group(1).lower().split() if m else ("", "")
    # the claim's copy of the words after the pronoun, its verb in any tense ("wanted" for "wants")
    root = min(stems(verb), key=len, default=verb)  # "want" for "wants"; a stopword ("is", "said") as written
    copy = re.search(rf"\s{re.escape(root)}\w*\s+{re.escape(after)}(?!\w)", claim.lower()) if m else None
    at = copy.start() if copy else -1
    names = key_terms(claim[:at]) if at > 0 else []
    if not names:
        return False
    for a, b in reversed(run[:-1]):
        sentence = " ".join(doc[a:b].split())
        if _PERSONAL.match(sentence):  # "She condemned …" before "She said …": further back
            continue
        verb = _VERB.search(sentence)
        pool = _pool(sentence[:verb.start()] if verb else sentence)
        return not all(k & pool for k in names)
    return False


# Words that report speech ("said", "told", "according to"; not "The French added to the population")
_SPEECH = re.compile(r"(?<![-\w])(?:said|says|saying|told|tells|stated|added(?!\s+(?:to|up)\b)|described|describing|"
                     r"repeated|reiterated|warned|insisted|argued|claimed|announced|noted|urged|replied|answered|"
                     r"responded|explained|spoke|speaking|condemned|criticised|criticized|according to)\b", re.I)
# Words of a question that asks who spoke or what someone said ("List the officials quoted", "Contrast what Denmark
# and Julianne Smith said", "Did Grushko and Peskov take the same tone?", "What did Sherman list as …?")
ASKS_SAID = re.compile(r"\b(?:say|says|said|saying|describe|described|describes|words|remarks?|comments?|commented|"
                       r"statements?|stated|quot(?:e|ed|es|ing)|told|tell|spoke|speak|speaking|tone|threat\w*|"
                       r"warn\w*|messages?|views?|stances?|listed|did\s+(?:\w+\s+){1,3}list)\b", re.I)
_QUOTATION = re.compile(r"[“\"][^“”\"\n]*[”\"]")
_PRONOUN_SUBJECT = re.compile(r"[\s,“”\"'‘’]*(?:(?:but|and|later)\s+)?(?:he|she|they)\b[\s,]*(?:\w+\s*)?$", re.I)
# Verbs a subject ends at that `_VERB` does not know: "Ms Sherman met Stefano Sannino" is about Sherman
_IRREGULAR = re.compile(r"\b(?:met|led|made|took|gave|held|went|came|saw|wrote|began|left|sent|brought|kept|found|"
                        r"won|lost|spent|paid|sought|chose|became|knew|ran|sat|stood|fought|built)\b")


# A question that asks who did something ("Who led …?", "… , and who said so?"): not a relative "who" ("the official
# who led"), nor who was done to or who someone is ("Who did Sherman meet?", "Who is Grushko?": "She met …" answers)
_ASKS_WHO = re.compile(r"(?:^|[,;]\s*(?:and\s+|but\s+)?)\s*who\b(?!\s+(?:did|does|do|is|was|are|were)\b)", re.I)
_OPENS_WITH_PRONOUN = re.compile(r"[\s“\"'‘]*(?:he|she|they)\b", re.I)


def unnamed(question: str, claim: str) -> bool:
    """A question that asks who, and a reply whose first claim has "he", "she" or "they" for its subject: the
    reply does not say who. To "Who condemned Russia's aggression, and what did she call unacceptable?" the
    1.5B wrote "The US condemned …" (withheld by the word test) and "She said that a further military incursion
    … would come with a severe cost …", true, quoted, and no answer to either part.

    >>> q = "Who condemned Russia's aggression, and what did she call unacceptable?"
    >>> unnamed(q, "She said an incursion would come with a severe cost."), unnamed(q, "Liz Truss condemned it.")
    (True, False)
    >>> [unnamed(q, "She said they were frank.") for q in ("What did the official who led the talks say?",
    ...                                                    "Who did Sherman meet?", "Who is Wendy Sherman?")]
    [False, False, False]
    """
    return bool(_ASKS_WHO.search(question)) and bool(_OPENS_WITH_PRONOUN.match(claim))


def asks_speakers(question: str, item: str) -> bool:
    """A list item that is a name ("Stefano Sannino"), given to a question that asks who spoke or was quoted."""
    return bool(ASKS_SAID.search(question)) and bool(NAME.fullmatch(item.strip(" .!?;,")))


def speakers(text: str) -> list[tuple[int, int, frozenset[str]]]:
    """Each sentence of text that reports speech, with the lower-cased words of whoever speaks in it: outside
    quotation marks, the subject before its first verb ("Wendy Sherman, the US deputy secretary of state who …",
    "“…,” Ms Smith said"), the agent of "described by Mr Stoltenberg", the words after a verb that ends its
    clause ("…,” said Mr Stoltenberg.") or after "according to"; a "he" or "she" is the named subject of the
    sentence before that had one ("He later said Moscow would …" after "Mr Grushko said …"); a quotation alone
    is the last speaker's. Where another verb comes first and the speech verb has a subject of its own ("The
    summit ended with diplomats saying …"), the sentence has no speaker it can name.

    >>> doc = "Ms Sherman met Stefano Sannino. “It is hard,” she said. The talks, described by Mr Stoltenberg as vital."
    >>> [(doc[a:b][:12], sorted(who)) for a, b, who in speakers(doc)]
    [('“It is hard,', ['ms', 'sherman']), ('The talks, d', ['mr', 'stoltenberg'])]
    >>> doc = "The French added to the population. “It grew,” Mr Weber added."
    >>> [(a, sorted(who)) for a, b, who in speakers(doc)]
    [(36, ['mr', 'weber'])]
    """
    return [(a, b, who) for a, b, who, _ in utterances(text) if who]


@lru_cache(maxsize=128)
def utterances(text: str) -> tuple[tuple[int, int, frozenset[str], str], ...]:
    """Each sentence that reports speech, with the names of its speaker (`speakers`) and the words that name or
    describe the speaker as the text writes them ("Wendy Sherman, the US deputy secretary of state who"; a "she"'s,
    those of whom she is); both empty where the speaker cannot be told. Read once per text: a question about what
    was said reads its documents' speakers for its sides, for one speaker and for who said it, and every
    question of a chat the same documents'."""
    out, referent, last = [], (frozenset(), ""), (frozenset(), "")
    blanked = _QUOTATION.sub(lambda m: " " * len(m.group()), text)  # a quotation may run over sentences
    for a, b in sentences(text):
        plain = blanked[a:b]
        if not plain.strip(" .,;:\n"):  # a quotation alone: the last speaker's, as news texts write them
            if last[0]:
                out.append((a, b, *last))
            continue  # (after no speaker: not told)
        m = _SPEECH.search(plain)
        verb = _first_verb(plain, m)
        subject = plain[:verb]
        named = (_names(subject, heads=True), subject)
        if not m:
            referent, last = named if named[0] else referent, (frozenset(), "")
            continue
        rest = re.split(r"[,;:.!?]", plain[m.end():], maxsplit=1)[0]
        if rest.split()[:1] == ["by"] or m.group().lower() == "according to":
            agent = " ".join(rest.split()[:4])
            who = (_names(agent), agent)
        elif not subject.strip(" ,“”\"'‘’"):
            who = (_names(rest), rest) if len(rest.split()) <= 4 else (frozenset(), "")
        elif verb < m.start() and not re.search(r"(?:,|\band|\balso)\s*$", plain[:m.start()]):
            who = (frozenset(), "")  # another verb's subject, a speaker of its own: "… ended with diplomats saying"
        elif _PRONOUN_SUBJECT.match(subject):
            who = referent
        else:
            who = named
        out.append((a, b, *who))
        referent, last = named if named[0] else referent, who
    return tuple(out)


def _first_verb(plain: str, speech) -> int:
    """Where a sentence's subject ends: its first verb (`_VERB`, `_IRREGULAR`, or the speech verb found), else
    its end."""
    return min((x.start() for x in (_VERB.search(plain), _IRREGULAR.search(plain), speech) if x), default=len(plain))


TITLES = ("Mr", "Mrs", "Ms", "Miss", "Dr", "Sir", "Dame")  # what a name may open with that names nobody
_TITLE = re.compile(rf"\b(?:{'|'.join(TITLES)})\b\.?\s*")


def unsaid(claim: str, citations: tuple[Citation, ...], text_of) -> bool:
    """The claim has someone say something ("The British prime minister condemned Russia's aggression", "Ms Smith
    said …") and no sentence it quotes, with the sentences back to whoever its "she" is, has a speaker the claim's
    words before its verb describe (`utterances`; a name by what it also goes by: "British" for "UK"). False where
    the claim's first verb does not report speech, or its subject is a pronoun or long. "What did the British prime
    minister say about Crimea?" was answered with Liz Truss's words, the UK Foreign Secretary's, shown (the answer
    check: P(yes) above its bar; no word of the claim missing from its quote but the subject's).

    >>> src = "Following the meeting, UK Foreign Secretary Liz Truss condemned Russia's aggression."
    >>> c = (Citation(1, "c", "d", 0, len(src), src),)
    >>> unsaid("The British prime minister condemned Russia's aggression.", c, lambda d: src)
    True
    >>> unsaid("The British foreign secretary condemned Russia's aggression.", c, lambda d: src)
    False
    >>> unsaid("Ms Truss condemned Russia's aggression.", c, lambda d: src)
    False
    >>> talks = "The talks, described by Mr Stoltenberg as “a defining moment”, were held in Brussels."
    >>> by = (Citation(1, "c", "d", 0, len(talks), talks),)
    >>> unsaid(talks, by, lambda d: talks), unsaid(talks.replace("Stoltenberg", "Grushko"), by, lambda d: talks)
    (False, True)
    """
    plain = _QUOTATION.sub(" ", without_yes_no(claim))
    m = _SPEECH.search(plain)
    speaks_first = m and _first_verb(plain, m) == m.start() and m.group().lower() != "according to"
    subject = plain[:m.start()] if speaks_first else ""
    after = re.split(r"[,;:.!?]", plain[m.end():], maxsplit=1)[0].split() if speaks_first else []
    if after[:1] == ["by"]:  # "The talks, described by Mr Stoltenberg as …": the agent speaks, as in `utterances`
        subject = " ".join(after[:4])
    if not stems(subject) or len(subject.split()) > 8 or _PRONOUN_SUBJECT.match(subject):
        return False
    subject = _TITLE.sub("", subject)  # "Mr Grushko" is not "Mr Stoltenberg"
    names = key_terms(subject)  # "Jens Stoltenberg" is "Mr Stoltenberg" (any word of a name), the rest each word
    roles = stems(subject) - _name_stems(subject)
    said = utterances(context(citations, text_of, REACH))
    if any(not by for *_, by in said):  # a speaker who cannot be told
        return False
    return not any(_holds(by, names) and roles <= stems(by) | _pool(by) for *_, by in said)


_PREPOSITION = re.compile(r"\b(?:to|of|for|in|at|from|with|on|about|over|regarding|against)\s+(?:the\s+)?$", re.I)


def _names(text: str, heads: bool = False) -> frozenset[str]:
    """The lower-cased words of the names in text (`NAME`), but a stopword that opens one ("But", "The");
    `heads`, and not a name a preposition governs: "Julianne Smith, the US ambassador to Nato" is Smith speaking
    (and the US), not Nato."""
    return frozenset(w.lower() for n in NAME.finditer(text) if not (heads and is_governed(text, n.start()))
                     for i, w in enumerate(_WORD.findall(n.group())) if i or w.lower() not in STOP)


def is_governed(text: str, at: int) -> bool:
    """The word at text[at:] follows a preposition ("… about Nato membership", "… ambassador to Nato")."""
    return bool(_PREPOSITION.search(text[:at]))


def speaks(name: str, text: str) -> bool:
    """Whether `text` (a run of source sentences, as `context` gives them) has `name` say something (`speakers`):
    "Ms Sherman also met with … Stefano Sannino in Brussels" names Sannino but has him say nothing. A list of the
    officials quoted is not answered by his name, which the model reading that sentence lets through (P(yes)
    0.80, the officials quoted 0.81-0.87).

    >>> speaks("Liz Truss", "Following the meeting, UK Foreign Secretary Liz Truss said it was unacceptable.")
    True
    >>> speaks("Stefano Sannino", "Ms Sherman also met with secretary-general Stefano Sannino in Brussels.")
    False
    >>> speaks("Wendy Sherman", "Wendy Sherman led it. “It is very hard,” she said.")
    True
    >>> speaks("Ms Truss", "“It is critical,” Ms Truss said."), speaks("Nato", "“Nato is united,” she said.")
    (True, False)
    >>> speaks("Ukraine", "Liz Truss reiterated support for Ukraine’s sovereignty, and said it was unacceptable.")
    False
    """
    last = re.sub(r"[’']s$", "", name.strip(" .!?;,").split()[-1]).lower()
    return any(last in who for _, _, who in speakers(text))


def _refers_back(doc: str, start: int) -> bool:
    """The sentence at doc[start:] needs the one before it to say who it is about: it opens
    with "she" or "this", or with a short phrase of time or place before a pronoun subject
    ("From 2000 to 2007 it killed 542 people", after "Hamas has continued …"), or it opens with a
    quotation mark ("“The deal is a milestone.”" after "She praised the port."): a news text names
    a quote's speaker before it.

    >>> [_refers_back(t, 0) for t in ("From 2000 to 2007 it killed 542 people.", "After the battle, they left.",
    ...                               "In the January 2006 election it won.", "In 1066 William invaded.")]
    [True, True, False, False]
    """
    return bool(_PRONOUN.match(doc, start) or _OPEN_QUOTE.match(doc, start) or _OPENING_PRONOUN.match(doc, start))


def context(citations: tuple[Citation, ...], text_of, reach: int = 1, ahead: bool = False) -> str:
    """The source sentences that hold the quotes, in citation order, each once; a
    sentence that opens with a pronoun ("She said ...") brings the one before it,
    so the checker can tell who "she" is, and that one the one before it if it too
    opens with a pronoun, up to `reach` sentences back; `ahead`, and the sentence after
    the last, where it carries on in the same paragraph ("But a storm dispersed the fleet.")."""
    out: list[str] = []
    for c in citations:
        doc = text_of(c.doc)
        for x, y in _sentence_run(doc, c.start, c.end, reach, ahead):
            s = " ".join(doc[x:y].split())
            if s not in out:
                out.append(s)
    return " ".join(out)


def _sentence_run(doc: str, start: int, end: int, reach: int, ahead: bool = False) -> list[tuple[int, int]]:
    """The spans of the sentences holding doc[start:end], each that opens with a pronoun or a
    quotation (`_refers_back`) preceded by the one before it, up to `reach` sentences back
    (`context`); `ahead`, and then the sentence after the last, where it opens with a word that
    carries that one on (`_CARRIES_ON`: "These included …", "But …") with no line break between."""
    spans = sentences(doc, max(0, start - 400 * reach - 600), min(len(doc), end + 1000))
    out: list[tuple[int, int]] = []
    last = -1
    for i, (a, b) in enumerate(spans):
        if a < end and start < b:
            k = i
            while k and i - k < reach and _refers_back(doc, spans[k][0]):
                k -= 1
            out += [span for span in spans[k:i + 1] if span not in out]
            last = i
    if ahead and 0 <= last < len(spans) - 1:
        (_, b), (a, _) = spans[last], spans[last + 1]
        if "\n" not in doc[b:a] and _CARRIES_ON.match(doc, a):
            out.append(spans[last + 1])
    return out


def _covered(claim, claim_text, found, passages, question, text_of) -> bool:
    """Most of the claim's words are in one quoted source sentence, the claim says
    more than the question, one cited passage holds every name and number of the
    claim and of the question, and the quoted sentence that supports the claim (with
    the sentences back to whoever a "she" is) holds every name and number of the
    claim: an answer about someone the passage never mentions, or that stitches a name
    from one sentence to a role or a number from another ("The US ambassador is Wendy
    Sherman"), is not an answer; nor is one whose only support drops a quote's "deputy" or "not"
    (`best_quote` passes such quotes over). A name may be found as what it also goes by (`_pool`:
    "British" in "UK")."""
    if not found or max(q[0] for _, q in found) < MIN_SUPPORT:  # most of it, from one source sentence
        return False
    if not claim - stems(question):  # "The delegation was led." to "Who led the delegation?"
        return False                        # only restates the question: it answers nothing
    said = claim_terms(claim_text, question, " ".join(p.chunk.text for p in passages))
    asked = key_terms(question, initial=False)
    sentences_of = {n: context((Citation(n, passages[n - 1].chunk.id, passages[n - 1].chunk.doc, s, e, ""),),
                               text_of, REACH) for n, (_, s, e, _) in found}
    # the passage, with the sentence that says who "he" is when the quote opens with "He claimed ...", and
    # for a passage cut to its best sentences the chunk it was cut from, which held the question's names
    if not any(_holds(passages[n - 1].chunk.text + " " + sentence, said)
               and _holds(" ".join((passages[n - 1].chunk.text, passages[n - 1].context, sentence)), asked)
               for n, sentence in sentences_of.items()):
        return False
    return any(_holds(sentences_of[n], said) for n, q in found if q[0] >= MIN_SUPPORT)


_CALENDAR = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
                       "february", "march", "april", "may", "june", "july", "august", "september", "october",
                       "november", "december"})  # capitalised, and no one who does anything
# words after which the next name back is not who does what follows ("… in illegally annexed Crimea")
_NO_DOER = frozenset({"he", "she", "it", "they", "we", "i", "you", "who", "which", "that", "in", "on", "of", "to",
                      "for", "from", "with", "at", "by", "about", "over", "against", "into", "than", "as", "between",
                      "after", "before", "during", "near"})
_CLAUSE_BREAK = re.compile(r"[,;:()\[\]“”\"—–]")
DOER_REACH = 2  # content words that may stand between a doer and what it does ("the US bringing nothing new")


def _doer_words(text: str) -> list[tuple[int, int, str, str, frozenset[str]]]:
    """(start, end, word, stem, the forms of the name it is part of, empty if none) for each word of `text`. A
    sentence's first word alone is no name unless the text writes it capitalised further on ("Nuclear power …")."""
    names = []
    for m in NAME.finditer(text):
        if not text[:m.start()].strip(" “\"'‘") and " " not in m.group() and not re.search(
                rf"\S\s+{re.escape(m.group())}\b", text):
            continue
        if any(w.lower() not in STOP and w.lower() not in _CALENDAR for w in _WORD.findall(m.group())):
            names.append((m.start(), m.end(), frozenset(name_forms(m.group()))))
    out = []
    for w in _WORD.finditer(text):
        forms = next((f for a, b, f in names if a <= w.start() < b), frozenset())
        out.append((w.start(), w.end(), w.group().lower(), stem(w.group().lower()), forms))
    return out


def _doer(words, text: str, i: int) -> frozenset[str]:
    """The forms of the name that does what word i begins: the nearest name before it in its clause with one or two
    content words (its verb) between, and no pronoun or preposition; empty where there is none."""
    between = 0
    for j in range(i - 1, -1, -1):
        if _CLAUSE_BREAK.search(text[words[j][1]:words[j + 1][0]]):
            return frozenset()
        word, forms = words[j][2], words[j][4]
        if forms:
            return forms if between else frozenset()  # "Nato offered Russia areas": no verb between, no doer
        if word in _NO_DOER:
            return frozenset()
        if word not in STOP:
            between += 1
            if between > DOER_REACH:
                return frozenset()
    return frozenset()


def swapped_doer(claim: str, source: str) -> bool:
    """Two words the claim and its source sentence both have, one after the other, done by one named doer in the
    claim and by another in the source: "… with the US bringing nothing new", quoted from "Wendy Sherman, the US
    deputy secretary of state …, said Russia brought nothing new" (shown in session 26: the word test and the
    entailment reading both passed it). Names are compared by what they go by (`name_forms`: "Washington" is the US).

    >>> src = "Wendy Sherman, the US deputy secretary of state, said Russia brought nothing new to the talks."
    >>> swapped_doer("The US and Russia differed, with the US bringing nothing new.", src)
    True
    >>> [swapped_doer(c, src) for c in ("Sherman said Russia brought nothing new.", "Moscow brought nothing new.",
    ...                                  "Nato offered Russia nothing new.")]
    [False, False, False]
    """
    c, q = _doer_words(claim), _doer_words(source)
    cc, qc = [i for i, w in enumerate(c) if w[2] not in STOP], [i for i, w in enumerate(q) if w[2] not in STOP]
    first: dict[tuple[str, str], int] = {}
    for x, y in zip(qc, qc[1:]):
        if not (q[x][4] or q[y][4]):
            first.setdefault((q[x][3], q[y][3]), x)
    for x, y in zip(cc, cc[1:]):
        j = None if c[x][4] or c[y][4] else first.get((c[x][3], c[y][3]))
        if j is not None:
            mine, theirs = _doer(c, claim, x), _doer(q, source, j)
            if mine and theirs and not mine & theirs:
                return True
    return False


def _holds(text: str, keys: list[frozenset[str]]) -> bool:
    """Every name and number in `keys` is in `text` (its pool built once, not once per key)."""
    pool = _pool(text)
    return all(k & pool for k in keys)


def _drops_qualifier(claim_text: str, quote: str) -> bool:
    """The quote qualifies a word the claim repeats bare: "deputy foreign minister Alexander Grushko"
    quoted for "Alexander Grushko is Russia's foreign minister", "not easy" for "easy".

    >>> _drops_qualifier("Grushko is the foreign minister.", "deputy foreign minister Alexander Grushko")
    True
    >>> _drops_qualifier("He said it wasn't easy.", "it was not easy")
    False
    """
    said = {w.lower() for w in _WORD.findall(claim_text)}
    if re.search(r"n['’]t\b", claim_text):
        said.add("not")
    words = [w.lower() for w in _WORD.findall(quote)]
    return any(w in _QUALIFIERS and w not in said and nxt in said and nxt not in STOP
               for w, nxt in zip(words, words[1:]))


def _pool(text: str) -> set[str]:
    """The words, acronyms and numbers a name or number of an answer is looked up in, with
    what they also go by: "UK" brings "British", "European Union" brings "^eu".

    >>> sorted(_pool("the European Union and Moscow") & {"^eu", "russia", "british"})
    ['^eu', 'russia']
    >>> [k & _pool("descended from a Pierre d'Aulps") != set() for k in key_terms("Pierre d'Aulps")]
    [True, True]
    """
    words = set(tokens(text))
    found = (words | {w.split("'")[-1] for w in words if "'" in w}  # "d'Aulps" holds the name "Aulps"
             | {"^" + w.lower() for w in _CAPITALISED.findall(text)} | {x.strip(",.") for x in _NUMBER.findall(text)}
             | {_NUMBER_WORDS[w] for w in words if w in _NUMBER_WORDS})  # "four" centres hold the number 4
    for m in NAME.finditer(text):
        found |= _initials(m.group().split()) | {_name_form(t) for t in tokens(m.group())}
    for m in _LONG_NAME.finditer(text):  # "Organisation for Security and Co-operation in Europe" is "OSCE"
        caps = [w[0].lower() for w in re.split(r"[\s-]+", m.group()) if w[:1].isupper()][:8]
        # where the name ends is not known ("... in Europe on Thursday"): each run of three or more (two-letter
        # initials are a NAME's own: "United States", not the "Union Summit" of "European Union Summit")
        found |= {"^" + "".join(caps[i:j]) for i in range(len(caps)) for j in range(i + 3, len(caps) + 1)}
    return found | {alias for name in found for alias in _ALIAS_OF.get(name, ())}


def name_forms(text: str) -> set[str]:
    """The forms of the names in `text` (`_pool`, without its plain words and numbers): what a text that names the
    same must hold one of. "Russian" goes by "Moscow", "US" by "American", "European Union" by "^eu".

    >>> sorted(name_forms("the Russian")  & {"moscow", "russia"}), bool(name_forms("US") & name_forms("the American"))
    (['moscow', 'russia'], True)
    >>> bool(name_forms("EU") & name_forms("the European Union")), name_forms("the talks")
    (True, set())
    >>> "^osce" in name_forms("a meeting of the Organisation for Security and Co-operation in Europe")
    True
    """
    words = {w for m in NAME.finditer(text) if m.group().lower() not in STOP for w in tokens(m.group())}
    return {f for f in _pool(text) if f[:1] in "^=~" or f in words or f in _ALIAS_OF} if words else set()


def is_country(forms: set[str]) -> bool:
    """Some of a name's forms (`name_forms`) are a country's (places.tsv).

    >>> is_country(name_forms("the Kremlin")), is_country(name_forms("Washington")), is_country(name_forms("Sannino"))
    (True, True, False)
    """
    return any(f in _ALIAS_OF for f in forms)


_DERIVED = re.compile(r"(?:ian|ean|an|ese|ish|ic)$")


def _name_form(word: str, sought: bool = False) -> str:
    """A name's word as its root, marked as derived ("~": "Galilean", "Russian", "Japanese") or plain
    ("=": "Galileo", "Russia", "Japan"); with `sought`, the form of the other kind, which is what a text
    must hold: a question about Galileo is answered by "a Galilean transformation", one about Russian
    officials by a sentence about Russia. Two plain names ("Daniel", "Daniela") are not one name.

    >>> _name_form("galilean"), _name_form("galileo", sought=True), _name_form("hungary"), _name_form("hungarian", True)
    ('~galil', '~galil', '=hungar', '=hungar')
    """
    root = _DERIVED.sub("", word)
    derived = len(root) >= 4 and root != word
    root = (root if derived else word).rstrip("aeiouy") or word
    return ("~" if derived != sought else "=") + root


# A name whose initials leave out the small words inside it as well ("and", "for", "in"); a hyphenated
# word gives an initial per capitalised part ("Co-operation": "C")
_LONG_NAME = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:(?:of|the|for|and|in|on|de|du|des|la|le)\s+)*[A-Z][\w’'-]*)+")


def _initials(words: list[str]) -> set[str]:
    """A multi-word name's initials as an all-capitals name: "European Union" -> {"^eu"}."""
    words = [w for w in words if w.lower() not in _CONNECTOR]  # "The European Union" -> "^eu"
    return {"^" + "".join(w[0] for w in words).lower()} if len(words) > 1 else set()
