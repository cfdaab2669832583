"""The checks a verified reply passes before it is shown: a table of small named steps, folded in order
by `api.Pipeline.stream`. Each step has one signature,

    step(pipe, question, kind, verified, seen) -> None (not for this reply)
                                                | run: () -> bool (the answer stands) or a narrower Verified

and its name is the chat's Stage, the timing key (`<name>_s`) and the stage `qa eval` names when it withholds
an answer (metrics.STAGES). Adding, removing or reordering a check is one line of CHECKS.

`seen` is what the steps share: the passages the model read ("passages", which the citations number) and
what a step found that the Answer reports (the answer check's P(yes): "support").
"""
from __future__ import annotations

import re

from . import check, cite, documents, kinds, prompts
from .chunk import sentences


def _kept(v, keep: list[bool], partial: bool = True):
    """A step's verdict from which claims stand (in the order of `cite.claims`): all, the answer stands; some,
    and a reply that may show part of itself (kinds.Kind.partial), the reply narrowed to them; else withheld."""
    return all(keep) or (partial and any(keep) and cite.keep_sentences(v, keep))


def premise(pipe, q, kind, v, seen):
    """The question says a word its quoted sentences do not, and they say one that excludes it (`cite.opposed`):
    "The SNP gave how many seats to Labour?" is not answered by "The SNP took 16 seats from Labour", nor "Where
    did Marin build his first fort?" by "Marin constructed a second fort at Fort Le Boeuf". No model pass (the
    answer check let both through, P(yes) 0.93 and 0.57). A claim quoted from such sentences goes (a summary's
    or a list's others stay: kinds.Kind.partial). Not for a yes/no question, which may rightly be answered No
    by them ("Did Russia win?" by "Russia lost"), a comparison, or a choice between what the question names
    ("Which is more costly, formal or informal rule?" by "informal rule is less costly")."""
    if kind.polarity or kind.name == "compare" or re.search(r"\bor\b", q, re.I):
        return None
    keep = [not cite.opposed(q, cites, documents.text_of, claim) for claim, cites in cite.claims(v)]
    if all(keep):
        return None
    return lambda: _kept(v, keep, kind.partial)


def speaker(pipe, q, kind, v, seen):
    """A claim that has someone say something ("The British prime minister condemned …") must quote a sentence in
    which the one it describes speaks (`cite.unsaid`): "What did the British prime minister say about Crimea?"
    was answered with the words of Liz Truss, the UK Foreign Secretary, cited and shown (the answer check let it
    through). No model pass. The claim goes (a summary's or a comparison's others stay: kinds.Kind.partial).
    Replayed on the dev answers (article, user-style, corpus, Normans: 206 shown claims) it withheld that one.
    And a reply to a question that asks who, whose first claim's subject is "she", "he" or "they", names
    no one, and is withheld (`cite.unnamed`, session 24)."""
    found = cite.claims(v)
    if found and cite.unnamed(q, found[0][0]):
        return lambda: False
    keep = [not cite.unsaid(claim, cites, documents.text_of) for claim, cites in found]
    if all(keep):
        return None
    return lambda: _kept(v, keep, kind.partial)


def elsewhere(pipe, q, kind, v, seen):
    """A fact or a reason answered from the wrong sentence: another sentence of the documents holds the question's
    words its quoted sentences lack (two at least) and more of the question's words than they do (`cite.elsewhere`):
    "What did Smith say Washington would not allow anyone to do?" answered with her "push back on proposals from
    Russia “that are simply non-starters”" (the answer check said 0.63), where "“We will not allow anyone to slam
    Nato's open-door policy shut,” Ms Smith said". Withheld, with no model pass; what follows a withheld reply
    then has its turn (that speaker's own sentence nearest the question, api._spoken_instead; in a collection, a
    second chance on another passage, config.retry). On the 180 answer checks logged on the dev sets (article,
    facts2, corpus) it finds 6 such sentences: 4 replies it withholds lacked the gold answer their other sentence
    held (one an unanswerable question's that passed the answer check at 0.77, which the confirming reading then
    withheld, 3 model passes later), 2 were withheld already, and no right answer is among them."""
    if not kind.one_answer:
        return None
    quoted = check.read(v.citations, documents.text_of)
    docs = [documents.text_of(d) for d in dict.fromkeys(p.chunk.doc for p in seen.get("passages", ()))]
    if not cite.elsewhere(q, quoted, docs):
        return None
    return lambda: False


_WHY = re.compile(r"\W*why\b", re.I)  # a reason asked: a sentence may state all the question asks and not why


def answer_check(pipe, q, kind, v, seen):
    """Do the quoted sentences answer this question? (check.py; config.min_support 0 turns it off; a second
    chance's reply, api.Pipeline._retry_passage, must reach the higher bar it sets in seen["min_support"])

    A negative answer to a fact or a how (not a why, whose reason a sentence may lack while stating all else
    the question asks) passes from the lower bar config.stated_support where its quoted sentences state every
    word of the question (`cite.states_question`) and negate something, the question itself not negated: the
    model doubts an answer that is a negative one ("How did the talks in Geneva end?" by "Those talks in Geneva
    ended with no breakthrough", 0.48; "What did Sherman say Russia brought to the talks?" by "… said Russia
    brought nothing new …", 0.49), and a sentence that holds the whole question and more is about it. On the 180
    answer checks logged on the dev sets (article, facts2, corpus), those two were the only ones between 0.40
    and 0.55 to pass so; below 0.40, or with the question negated (SQuAD's "What does sleep have no effect on?",
    0.45), none. Without the negation asked of the sentences, corpus dev's "What was the belief that
    maintaining motion required force?" (0.49; its answer, "A fundamental error", is the sentence's subject)
    was shown as the tautology "The belief … was that a force is required to maintain motion"."""
    if pipe.config.min_support <= 0:
        return None

    def run() -> bool:
        seen["support"] = check.support(pipe.checker, q, v.citations, documents.text_of)
        if seen["support"] >= seen.get("min_support", pipe.config.min_support):
            return True
        if "min_support" in seen or kind.name not in ("fact", "why") or _WHY.match(q) or cite.negations(q):
            return False
        read = check.read(v.citations, documents.text_of)
        return (seen["support"] >= pipe.config.stated_support and bool(cite.negations(read))
                and cite.states_question(read, q))
    return run


def agree(pipe, q, kind, v, seen):
    """A fact or a reason (kinds.Kind.one_answer): asked for the shortest phrase that answers the question,
    copied from the sentences the answer check read, the model must name something the reply holds, where it
    copies that phrase from the quoted sentences themselves (`cite.holds_phrase`). The citation check vouches
    that the reply's words are in its quote, and the answer check that the quote answers the question, not
    that the reply took the answer the quote gives: "The Presiding Officer is responsible for operating the
    voting equipment", quoted from "A vote clerk sits in front of the Presiding Officer and operates the
    electronic voting equipment" (P(yes) 0.90), is withheld when the phrase is "Vote clerk". Its prompt opens
    as the answer check's, whose evaluated tokens llama.cpp reuses. On config.agree, with the answer check;
    not asked of a reply that holds every word of its quoted sentences the question lacks (`cite.says_all`)."""
    if not (pipe.config.agree and pipe.config.min_support > 0 and kind.one_answer):
        return None
    quoted = cite.context(v.citations, documents.text_of, reach=0)
    if cite.says_all(v.text, quoted, q):  # no phrase from its quoted sentences can name what it lacks
        return None

    def run() -> bool:
        text = check.read(v.citations, documents.text_of)
        phrase = "".join(pipe.checker.stream(prompts.shortest_messages(text, q), 24)).strip()
        return cite.holds_phrase(v.text, phrase.splitlines()[0] if phrase else "", q, quoted, text)
    return run


def entailment(pipe, q, kind, v, seen):
    """Claims the word test cannot vouch for (a name its sources lack, a "not" its quote lacks, words its
    sources lack, several sources stitched together, a reason linked: cite.disputed) stand only if the model
    reads one source as stating them. A reply of one answer (a fact, a yes/no, a reason) is withheld when one
    of its claims does not stand; a summary, list, comparison or two-part reply (kinds.Kind.partial) shows
    the claims that do ("Stoltenberg described the talks as a heart-to-heart", quoted from Grushko, goes;
    Grushko's own description stays)."""
    disputed = cite.disputed(v, documents.text_of, kind.one_source, q, kind.polarity)
    if not disputed:
        return None

    def stands(claim: str, sources: list[str], bar: float) -> bool:
        return any(pipe.checker.yes_probability(prompts.entail_messages(source, claim)) >= bar for source in sources)

    if not kind.partial:
        return lambda: all(stands(*d) for d in disputed)

    def run():  # a summary, list, comparison or two-part reply keeps the claims that stand
        n = len(cite.claims(v))
        return _kept(v, [all(stands(*d) for d in cite.disputed(cite.keep_sentences(v, [j == i for j in range(n)]),
                                                               documents.text_of, kind.one_source, q)) for i in range(n)])
    return run


def polarity(pipe, q, kind, v, seen):
    """A yes/no reply: the quoted sentences, read alone, must give the same Yes or No. Where the claim negates
    what the question asks and the question is not negated, the claim's own words decide, with no model pass
    (its negation already had to match its quote's, by the word test or the entailment step; the model, asked
    such a question of "said Russia brought nothing new", answered yes and withheld a right answer):
    - a No stands ("No, Russia brought nothing new" to "Did Russia bring anything new?");
    - a Yes before a claim that is the question's statement negated (`cite.negates_question`) contradicts
      itself, and the claim wins: "Yes, Russia does not have a veto" to "Does Russia have a veto?" is shown as
      "No, Russia does not have a veto" (the model, asked of "Russia doesn't have a veto", had said yes too);
    - any other Yes before a negated claim is withheld ("Yes, Russia would not accept less than guarantees" to
      "Did Russia insist on guarantees?": whether that is a No is not plain).
    A negation that reaches none of the question's words ("Yes, the talks ended without a breakthrough" to
    "Did the talks end?") leaves the reply to the model's reading. Where that reading differs, the reply is
    withheld, but for a No before a claim that states every word of the question with no negation on either
    side, which the reading's Yes confirms: that is shown as a Yes. A negation that reaches only the question's
    names, in a claim that says none of its other words, denies something else of them (`cite.denies_asked`),
    and the reply is withheld with no model pass: "No, Peskov repeated Russia's denials … that it intends to
    invade Ukraine" to "Was Russia negotiating from a position of strength, according to Peskov?" (session 33;
    the answer check had given it 0.60)."""
    said = kinds.polarity_of(v.text) if kind.polarity else ""
    if not said:
        return None
    claim = cite.without_yes_no(cite.claims(v)[0][0])
    if not cite.negations(q) and cite.denies_asked(claim, q) is False:
        return lambda: False  # it denies something else of the question's names, and says nothing it asks
    denied = cite.negated(claim, cite.stems(q))
    if denied and not cite.negations(q):
        if said == "no":
            return None
        return (lambda: cite.with_yes_no(v, "No")) if cite.negates_question(claim, q) else (lambda: False)
    text = cite.context(v.citations, documents.text_of, cite.REACH)
    # a No before a claim that states every word of the question, with no negation on either side
    affirms = said == "no" and not cite.negations(claim) and not cite.negations(q) and cite.states_question(claim, q)

    def run():
        reads_yes = pipe.checker.yes_probability(prompts.polarity_messages(text, q)) >= 0.5
        if reads_yes == (said == "yes"):
            return True
        # the claim's words and the reading of its quote agree on a Yes: "No, the OSCE meeting will continue …
        # on Thursday" to "Will there be an OSCE meeting?" is shown as "Yes, …"
        return cite.with_yes_no(v, "Yes") if reads_yes and affirms else False
    return run


# P(yes) a list item needs to be read as one of the things asked for: the one dev list with wrong items (the
# officials quoted, nato_user_dev) had its 8 right items at 0.80-0.87 and its 3 wrong ones at 0.65-0.71
ITEM_BAR = 0.75
# P(yes) under which a list item, asked alone, is read as not a thing of the kind asked for (kinds.item_type): low,
# to drop only what the model is sure of ("Is Nato a country?" 0.11, "Is the Nato-Russia Council a country?" 0.08;
# Crimea 0.47, the Baltic states 0.72, and every country named in the article 0.95-0.98)
TYPE_BAR = 0.3
# P(yes) from which an item asked alone is surely of the kind asked for, so that where the question asks only what
# the text mentions it stands without the reading against its text. Asked of the article's names (session 25): the
# right kind 0.87-0.99 (but "Denmark's delegation to Nato" as an organisation, 0.59); people as organisations
# 0.16-0.59, countries as organisations 0.56-0.86, organisations as people 0.04-0.43; but cities as countries 0.87-0.94
KIND_BAR = 0.85


def items(pipe, q, kind, v, seen):
    """A list reply: each item must be one of the things the question asks for, read against its quoted
    sentences. The citation check vouches that an item is in the source, not that it is a country or a
    person quoted ("Nato" listed as a country); items the model does not read as answers are dropped,
    and a list with none left is withheld. A name given to a question that asks who spoke or was quoted
    must say something in its quoted sentences (`cite.speaks`), which the model does not read: it let
    "Stefano Sannino", whom Ms Sherman met, through among the officials quoted (P(yes) 0.80). Where the
    question asks only what the text mentions (`kinds.asks_mentioned`) and the kind of thing is one the model
    knows alone (`kinds.item_type`), an item the model, asked alone, is sure is of that kind (KIND_BAR) stands on
    its quote: read against "Jens Stoltenberg said 'Russia doesn't have a veto'", Russia got P(yes) 0.71 as a
    country mentioned, and the chat withheld "Which countries are mentioned in the article?" whole (session 24).
    An item less sure is read against its text as any other: at session 24's TYPE_BAR, Stefano Sannino, Wendy
    Sherman, Dmitry Peskov and Josep Borrell were shown as "the organisations mentioned in the article" (session 25)."""
    listed = cite.claims(v) if kind.items else []
    if not listed:
        return None

    noun = kinds.item_type(q)
    mentioned = bool(kinds.mentioned_type(q))  # asked only what the text mentions, of a known kind

    def stands(claim, cites) -> bool:
        text = cite.context(cites, documents.text_of, cite.REACH)
        if cite.asks_speakers(q, claim) and not cite.speaks(claim, text):
            return False  # a name asked for as one who spoke, quoted where it says nothing: no model pass
        item = claim.rstrip(".!?;, ")
        sure = pipe.checker.yes_probability(prompts.is_a_messages(item, noun)) if noun else 1.0
        if sure < TYPE_BAR:
            return False  # not a thing of the kind asked for, whatever its text says
        if mentioned and sure >= KIND_BAR:
            return True  # surely of the kind, and the quote the word test vouched for says the text mentions it
        return pipe.checker.yes_probability(prompts.item_messages(text, q, item)) >= ITEM_BAR

    def run():
        return _kept(v, [bool(cites) and stands(claim, cites) for claim, cites in listed])
    return run


def confirm(pipe, q, kind, v, seen):
    """A set not read whole asks the question again on the quoted sentences alone: a reply built on passages
    that do not answer it often falls apart there ("The documents don't say.", or a claim they lack). Not for
    an answer the answer check was sure of (config.confirm_below): on corpus dev this reading withheld 8 of the
    77 answers it read, none with P(yes) above 0.82, and the 25 at 0.85 or more cost a model pass each for
    nothing. Unlike the answer check, it does not read the sentence after that carries a quote on: replayed on
    corpus dev's 54 readings, with it 1 more right answer stood, and 3 wrong ones (2 to unanswerable
    questions), and 2 right ones fell."""
    if not pipe.config.confirm or pipe.whole or seen.get("support", 0.0) >= pipe.config.confirm_below:
        return None

    def run() -> bool:
        ground = cite.quoted(v.citations, documents.text_of, seen.get("passages", ()))
        again = "".join(pipe.generator.stream(prompts.answer_messages(q, ground, kind.instruction, documents.title),
                                              kind.max_tokens or pipe.config.max_tokens, prompts.NOT_FIRST))
        return not cite.verify(prompts.MARKER.sub("", again), ground, documents.text_of, q).abstained
    return run


# P(yes) under which the entailment prompt reads a sentence as denying what a reply's Yes asserted (`denied`)
DENIED_BAR = 0.5


def denied(pipe, q, kind, raw: str, passages):
    """A yes/no question whose reply was withheld: where a source sentence says No in words (`cite.denials`: a
    negating word, a word that excludes one of the question's, "before" for its "after"), the answer is that No
    with the sentence itself, verbatim, if the model reads it so:
    - after a Yes, where the model, asked whether that sentence states the reply's claim, reads no (prompts.ENTAIL,
      which watches for negation and who said what): "No: Kremlin spokesman Dmitry Peskov … repeated Russia's
      denials on Wednesday that it intends to invade Ukraine [17]." to "Did Russia say it intends to invade
      Ukraine?", which the 1.5B answers Yes, citing that sentence, and the entailment step withholds;
    - after a reply that says No itself (a No, or a Yes before a claim whose negating word reaches what the
      question asks: `cite.denies_asked`), where the answer check reads the sentence as answering the question:
      "Yes, Jens Stoltenberg said Russia doesn't have a veto on which country can join Nato" to "Did Stoltenberg
      say Russia can veto who joins Nato?" is "No: Jens Stoltenberg said 'Russia doesn't have a veto' on which
      country can join Nato [3]." (session 33: on 7 dev questions of this kind the sentences found were all
      right Nos, answer check P(yes) 0.70-0.96; the polarity reading, asked of them, said yes for 5 of 7).
    Neither the words nor the model alone decide: the words find where the No may be, the model reads it. None
    where no sentence is found (no model pass); else a run that reads the first two found and returns the No (a
    Verified), or None where the model reads none as one."""
    if not kind.polarity or pipe.config.min_support <= 0 or not (said := kinds.polarity_of(raw)):
        return None
    reply = prompts.MARKER.sub("", raw).strip()
    claim = cite.without_yes_no(reply[slice(*sentences(reply)[0])])
    says_no = said == "no" or cite.denies_asked(claim, q) is True
    # a No: the question's own statement is what the sentence must deny; a Yes: the claim that asserted it (for a
    # negated question cite.denials finds nothing, with no model pass)
    found = cite.denials(q, q if says_no else claim, passages, documents.text_of)[:2]
    if not found:
        return None

    def reads_no(c) -> bool:
        if says_no:
            return check.support(pipe.checker, q, (c,), documents.text_of) >= pipe.config.min_support
        around = cite.context((c,), documents.text_of, cite.REACH)
        return pipe.checker.yes_probability(prompts.entail_messages(around, claim)) < DENIED_BAR

    def run() -> cite.Verified | None:
        for c in found:
            if reads_no(c):
                quote = " ".join(c.quote.split()).rstrip(".!?;, ")
                return cite.Verified(f"No: {quote} [{c.n}].", (c,), False)
        return None
    return run


# (name, step), in the order they run; the first that does not let the answer stand withholds it
CHECKS = (("premise", premise), ("speaker", speaker), ("elsewhere", elsewhere), ("check", answer_check),
          ("agree", agree), ("entail", entailment), ("polarity", polarity), ("items", items), ("confirm", confirm))
NAMES = tuple(name for name, _ in CHECKS)
