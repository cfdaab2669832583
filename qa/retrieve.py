"""Hybrid retrieval: BM25 over words and dense FAISS search, fused by reciprocal rank.

    retriever = Retriever(index, embedder)
    retriever.search("Who led the American delegation?", k=4)  # -> [Passage, ...] best first
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import replace

import numpy as np

from .types import Passage

STOP = frozenset("""a an the and or but if of to in on at by for with from as is are was were be been being
do does did has have had it its this that these those there their they them he she his her him we our you
your i me my what which who whom whose when where why how than then so not no nor into about over after
before also would could should will shall may might can said says say""".split())
RRF_K = 60  # the usual reciprocal-rank constant: 1 / (60 + rank)
RANK_PRIOR = 0.02  # best_sentences: cosine taken off a sentence per rank of the passage it came from
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


def tokens(text: str) -> list[str]:
    """Lower-cased content words, possessives and plural s folded.

    >>> tokens("Russia's troops were near Ukraine")
    ['russia', 'troop', 'near', 'ukraine']
    """
    out = []
    for w in _WORD.findall(text.lower()):
        w = re.sub(r"['’]s$", "", w).replace("’", "'")
        if w in STOP:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


class BM25:
    """Okapi BM25 over an inverted index whose per-posting weights are computed
    once at build time, so a query is a few numpy additions (fast at 100k chunks)."""

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75):
        self.n = len(texts)
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)  # term -> [(chunk, tf)]
        lengths = np.zeros(self.n, dtype="float32")
        for i, t in enumerate(texts):
            toks = tokens(t)
            lengths[i] = len(toks)
            for term, tf in Counter(toks).items():
                postings[term].append((i, tf))
        norm = k1 * (1 - b + b * lengths / max(1e-9, float(lengths.mean()) if self.n else 1.0))
        self.weights: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # term -> (chunk ids, bm25 weights)
        for term, post in postings.items():
            ids = np.array([d for d, _ in post], dtype=np.int64)
            tf = np.array([f for _, f in post], dtype=np.float32)
            idf = math.log(1 + (self.n - len(post) + 0.5) / (len(post) + 0.5))
            self.weights[term] = (ids, (idf * tf * (k1 + 1) / (tf + norm[ids])).astype(np.float32))

    def scores(self, query: str) -> np.ndarray:  # (n,)
        out = np.zeros(self.n, dtype="float32")
        for term in set(tokens(query)):
            if term in self.weights:
                ids, w = self.weights[term]
                out[ids] += w
        return out


class Retriever:
    def __init__(self, index, embedder, depth: int = 20):
        self.index, self.embedder, self.depth = index, embedder, depth
        self.bm25 = BM25([c.text for c in index.chunks])
        self._last: tuple[str, np.ndarray] | None = None

    def query_vector(self, query: str) -> np.ndarray:
        """The query's vector, (1, dim); the last one is kept, for best_sentences after `search`."""
        if self._last is None or self._last[0] != query:
            self._last = (query, self.embedder.embed([query]))
        return self._last[1]

    def search(self, query: str, k: int = 4) -> list[Passage]:
        """Top-k passages by RRF of the BM25 and dense rankings (each cut at `depth`)."""
        chunks = self.index.chunks
        if not chunks:
            return []
        depth = min(self.depth, len(chunks))
        qv = self.query_vector(query)
        sims, ids = self.index.vectors.search(qv, depth)
        dense = {int(i): float(s) for i, s in zip(ids[0], sims[0]) if i >= 0}
        lexical = self.bm25.scores(query)
        hits = np.flatnonzero(lexical)
        top_lex = [int(i) for i in hits[np.argsort(-lexical[hits], kind="stable")][:depth]]
        fused: dict[int, float] = defaultdict(float)
        for rank, i in enumerate(dense):
            fused[i] += 1 / (RRF_K + rank + 1)
        for rank, i in enumerate(top_lex):
            fused[i] += 1 / (RRF_K + rank + 1)
        order = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        missing = [i for i in order if i not in dense]
        if missing:  # a lexical-only hit still gets its true cosine, for the abstention gate
            vecs = np.stack([self.index.vectors.reconstruct(i) for i in missing])
            dense.update({i: float(v @ qv[0]) for i, v in zip(missing, vecs)})
        return [Passage(chunks[i], fused[i], dense[i]) for i in order]


def best_sentences(passages: list[Passage], question: str, embedder, text_of, budget: int = 800,
                   stored=None, qv: np.ndarray | None = None) -> list[Passage]:
    """The sentences of the retrieved passages that matter, within `budget` characters.

    Every sentence of the passages (overlapping windows share some: each is scored once) is scored by
    its cosine with the question, plus its passage's rank prior; the best are kept until the budget is
    spent, then sentences next to each other in a document are joined into one passage, best first.
    The model reads fewer tokens (the cost of an answer on a collection) with the evidence kept.
    The sentences' vectors come from `stored` (index.Sentences: each sentence read alone when the index was
    built) where it holds them all, else from the embedder; `qv`, the question's, where the caller has it."""
    from .chunk import sentences, span
    from .documents import title

    # (doc, start, end) -> rank of the first passage holding it
    spans: dict[tuple[str, int, int], int] = {}
    full = {d: text_of(d) for d in dict.fromkeys(p.chunk.doc for p in passages)}  # read once each
    for rank, p in enumerate(passages):
        for a, b in sentences(full[p.chunk.doc], p.chunk.start, p.chunk.end):
            spans.setdefault((p.chunk.doc, a, b), rank)
    if not spans:
        return passages
    keys = list(spans)
    found = stored.of(keys) if stored is not None else None
    if found is None:
        vecs = embedder.embed([question] + [full[d][a:b] for d, a, b in keys])  # one batch: (1 + n, dim)
        found, qv = vecs[1:], vecs[:1]
    elif qv is None:
        qv = embedder.embed([question])
    sims = found @ qv[0]  # (n,)
    # a small prior for the passage's rank: of two sentences about as near, the better-ranked passage's wins
    score = {k: float(s) - RANK_PRIOR * spans[k] for k, s in zip(keys, sims)}
    chosen, used = [], 0
    for k in sorted(keys, key=lambda k: -score[k]):
        size = k[2] - k[1]
        if chosen and used + size > budget:
            continue
        chosen.append(k)
        used += size
    groups: list[list[tuple[str, int, int]]] = []
    for k in sorted(chosen):  # by document, then position: neighbours join
        last = groups[-1][-1] if groups else None
        if last and last[0] == k[0] and not full[k[0]][last[2]:k[1]].strip():
            groups[-1].append(k)
        else:
            groups.append([k])
    groups.sort(key=lambda g: -max(score[k] for k in g))
    out = []
    for g in groups:
        doc, a, b = g[0][0], g[0][1], g[-1][2]
        best = max(g, key=lambda k: score[k])
        # the dense score stays the retrieved passage's: the abstention gate (config.min_dense) reads it
        source = passages[spans[best]]
        out.append(Passage(span(doc, full[doc], a, b), score[best], source.dense, f"{title(doc)}\n{source.chunk.text}"))
    return out


_JOINS = re.compile(r"(?:['’]s)?\s*(?:,|,?\s*(?:and|or))\s*", re.I)  # "Sherman and Truss", "Smith's and Sherman's"


def sides(question: str, passages: list[Passage], text_of, joined: bool = False) -> list[tuple[str, list[Passage]]]:
    """For a question about what two or more named speakers said: each speaker's name as the question writes
    it, with the sentences of the passages' documents in which that one speaks (cite.speakers: "Mr Stoltenberg
    said …", "But he said …", a quotation alone after them), each run of neighbours one passage, in document
    order. Each passage's context is every speaker's sentences, which hold the question's names for the citation
    check. Empty where the question does not ask what was said or names fewer than two who speak, or, `joined`,
    fewer than two whose names the question joins with "and" or a comma ("What did Sherman and Truss say?", not
    "What did Stoltenberg say Nato and Russia had expressed the need to resume?", whose Russia speaks too). The
    1.5B given the whole article, or both speakers' sentences at once, wrote one speaker's words for both ("Denmark
    said Washington would push back …" of Julianne Smith's words); it is asked of each side alone (api.Pipeline)."""
    from .chunk import span

    out = _named_speakers(question, passages, text_of, initials=True)
    if joined:  # each next to another, "and", "or" or a comma between
        near = [i for i, (*_, a, b) in enumerate(out) if any(
            _JOINS.fullmatch(question[min(b, y):max(a, x)]) for j, (*_, x, y) in enumerate(out) if j != i)]
        out = [out[i] for i in near]
    if len(out) < 2:
        return []
    full = {d: text_of(d) for _, runs, *_ in out for d, *_ in runs}  # read once each
    everyone = " ".join(full[d][a:b] for _, runs, *_ in out for d, a, b in runs)
    return [(name, [Passage(span(d, full[d], a, b), 0.0, 0.0, everyone) for d, a, b in runs]) for name, runs, *_ in out]


# what joins the two things a comparison names: "the US and Russian positions", "the EU's response … from the UK's"
_COMPARED = re.compile(r"\b(?:and|or|with|from|to|than|versus|vs|against)\b", re.I)


_HE_SHE_IT = re.compile(r"[\s“\"'‘]*(?:he|she|it|they)\b", re.I)


def _naming(text: str, named: set[str], spans=None) -> list[tuple[int, int]]:
    """The sentences of `text` that name what `named` holds the forms of, each with the sentences after it that
    open with "It", "He", "She" or "They" ("Moscow's key objective is to stop any eastward expansion of Nato …
    It wants Nato forces withdrawn …"). `spans`: text's (start, end, name_forms) of each sentence, where the caller
    has them (`named_sides` asks of two names)."""
    from .chunk import sentences
    from .cite import name_forms

    out = []
    for a, b, forms in spans or [(a, b, name_forms(text[a:b])) for a, b in sentences(text)]:
        if named & forms or out and out[-1][1] == _previous_end(text, a) and _HE_SHE_IT.match(text[a:b]):
            out.append((a, b))
    return out


def _previous_end(text: str, start: int) -> int:
    """Where the sentence before the one at `start` ends (its trailing space and paragraph breaks aside)."""
    return len(text[:start].rstrip())


_NEXT_TO = re.compile(r"(?:['’]s)?\s*(?:,|,?\s*and|or|versus|vs\.?|with)\s+(?:the\s+)?", re.I)


def named_sides(question: str, passages: list[Passage], text_of,
                countries: bool = False) -> list[tuple[str, list[Passage]]]:
    """For a comparison of two named things that are not two speakers (`sides`): each name as the question writes
    it, with the sentences of the passages' documents that name it or what it also goes by (cite.name_forms:
    "Moscow" is Russia, "American" the US, "EU" the European Union), one passage each, in document order; each
    passage's context is both sides' sentences. "What was the difference between the talks in Geneva and the
    talks in Brussels?" is the Geneva sentences against the Brussels ones. Empty unless the question names exactly
    two things (or of more, two joined next to each other: "Nato and Russia on Ukraine") that go by different names, a word of comparison between them (`_COMPARED`: not "Contrast what Nato
    offered Russia with what it threatened"), and each is named in the documents; `countries`, each a country (or
    what one goes by: "the Kremlin's message" against "Washington's", where the question asks what was said and
    one is no speaker: not Stefano Sannino, whom the article names and never quotes)."""
    from .chunk import sentences, span
    from .cite import NAME, is_country, name_forms

    found = []
    for m in NAME.finditer(question):
        name, start = m.group(), m.start()
        if start == 0:  # "How did …": a question's first word is capitalised whatever it is
            name, start = (name.split(None, 1)[1], start + len(name.split(None, 1)[0]) + 1) if " " in name else ("", 0)
        if name:
            found.append((re.sub(r"['’]s$", "", name), start, m.end()))
    if len(found) > 2:  # "the positions of Nato and Russia on Ukraine joining": the two joined next to each other
        pairs = [(x, y) for x, y in zip(found, found[1:]) if _NEXT_TO.fullmatch(question[x[2]:y[1]])]
        found = list(pairs[0]) if len(pairs) == 1 else []
    if len(found) != 2 or not _COMPARED.search(question[found[0][2]:found[1][1]]):
        return []
    forms = [name_forms(name) for name, *_ in found]
    if not all(forms) or forms[0] & forms[1] or countries and not all(map(is_country, forms)):
        return []
    full = {d: text_of(d) for d in dict.fromkeys(p.chunk.doc for p in passages)}  # read once each
    spans = {d: [(a, b, name_forms(text[a:b])) for a, b in sentences(text)] for d, text in full.items()}  # once each
    runs = [[(d, a, b) for d, text in full.items() for a, b in _naming(text, named, spans[d])] for named in forms]
    if not all(runs):
        return []
    # the context of each: both sides' sentences, which hold both names for the citation check (as `sides`)
    everyone = " ".join(full[d][a:b] for d, a, b in sorted(set(runs[0]) | set(runs[1])))
    return [(name, [Passage(span(d, full[d], a, b), 0.0, 0.0, everyone) for d, a, b in side])
            for (name, *_), side in zip(found, runs)]


SPOKEN = 3  # sentences `spoken` picks
# Words of a question about the shape of its answer, asking for it, or about speaking, not about what was said:
# "Give an overview of Wendy Sherman's remarks" and "Did Grushko and Peskov take the same tone?" name no topic
_ASIDE = ("give tell explain outline list article text document according key main up few sentence sentences make "
          "made compare comparison contrast differ difference different same similar tone overview summary summarise "
          "summarize sum short brief gist point points say says said saying describe described describes word words "
          "remark remarks comment comments commented statement statements stated quote quoted quotes told spoke speak "
          "speaking threat threats threaten threatened warn warned warning")


def spoken(question: str, passages: list[Passage], text_of, most: int = SPOKEN) -> list[Passage]:
    """For a question about what one named speaker said ("Give an overview of what Jens Stoltenberg said"): up
    to `most` of the sentences of the passages' documents in which that one speaks (cite.speakers), one passage
    each, in document order: those holding most of the question's content words but the speaker's name and its
    words about the answer's shape or about speaking (`_ASIDE`: "… said about Nato membership" picks by "Nato"
    and "membership"), and of those the first. Empty where the question has such words and no sentence holds one
    ("What did Sherman say about China?"), or, `most` 1, where another holds as many as the best ("What would
    happen if Russia invaded Ukraine, according to Truss?": her build-up "was unacceptable" holds "Russia" and
    "Ukraine", as her "further military incursion … would come with a severe cost" does), or where the question
    does not ask what was said, or names no one, or more than one, who speaks in the documents. Each passage's
    context is all that speaker's sentences, which hold the name for the citation check of a "He later said …"."""
    from .chunk import sentences, span
    from .cite import stems

    out = _named_speakers(question, passages, text_of)
    if len(out) != 1:
        return []
    name, runs, *_ = out[0]
    full = {d: text_of(d) for d, *_ in runs}  # read once each
    everyone = " ".join(full[d][a:b] for d, a, b in runs)
    found = [(d, a, b) for d, x, y in runs for a, b in sentences(full[d], x, y)]
    asked = stems(question) - stems(name) - stems(_ASIDE)
    order = {k: i for i, k in enumerate(found)}
    shared = {k: len(asked & stems(full[k[0]][k[1]:k[2]])) for k in found}
    ranked = sorted(found, key=lambda k: (-shared[k], order[k]))
    best = ranked[:most]
    if asked and not shared[best[0]] or most == 1 and len(ranked) > 1 and shared[ranked[1]] == shared[best[0]]:
        return []  # no sentence holds a topic word; or one asked for, and another holds as many
    return [Passage(span(d, full[d], a, b), 0.0, 0.0, everyone) for d, a, b in sorted(best, key=order.get)]


def side_sentence(question: str, names: list[str], side: list[Passage], text_of) -> Passage | None:
    """For one side of a question about what two named speakers said (`sides`; not two named things,
    `named_sides`, whose sentences are not what they said), where the reply written on that
    side's sentences is withheld: the side's sentence holding most of the question's content words but the
    names and the words about shape or speaking (`_ASIDE`), the first of those in document order; None where
    the question has such words and no sentence holds one ("Compare what Truss and Sherman said about China").
    "How did Truss's tone compare with Denmark's?": the 1.5B wrote "Truss's tone was more critical …", withheld,
    where her own first sentence answers it."""
    from .chunk import sentences, span
    from .cite import stems

    found = [(p.chunk.doc, a, b) for p in side for a, b in sentences(text_of(p.chunk.doc), p.chunk.start, p.chunk.end)]
    if not found:
        return None
    asked = stems(question) - stems(" ".join(names)) - stems(_ASIDE)
    shared = [len(asked & stems(text_of(d)[a:b])) for d, a, b in found]
    if asked and not max(shared):
        return None
    d, a, b = found[shared.index(max(shared))]
    return Passage(span(d, text_of(d), a, b), 0.0, 0.0, side[0].context)


# "Who said …", "Who has warned …": the speaker is what is asked (not "Who does Edward Said say is attacked?")
_WHO_SAID = re.compile(r"^\s*who\s+(?:(?:has|had|did|also|first|later)\s+)?(?:said|say|says|described|describes|"
                       r"told|tells|spoke|speaks|stated|states|warned|warns|threatened|threatens|quoted|commented|"
                       r"claimed|called|repeated|insisted|denied|condemned|criticised|criticized)\b", re.I)


def who_said(question: str, passages: list[Passage], text_of) -> list[Passage]:
    """For "Who said there can be no place for ultimatums?": the one sentence of the passages' documents in which
    someone speaks (cite.speakers) that holds all the question's content words (not its words about speaking,
    `_ASIDE`), or all but one of four or more, two at least, where no other speaker's holds as many, as a passage
    whose text is the speaker's name (the longest in the words that name them) and that sentence: "Dmitry Peskov:
    “We are not negotiating …,” he said." Its context is the sentences from the one naming the speaker. Empty for
    a question that does not open by asking who spoke ("Who said", "Who has warned", `_WHO_SAID`), or where no
    sentence fits, or the one that does negates what the question asks and the question does not."""
    from .cite import TITLES, negated, negations, stems, utterances

    if not _WHO_SAID.match(question):
        return []
    asked = stems(question) - stems(_ASIDE) - {"who"}
    full = {d: text_of(d) for d in dict.fromkeys(p.chunk.doc for p in passages)}  # read once each
    found = []  # (shared, doc, start, end, who, the speaker's words)
    for doc, text in full.items():
        for a, b, who, words in utterances(text):
            if who:
                found.append((len(asked & stems(text[a:b])), doc, a, b, who, words))
    found.sort(key=lambda f: -f[0])  # the first written of those holding as many
    best = found[0] if found else (0,)
    speaker = best[4] - {t.lower() for t in TITLES} if found else set()  # "Mr Grushko" is not "Mr Stoltenberg"
    if best[0] < max(2, len(asked) - (len(asked) >= 4)) or any(f[0] == best[0] and not f[4] & speaker for f in found):
        return []  # not (nearly) all the question's words, or as many in what another speaker said
    _, doc, a, b, _, words = best
    text = full[doc]
    if negated(text[a:b], asked) and not negations(question):
        return []  # "Who said Russia intends to invade Ukraine?": Peskov "repeated Russia's denials that it …"
    said = _as_said(doc, text, a, b, words)
    return [said] if said else []


def _as_said(doc: str, text: str, a: int, b: int, words: str) -> Passage | None:
    """The sentence text[a:b] as a passage whose text is its speaker's name and the sentence ("Dmitry Peskov:
    “We are not negotiating …,” he said."), the speaker by the longest name in `words`, the words that name them
    ("Alexander Grushko", not "Russia's"); its context the sentences from the one naming the speaker. None where
    `words` hold no name."""
    from .chunk import span

    name = _speaker_name(words)
    if not name:
        return None
    said = name + ": " + " ".join(text[a:b].split())
    before = text.rfind(words.strip()[:40], 0, b) if words.strip() else -1
    return Passage(replace(span(doc, text, a, b), text=said), 0.0, 0.0, text[before if 0 <= before < a else a:b])


def _speaker_name(words: str) -> str:
    """The longest name in the words that name a speaker ("Alexander Grushko", not "Russia's"), "" where none."""
    from .cite import NAME

    names = [m.group() for m in NAME.finditer(words)]
    return re.sub(r"['’]s$", "", max(names, key=lambda n: len(n.split()))) if names else ""


# A sentence whose speaker it names only as "she" or "he": "She said that a further military incursion …"
_UNNAMED_SPEAKER = re.compile(r"[\s“”\"'‘’]*(?:(?:but|and)\s+)?(?:he|she)\b", re.I)


def speaker_named(checked, text_of):
    """A verified reply (cite.Verified) of source sentences quoted whole, each sentence whose speaker it names only as
    "she" or "he" (cite.utterances resolves whom) with the speaker's name written before it, as `who_said` writes
    its sentence; its citation, the sentence itself, unchanged. Quoted in place of a withheld list, Truss's "She said
    that a further military incursion into Ukraine would come with a severe cost …" did not tell the reader whose
    words they were. Named after the checks: as an item of a list of measures, "Wendy Sherman: She repeated US vows
    …" reads as a person, and the item reading withheld it."""
    from .cite import utterances

    text = checked.text
    for c in checked.citations:
        full = text_of(c.doc)
        name = next((_speaker_name(words) for a, b, who, words in utterances(full)
                     if a == c.start and who and _UNNAMED_SPEAKER.match(full[a:b])), "")
        at = text.find(c.quote[:40]) if name else -1
        if at >= 0 and not text[:at].endswith(": "):
            text = f"{text[:at]}{name}: {text[at:]}"
    return replace(checked, text=text)


_ACCORDING_TO = r"\b(?i:according to)\s+(?:the\s+)?"
_ACCORDING = re.compile(_ACCORDING_TO + "[A-Z]")  # "according to Truss", not "according to the article"


def _named_speakers(question: str, passages: list[Passage], text_of,
                    initials: bool = False) -> list[tuple[str, list[list], int, int]]:
    """Each name in a question that asks what was said (cite.ASKS_SAID) who speaks in the passages' documents
    (cite.speakers), with the [doc, start, end] runs of neighbouring sentences in which it speaks, and where the
    name is in the question. Not a name that is only the topic ("… said about Nato membership"). A question
    without a word for speaking may still name one after "according to" ("… according to Truss?"): that one only.
    `initials`: a name in capitals is also the word it is in a speaker's title ("the UK's" tone is that of "UK
    Foreign Secretary Liz Truss"; `sides` only: "the US warnings" summed up are not Sherman's and Smith's words)."""
    from .cite import NAME, ASKS_SAID, is_governed, key_terms, speakers

    asks = bool(ASKS_SAID.search(question))
    if not asks and not _ACCORDING.search(question):
        return []
    full = {d: text_of(d) for d in dict.fromkeys(p.chunk.doc for p in passages)}  # read once each
    said = {d: speakers(text) for d, text in full.items()}
    out = []
    for m in NAME.finditer(question):
        name = m.group()
        if m.start() == 0:  # "Did Grushko": the name is "Grushko"; "Sherman" opening the question is not known
            name = name.split(None, 1)[1] if " " in name else ""
        [key] = key_terms(name) or [frozenset()]
        # "… said about Nato membership": what they spoke of, not who spoke; but "an overview of Sherman's remarks",
        # "according to Truss"
        according = re.search(_ACCORDING_TO + "$", question[:m.start()])
        # "Peskov's message", and "… differ from Grushko's?": a possessive that ends the question stands for the same
        rest = question[m.end():].lstrip()
        speaks = re.search(r"['’]s$", name) and (ASKS_SAID.match(rest) or not rest.strip("?.!")) or according
        if not key or is_governed(question, m.start()) and not speaks or not (asks or according):
            continue
        runs = []  # [doc, start, end] of each run of neighbouring sentences this one speaks in
        if initials:  # "UK" (an all-capitals name, "^uk") is the "UK Foreign Secretary" who speaks
            key |= {k.lstrip("^") for k in key}
        for doc, spans in said.items():
            text = full[doc]
            for a, b, who in spans:
                if key & who:
                    if runs and runs[-1][0] == doc and not text[runs[-1][2]:a].strip():
                        runs[-1][2] = b
                    else:
                        runs.append([doc, a, b])
        if runs:  # a name that says nothing in the documents is not a side
            out.append((re.sub(r"['’]s$", "", name), runs, m.start(), m.end()))
    return out


RECITED = 2  # sentences a fact the answer check withheld is read against again (`holding`)


def holding(reply: str, question: str, passages: list[Passage], text_of, embedder, quoted=(), stored=None,
            qv: np.ndarray | None = None, most: int = RECITED) -> list[Passage]:
    """For a fact whose quoted sentences the answer check read as not answering the question: up to `most` other
    sentences of the passages that hold half the reply's own words at least (its words the question lacks), none
    of the `quoted` spans (Citations), nearest the question first, one passage each (keeping its passage's
    context). The reply may be right and cite the wrong sentence: "Who is the head of Nato?" answered "Jens
    Stoltenberg is the head of Nato", quoted from "Jens Stoltenberg said 'Russia doesn't have a veto' …" (P(yes)
    0.49), where "Alliance chief Jens Stoltenberg said …" says it (0.65). Sentence vectors come from `stored`
    where it holds them all, else from the embedder; `qv` is the question's where the caller has it.

    >>> from .types import Chunk, Citation
    >>> doc = "Talks ended. Alliance chief Jens Stoltenberg spoke. Jens Stoltenberg said no."
    >>> p = Passage(Chunk("c", "d", 0, len(doc), doc), 0.0, 0.0, doc)
    >>> class Bag:  # a toy embedder: one unit vector per text, by whether it says "chief"
    ...     def embed(self, texts): return np.array([[1.0, 0.0] if "chief" in t else [0.0, 1.0] for t in texts])
    >>> [h.chunk.text for h in holding("Jens Stoltenberg is head.", "Who is the chief?", [p], lambda d: doc, Bag())]
    ['Alliance chief Jens Stoltenberg spoke.', 'Jens Stoltenberg said no.']
    >>> holding("Talks ended.", "Who is the chief?", [p], lambda d: doc, Bag(), [Citation(1, "c", "d", 0, 12, "Talks ended.")])
    []
    """
    from .chunk import sentences, span
    from .cite import MARKER, stems

    own = stems(MARKER.sub("", reply)) - stems(question)
    if not own:
        return []
    full = {d: text_of(d) for d in dict.fromkeys(p.chunk.doc for p in passages)}  # read once each
    found: dict[tuple[str, int, int], Passage] = {}
    for p in passages:
        for a, b in sentences(full[p.chunk.doc], p.chunk.start, p.chunk.end):
            k = (p.chunk.doc, a, b)
            if k in found or any(c.doc == k[0] and c.start < b and a < c.end for c in quoted):
                continue
            if 2 * len(own & stems(full[k[0]][a:b])) >= len(own):
                found[k] = p
    if not found:
        return []
    keys = list(found)
    vecs = stored.of(keys) if stored is not None else None
    if vecs is None:
        both = embedder.embed([question] + [full[d][a:b] for d, a, b in keys])
        vecs, qv = both[1:], both[:1]
    elif qv is None:
        qv = embedder.embed([question])
    near = vecs @ qv[0]
    best = sorted(range(len(keys)), key=lambda i: -near[i])[:most]
    return [replace(found[keys[i]], chunk=span(keys[i][0], full[keys[i][0]], keys[i][1], keys[i][2])) for i in best]


LEAD = 2          # sentences a document's own summary is (`lead`)
LEAD_WORDS = 8    # ...each of this many words at least, ending as a sentence ends


def lead(passages: list[Passage], text_of, most: int = LEAD) -> list[Passage]:
    """For a request to sum up the document itself (kinds.whole_summary) that the reply did not answer: the
    document's opening sentences, its own summary (a news story's lede, an encyclopaedia article's definition),
    one passage each; the headline, bylines and captions skipped (few words, or a line that does not end as a
    sentence does: "… on which country can join Nato. EPA"). Empty where the passages come from more than one
    document (which one is "the article"?).
    "Briefly summarise the article in two sentences." the 1.5B answered "The documents don't say."."""
    from .chunk import sentences, span

    docs = {p.chunk.doc for p in passages}
    if len(docs) != 1:
        return []
    doc = docs.pop()
    full = text_of(doc)
    found = [(a, b) for a, b in sentences(full) if _proper(full, a, b)][:most]
    context = " ".join(full[a:b] for a, b in found)
    return [Passage(span(doc, full, a, b), 0.0, 0.0, context) for a, b in found]


def proper(passages: list[Passage], text_of) -> list[Passage]:
    """The passages' sentences that read as sentences (a heading, caption or byline does not: `lead`), one
    passage each, in the passages' order; each keeps its passage's scores and context."""
    from .chunk import sentences, span

    out = []
    for p in passages:
        full = text_of(p.chunk.doc)
        out += [replace(p, chunk=span(p.chunk.doc, full, a, b)) for a, b in sentences(full, p.chunk.start, p.chunk.end)
                if _proper(full, a, b)]
    return out


def _proper(full: str, a: int, b: int) -> bool:
    """full[a:b] reads as a sentence: LEAD_WORDS words at least, and it and the rest of its line end as
    sentences end."""
    line_end = full.find("\n", b)
    rest = full[b:line_end if line_end >= 0 else len(full)]  # what follows it on its line
    return len(full[a:b].split()) >= LEAD_WORDS and _ends(full[a:b]) and (not rest.strip() or _ends(rest))


def _ends(text: str) -> bool:
    """Text ends as a sentence does (its closing quotation marks aside)."""
    return text.rstrip().rstrip("”’\"')").endswith((".", "!", "?"))
