"""The pipeline behind every front end: question -> passages -> streamed reply -> verified Answer.

    from qa import ask
    a = ask("Who led the American delegation?")
    a.text, a.citations, a.abstained

`Pipeline` holds the index, embedder and model, loaded once and shared by
`ask()`, the CLI, the chat server and the benchmarks.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from . import cite, documents, index as index_mod, kinds, models, prompts, steps
from .config import Config
from .errors import BadQuestion, DocumentError, QAError
from .retrieve import (Retriever, best_sentences, holding, lead, named_sides, proper, side_sentence, speaker_named,
                       sides as speakers_sides, spoken, who_said)
from .types import Answer, Chunk, Passage, Stage

_FOLLOW_UP = re.compile(r"\b(she|he|her|his|him|they|them|their|it|its|this|that|these|those|there|then)\b", re.I)


class Pipeline:
    def __init__(self, config: Config | None = None, embedder=None, generator=None, checker=None):
        self.config = config or Config.from_env()
        self._embedder, self._generator, self._checker = embedder, generator, checker
        self._index = self._retriever = None
        self._build_lock = threading.Lock()
        self._preloading: set[int] = set()  # ids of the models being or already loaded
        self._whole = None  # (index, its chunks in document order if read whole, else None)

    # -- parts, loaded on first use ------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            from .embed import SentenceTransformerEmbedder

            self._embedder = SentenceTransformerEmbedder(self.config.embedder, self.config.threads())
        return self._embedder

    @property
    def generator(self):
        if self._generator is None and self.config.llm_url:  # a model server answers (qa/remote.py)
            from .remote import OpenAIGenerator

            c = self.config
            self._generator = OpenAIGenerator(c.llm_url, c.llm_model, c.seed, c.llm_timeout)
        if self._generator is None:
            from .generate import LlamaGenerator

            c = self.config
            self._generator = LlamaGenerator(str(models.resolve(c.model)), c.n_ctx, c.threads(), c.n_batch, c.seed,
                                             c.draft_tokens)
        return self._generator

    @property
    def checker(self):
        """The model that runs the answer check (check.py): config.check_model (a GGUF, in-process),
        else the answering model (so a model server, with config.llm_url)."""
        c = self.config
        if not c.check_model or c.check_model == c.model:
            return self.generator
        if self._checker is None:
            from .generate import LlamaGenerator

            self._checker = LlamaGenerator(str(models.resolve(c.check_model)), 1024, c.threads(), c.n_batch, c.seed)
        return self._checker

    def _preload(self, *models) -> None:
        """Load models in a background thread, once each, in order (llama.cpp loads one at a time):
        the answering model while retrieval loads the embedder, then a separate check model while
        the first answer is being written."""
        todo = [m for m in dict.fromkeys(models) if hasattr(m, "load") and id(m) not in self._preloading]
        if todo:
            self._preloading.update(map(id, todo))
            threading.Thread(target=lambda: [_quietly(m.load) for m in todo], daemon=True).start()

    @property
    def index(self):
        if self._index is None:
            self.build()
        return self._index

    def build(self, progress=None):
        """(Re)build or update the index of config.docs; only changed documents are embedded."""
        with self._build_lock:
            self._index = index_mod.build(self.config, self.embedder, progress)
            self._retriever = Retriever(self._index, self.embedder)
        return self._index

    def add_documents(self, paths, progress=None):
        """Index more files or folders alongside the current ones (a new document set)."""
        before = self.config
        self.config = replace(before, docs=tuple(dict.fromkeys(before.docs + tuple(map(str, paths)))))
        try:
            return self.build(progress)
        except Exception:
            self.config = before  # a bad file leaves the working set as it was
            raise

    def documents(self) -> list[str]:
        return self.index.docs

    def remove_documents(self, names: list[str]) -> list[str]:
        """Take documents out of the index; returns their names (index.find: a name, a path, or a
        file name only one document has; else UnknownDocument, one line, and nothing changes).

        An uploaded document (in <index_dir>/uploads/) is deleted, and a root left without documents
        leaves config.docs. Any other is recorded as excluded in the manifest, so the next build of
        its folder leaves it out (`qa docs restore` brings it back). Nothing is embedded."""
        with self._build_lock:
            idx = self._index if self._index is not None else index_mod.stored(self.config)
            docs = index_mod.find(names, idx.docs, idx.manifest.get("excluded", ()))
            if set(docs) == set(idx.docs):
                raise DocumentError("that would leave no document in the index; add another one first")
            uploads = documents.locate(Path(self.config.index_dir) / "uploads")
            deleted = [d for d in docs if documents.doc_path(d).resolve().is_relative_to(uploads)]
            for d in deleted:
                documents.doc_path(d).unlink(missing_ok=True)
            config = replace(self.config, docs=tuple(r for r in self.config.docs if _has_documents(r)))
            smaller = index_mod.remove(idx, docs, index_mod.set_dir(config), [d for d in docs if d not in deleted])
            loaded, self.config = self._index is not None, config
            self._index = smaller if loaded else None
            self._retriever = Retriever(smaller, self.embedder) if loaded else None
        return docs

    def text_of(self, doc: str) -> str:
        return documents.text_of(doc)

    # -- answering ------------------------------------------------------------
    def check(self, question: str) -> str:
        q = " ".join((question or "").split())
        if not q:
            raise BadQuestion("the question is empty")
        if len(q) > self.config.max_question_chars:
            raise BadQuestion(f"the question is too long ({len(q)} characters; the limit is "
                              f"{self.config.max_question_chars})")
        try:  # a lone surrogate (undecodable bytes let through) cannot reach the model's UTF-8 prompt
            q.encode("utf-8")
        except UnicodeEncodeError:
            raise BadQuestion("the question is not valid UTF-8 text") from None
        return q

    def standalone(self, question: str, history=(), elliptical: bool = False) -> str:
        """A follow-up (or, `elliptical`, any question: "On what day?") rewritten to stand alone (for retrieval);
        other questions unchanged."""
        if not history or not (elliptical or _FOLLOW_UP.search(question)):
            return question
        last = list(history)[-2:]
        reply = "".join(self.generator.stream(prompts.rewrite_messages(question, last), max_tokens=48)).strip()
        reply = reply.splitlines()[0].strip() if reply else ""
        if not reply or "[" in reply or len(reply) > 3 * len(question) + 200:
            return f"{last[-1][0]} {question}"
        return reply

    def stream(self, question: str, history=()) -> Iterator[str | Stage | Answer]:
        """Yield reply pieces as the model writes them, a Stage before each step that follows
        (a second reading, then the checks of steps.CHECKS), and last the verified Answer."""
        t0 = time.perf_counter()
        asked = self.check(question)
        generator = self.generator  # a missing model is reported now, not after retrieval
        self._preload(generator, *([self.checker] if self.config.min_support > 0 else []))
        q = self.standalone(asked, history)
        kind = kinds.kind_of(q)  # a summary, list or comparison reads more passages and writes more
        both = kinds.halves(q) if kind.name == "twopart" else None
        yield from self._halves(q, kind, both, t0) if both else self._answer(q, kind, t0)

    def _answer(self, q: str, kind: kinds.Kind, t0: float) -> Iterator[str | Stage | Answer]:
        """`stream`'s answer to the standalone question `q` of kind `kind`, asked at time t0."""
        generator = self.generator
        passages = self.passages(q, kind.top_k)
        if not passages or (not self.whole and max(p.dense for p in passages) < self.config.min_dense):
            timings = {"retrieve_s": time.perf_counter() - t0, "total_s": time.perf_counter() - t0}
            yield Answer(prompts.ABSTAIN, (), True, tuple(passages), timings, q)
            return
        # what two named speakers said: each asked of that one's sentences alone (retrieve.sides), and the answer
        # checked as a comparison's, side by side ("What did Sherman and Truss say?" too); in a collection, of
        # the documents retrieval found, each side's sentences cut to those nearest the question
        sides = every = [] if kind.name in _NOT_BY_SIDE else speakers_sides(
            q, passages, documents.text_of, joined=kind.name not in _SIDE_BY_SIDE)
        if sides and not self.whole:
            sides = self._nearest(q, sides)
        spoke = bool(sides)  # each side a speaker's sentences (not a named thing's)
        if not sides and kind.name == "compare":  # two named things, not two speakers: what the sentences naming
            # each say (retrieve.named_sides); of what was said, only countries' (Sannino, named, is never quoted)
            every = named_sides(q, passages, documents.text_of, bool(cite.ASKS_SAID.search(q)))
            sides = self._nearest(q, every, NAMED_SIDE_CHARS, kept=True)
        if sides:
            kind, passages = kinds.KINDS["compare"], [p for _, side in sides for p in side]
        # what one named speaker said, summed up or listed: that one's sentences themselves, each cited
        # (retrieve.spoken), as a summary; the 1.5B, given the whole article, wrote one of them ("Give an overview of
        # what Jens Stoltenberg said"; "Which words did Grushko use to describe the conversation?": "a heart-to-heart",
        # not the "quite frank, direct, deep, intense" of the quotation after it)
        picked = spoken(q, passages, documents.text_of) if not sides and (
            kind.name == "summary" or kind.items and cite.ASKS_SAID.search(q)) else []
        if picked:
            kind, passages = kinds.KINDS["summary"], picked
        max_tokens, told = kind.max_tokens or self.config.max_tokens, kind.instruction
        timings = {"retrieve_s": time.perf_counter() - t0}
        replies, first = [], None
        self.prefill()
        asks = [] if picked else [
            (prompts.answer_messages(q, side, prompts.SIDE.format(name=name), documents.title), side, before)
            for (name, side), before in zip(sides, _offsets(sides))] or [
            (prompts.answer_messages(q, passages, told, documents.title), passages, 0)]
        if picked:  # no reply to write: shown at once
            timings["first_token_s"] = (first := time.perf_counter()) - t0
            replies.append((_in_their_words(picked), passages, 0))
            yield replies[0][0]
        for messages, side, before in asks:
            if replies:
                yield "\n"
            said = []
            for piece in generator.stream(messages, max_tokens, prompts.NOT_FIRST):
                if first is None:
                    first = time.perf_counter()
                    timings["first_token_s"] = first - t0
                said.append(piece)
                yield piece
                if kinds.looping("".join(said)):  # the same item or sentence a third time: the rest is more of it
                    break
            if not sides or not cite.is_abstention("".join(said)):  # a side its sentences do not answer is left out
                replies.append(("".join(said), side, before))
        # a side's "[1]" is its own first passage: renumbered as in the passages of all sides
        raw = "\n".join(cite.renumbered(reply, before) for reply, _, before in replies) or prompts.ABSTAIN
        if kind.polarity:  # "Yes, Russia and the US met on Monday. The documents don't say.": the Yes, checked
            raw = cite.without_doubt(raw)
        if sides:  # each side's claims are checked against that speaker's sentences alone
            checked = cite.joined([self._side(q, sides, replies, n, spoke) for n in range(len(sides))])
        else:
            # "Moscow demands … and the US insisting …" (not a comparison's): the dangling second half left out
            read = kinds.contrasted(raw) if kind.name == "compare" else kinds.unhitched(raw)
            read = kinds.itemize(read) if kind.items else read
            if kind.partial and not kind.items:  # "X said A and said B": each statement checked on its own
                read = kinds.conjoined(read)
            checked = _unpicked(q, kind, read, cite.named(cite.verify(read, passages, documents.text_of, q)), passages)
            if kind.items and not checked.abstained:  # shown one item a line, as the model was asked to write them
                checked = cite.keep_sentences(checked, [True] * len(cite.claims(checked)))
        now = time.perf_counter()
        timings["generate_s"] = now - (first or now)
        rejected = checked.abstained and not cite.is_abstention(raw)
        # (a set read whole only: on corpus dev a collection's re-read ran on 20 of 160 questions in session 26 and
        # 19 in session 30 and changed no outcome, 2.2 s each; where the article's dev sets ran it, 15 of 69 ended
        # answered)
        focus = cite.focus(raw, passages, documents.text_of) if (
            rejected and self.config.reread and self.whole) else None
        if focus is not None:  # the reply fails the citation check, but one source sentence backs most of it
            yield Stage("reread")
            raw, checked = yield from self._on_one(q, focus, kind, passages)
            timings["reread_s"] = time.perf_counter() - now
            now = time.perf_counter()
        if kind.polarity and kinds.polarity_of(raw) and not checked.abstained and not kinds.polarity_of(checked.text):
            # the reply's Yes or No went with a sentence the citation check dropped: what is left does not answer
            # the question, and shown alone it reads as backing the dropped answer ("Yes, Smith spoke after the
            # meeting. She said … [20]", where the source has her speaking before it); but a Yes whose next
            # sentence, cited, states the question itself, no negation on either side, is that sentence's
            # Yes (the polarity step still reads its quote): "Yes, the talks will continue at the OSCE. The talks
            # will continue with a meeting of the Organisation for Security and Co-operation in Europe … [22]"; and
            # a No whose next sentence, cited, states the question with a negating word that reaches the question's
            # words (the question itself not negated) is that sentence's No: "No, the talks did not end with a
            # breakthrough. The talks in Geneva ended with no breakthrough [20]", whose first sentence the word test
            # drops (its "not" is on "end", the source's "no" on "breakthrough")
            checked = _with_polarity(checked, kinds.polarity_of(raw), q)
        seen: dict = {"passages": passages}  # what the steps share (steps.py)
        # the passages the reply cited: its markers (but a re-read's "[1]", which is its focus) and its verified quotes
        cited = {c.n for c in checked.citations} | (set() if focus is not None else set(cite.cited_numbers(raw)))
        replied, checked = checked, (yield from self._checks(q, kind, checked, seen, timings))
        for other in self._recited(q, kind, replied, checked, seen, passages):
            # a fact the answer check withheld, read against another sentence holding its words
            now = time.perf_counter()
            second = cite.verify(prompts.MARKER.sub("", replied.text), [other], documents.text_of, q)
            if second.abstained:  # the word test finds the reply's words elsewhere in it
                continue
            yield Stage("recite")
            tried = {"passages": [other], "min_support": self.config.recite_support}
            second = yield from self._checks(q, kind, second, tried, {})
            timings["recite_s"] = timings.get("recite_s", 0.0) + time.perf_counter() - now
            if not second.abstained:
                checked, seen, passages = second, tried, [other]
                break
        run = steps.denied(self, q, kind, raw, passages) if checked.abstained else None
        if run is not None:  # a withheld Yes or No: the No a source sentence may give instead
            yield Stage("denied")
            now = time.perf_counter()
            checked = run() or checked
            timings["denied_s"] = time.perf_counter() - now
        own = lead(passages, documents.text_of) if checked.abstained and kind.name == "summary" and (
            kinds.whole_summary(q)) else []
        if own:  # "Summarise the article." withheld or not answered: the document's own opening sentences, quoted
            yield Stage("lead")
            now = time.perf_counter()
            yield (quoted := _in_their_words(own))
            checked, raw, seen, passages = cite.verify(quoted, own, documents.text_of, q), quoted, {"passages": own}, own
            timings["lead_s"] = time.perf_counter() - now
        near = [] if own or picked else self._summary_instead(q, kind, raw, checked, passages)  # (not twice quoted)
        if near:  # a summary withheld: the sentences nearest the question, quoted whole, if they face every check
            second, quoted, tried = yield from self._in_place(q, kind, "nearest", near, timings)
            if not second.abstained:  # "She said that …" shown with whose words they are
                checked, raw, seen, passages = speaker_named(second, documents.text_of), quoted, tried, near
        both = self._naming_both(q, every) if checked.abstained and kind.name == "compare" else []
        if both:  # a comparison withheld: the sentences that name both sides, quoted whole, if they face every check
            second, quoted, tried = yield from self._in_place(q, kind, "both", both, timings)
            if not second.abstained:
                checked, raw, seen, passages = second, quoted, tried, both
        theirs = self._spoken_instead(q, kind, raw, checked, passages)
        if theirs:  # what one named speaker said, withheld: that speaker's sentence nearest the question, quoted
            second, quoted, tried = yield from self._in_place(q, kind, "spoken", theirs, timings)
            if not second.abstained:
                checked, raw, seen, passages = second, quoted, tried, theirs
        other = self._retry_passage(kind, raw, checked, passages, cited)
        if other is not None:  # a second chance on the best passage the withheld reply did not cite
            yield Stage("retry")
            now = time.perf_counter()
            again, second = yield from self._on_one(q, other, kind, passages)
            tried = {"passages": passages, "min_support": self.config.retry_support}
            second = yield from self._checks(q, kind, second, tried, {})
            timings["retry_s"] = time.perf_counter() - now
            if not second.abstained:
                checked, raw, seen = second, again, tried
        if kind.items and not checked.abstained:  # an item the model wrote twice, or quoting another's words, once
            checked = cite.distinct(checked)
        if kind.items and kinds.mentioned_type(q) in ("country", "nation"):
            checked = cite.countries_named(checked, passages, documents.text_of)  # the ones the list left out
        if not kind.items:  # a claim stating as done what its source hedges ("could include …"): the sentence
            checked = cite.hedged(checked, documents.text_of)
            # a claim stating as fact what its source has a named speaker say: the sentence, the speaker named
            checked = cite.attributed(checked, q, documents.text_of)
        if kind.one_answer:  # "Who …?" answered by a role for a name: the sentence that names them
            checked = cite.unnamed_answer(checked, q, documents.text_of)
        if kind.name == "fact":  # one member of a series the source names ("the US, the alliance and …"): all of it
            checked = cite.one_of_many(checked, q, documents.text_of)
        if not (kind.polarity or sides):  # a quote that announces a list it does not give: the sentence that gives it,
            checked = cite.enumerated(checked, passages, documents.text_of)  # verbatim, after the checks of the reply
        timings["total_s"] = time.perf_counter() - t0
        titled = tuple(replace(c, title=documents.title(c.doc)) for c in checked.citations)
        yield Answer(checked.text, titled, checked.abstained, tuple(passages), timings, q, seen.get("support"), raw)

    def _halves(self, q: str, kind: kinds.Kind, both: tuple[str, str], t0: float) -> Iterator[str | Stage | Answer]:
        """A two-part question (`kinds.halves`) answered whole, and where the answer shown answers one part only
        (`cite.answers_part`), the other part asked on its own (`stream`), rewritten to stand alone where it needs
        the first (`standalone`: "What did he say about ultimatums?" after "Who is Dmitry Peskov?"); its answer
        takes the place of the sentences that answer neither part. On a probe of 10 such questions
        (tests/data/nato_twopart2_dev.jsonl) the one reply of the 1.5B answered one part only in 4 ("What did Truss
        call unacceptable, and what did she condemn?": what she condemned, and her warning of a severe cost).
        Asking every two-part question as two, tried first, answered 6 of 10 as before and 3 of 5 of the user-style
        set's for 5 of 5: a part asked alone ("What happened in 2014?") lost what the whole question said. An
        answer withheld whole stays withheld: a part answered where the whole was not is more often the wrong one
        (an unanswerable "Who chaired the OSCE meeting on Thursday, …?", asked alone, got "the OSCE")."""
        whole = None
        for x in self._answer(q, kind, t0):
            if not isinstance(x, Answer):
                yield x
            whole = x
        said = [] if whole.abstained else cite.claims(cite.Verified(whole.text, whole.citations, False))
        parts = [[cite.answers_part(claim, part, other) for claim, _ in said] for part, other in (both, both[::-1])]
        missing = [n for n, answered in enumerate(parts) if not any(answered)]
        if len(missing) != 1:
            yield whole
            return
        n = missing[0]
        half = both[n] if n == 0 else self.standalone(both[1], [(both[0], whole.text)], kinds.elliptical(both[1]))
        yield Stage("part")
        other = None
        for x in self.stream(half):  # its reply and steps not shown: the bubble keeps the reply it has
            if isinstance(x, Answer):
                other = x
        kept = cite.keep_sentences(cite.Verified(whole.text, whole.citations, False), parts[1 - n])
        if other.abstained or {(c.doc, c.start, c.end) for c in other.citations} <= {  # nothing new: "On what day?"
                (c.doc, c.start, c.end) for c in kept.citations}:  # quotes the sentence that says Thursday already
            yield whole
            return
        passages, where = list(whole.passages), {p.chunk.id: i for i, p in enumerate(whole.passages, 1)}
        for p in other.passages:
            if p.chunk.id not in where:
                passages.append(p)
                where[p.chunk.id] = len(passages)
        moved = {i: where[p.chunk.id] for i, p in enumerate(other.passages, 1)}
        texts = [kept.text.replace("\n", " "), cite.renumbered(other.text, moved=moved)]
        cites = [kept.citations, tuple(replace(c, n=moved[c.n]) for c in other.citations)]
        timings = {**whole.timings, "part_s": other.timings.get("total_s", 0.0),
                   "total_s": time.perf_counter() - t0}
        order = slice(None, None, -1 if n == 0 else 1)  # the parts in the question's order, their citations too
        yield Answer(" ".join(texts[order]), sum(cites[order], ()), False, tuple(passages), timings, q,
                     whole.support, f"{whole.raw}\n{other.raw}")

    @staticmethod
    def _side(q: str, sides, replies, n: int, spoke: bool = True) -> tuple[cite.Verified, int]:
        """Side n's reply verified against that speaker's sentences, with the number of passages before them;
        where none stands, the speaker's sentence nearest the question (retrieve.side_sentence), quoted whole; not
        after the model's own "The documents don't say." on that side (left out, as `replies` leaves it), nor for
        a named thing that does not speak (`spoke` false): what the sentences naming the US say is no position of
        the US ("The talks in Brussels … after Russia and the US met on Monday" for "How did the US and Russian
        positions differ?")."""
        (name, side), before = sides[n], _offsets(sides)[n]
        reply = next((r for r, _, b in replies if b == before), "")
        checked = cite.verify(kinds.conjoined(reply), side, documents.text_of, q) if reply else cite.Verified(
            prompts.ABSTAIN, (), True)
        own = side_sentence(q, [x for x, _ in sides], side, documents.text_of) if (
            checked.abstained and reply and spoke) else None
        if own is not None:
            checked = cite.verify(_in_their_words([own]), side, documents.text_of, q)
        return checked, before

    def _nearest(self, q: str, sides, budget: int = 0, kept: bool = False):
        """Each side's sentences cut to those nearest the question (`best_sentences`, `budget` characters each,
        else config.focus_chars), with the context the citation check finds every side's name in kept; `kept`,
        that context is the sentences kept of all sides (not every sentence that names one: most of the article
        names Russia)."""
        cut = [(name, best_sentences(side, q, self.embedder, documents.text_of, budget or self.config.focus_chars
                                     or 800, self.index.sentences, self.retriever.query_vector(q)))
               for name, side in sides]
        everyone = " ".join(p.chunk.text for _, near in cut for p in near)
        return [(name, [replace(p, context=f"{documents.title(p.chunk.doc)}\n{everyone if kept else side[0].context}")
                        for p in near]) for (name, near), (_, side) in zip(cut, sides)]

    def _on_one(self, q: str, passage: Passage, kind, passages):
        """The question asked again on one passage alone (a re-read's focus sentence, a second chance's
        passage), streamed; returns (`yield from`) the reply and its verification against all `passages`:
        its "[1]" is that one passage, so the verifier finds the passage of the full list that supports it."""
        pieces = []
        for piece in self.generator.stream(prompts.answer_messages(q, [passage], kind.instruction, documents.title),
                                           kind.max_tokens or self.config.max_tokens, prompts.NOT_FIRST):
            pieces.append(piece)
            yield piece
        reply = cite.without_doubt("".join(pieces)) if kind.polarity else "".join(pieces)
        read = prompts.MARKER.sub("", reply)
        return reply, _unpicked(q, kind, read, cite.verify(read, passages, documents.text_of, q), passages)

    def _checks(self, q: str, kind, checked, seen: dict, timings: dict):
        """The steps of steps.CHECKS in order, each announced by its Stage and timed (`<name>_s`); the first
        that withholds the reply ends them. Returns (`yield from`) the reply as it stands after them."""
        now = time.perf_counter()
        for name, step in steps.CHECKS:
            run = None if checked.abstained else step(self, q, kind, checked, seen)
            if run is None:
                continue
            yield Stage(name)
            verdict = run()
            if isinstance(verdict, cite.Verified):  # the step kept part of the answer (a list's items)
                checked = verdict
            elif not verdict:
                checked = cite.Verified(prompts.ABSTAIN, (), True)
            timings[f"{name}_s"] = time.perf_counter() - now
            now = time.perf_counter()
        return checked

    def _recited(self, q: str, kind, replied, checked, seen: dict, passages) -> list[Passage]:
        """The sentences a fact withheld by the answer check is read against again (config.recite_support, the bar
        it must then reach): up to retrieve.RECITED other sentences of the passages holding half its own words at
        least, nearest the question first (retrieve.holding). The 1.5B may answer right and cite a sentence that
        names the answer without saying it: "Who is the head of Nato?" → "Jens Stoltenberg is the head of Nato",
        quoted from his "Russia doesn't have a veto" (P(yes) 0.49), where "Alliance chief Jens Stoltenberg said …"
        gives 0.65. The reply faces every check again on that sentence alone."""
        if not (self.config.recite_support > 0 and self.config.min_support > 0 and kind.name == "fact"
                and checked.abstained and not replied.abstained and seen.get("support", 1.0) < self.config.min_support):
            return []
        return holding(replied.text, q, passages, documents.text_of, self.embedder, replied.citations,
                       self.index.sentences, self.retriever.query_vector(q))

    def _spoken_instead(self, q: str, kind, raw: str, checked, passages) -> list[Passage]:
        """The sentence a withheld fact or reason about what someone said is answered with instead:
        - about what one named speaker said, that speaker's sentence sharing most of the question's topic words
          (retrieve.spoken), none where the question has some and no sentence shares one; not after the model's
          own "The documents don't say.". "How did Stoltenberg describe the talks in Brussels?": the 1.5B wrote
          Grushko's "a heart-to-heart" for him (withheld), where "The talks in Brussels, described by Mr Stoltenberg
          as a “defining moment …”" says it;
        - "Who said …?", the one sentence in which someone says (nearly) all the question's words, with the
          speaker's name before it (retrieve.who_said): "Who said there can be no place for ultimatums?", which the
          1.5B did not answer, is "Dmitry Peskov: “We are not negotiating …, any place for ultimatums here,” he
          said."."""
        if not (checked.abstained and kind.one_answer):
            return []
        # after the model's own abstention, only the words may find whom it did not ("Who said … ultimatums?")
        theirs = [] if cite.is_abstention(raw) else spoken(q, passages, documents.text_of, most=1)
        return theirs or who_said(q, passages, documents.text_of)

    def _naming_both(self, q: str, sides) -> list[Passage]:
        """The sentences of both sides of a comparison (each side all the sentences that name it or in which it
        speaks) that name both in their own words and set one against the other (`_CONTRAST`), up to BOTH, those
        nearest the question, in document order: quoted whole where the comparison is withheld. "How did the US
        and Russian positions differ at the talks?": "… the opposing views were “not easy to bridge”, with Moscow
        demanding a say in the membership of Nato and the US insisting that any progress must include a withdrawal
        of Russian troops near Ukraine" and "Moscow's key objective is to stop any eastward expansion of Nato, a
        condition rejected by the US, …"; of the 10 sentences that name both, the nearest by the embedder was
        "Wendy Sherman, the US deputy secretary of state …, said Russia brought nothing new …"."""
        if len(sides) != 2:
            return []
        forms = [cite.name_forms(name) for name, _ in sides]
        second = {(p.chunk.doc, p.chunk.start, p.chunk.end) for p in sides[1][1]}
        both = [p for p in sides[0][1] if (p.chunk.doc, p.chunk.start, p.chunk.end) in second
                and _CONTRAST.search(p.chunk.text) and all(f & cite.name_forms(p.chunk.text) for f in forms)]
        if len(both) > BOTH:
            near = self.embedder.embed([p.chunk.text for p in both]) @ self.retriever.query_vector(q)[0]
            kept = set(map(int, near.argsort()[::-1][:BOTH]))
            both = [p for n, p in enumerate(both) if n in kept]
        return both

    def _in_place(self, q: str, kind, name: str, picked: list[Passage], timings: dict):
        """Sentences quoted whole as the reply in place of a withheld one (a summary's nearest sentences, a
        speaker's own), announced as Stage `name` and timed (`<name>_s`), put to every check; returns (`yield
        from`) the verified reply, its text and what the steps saw."""
        yield Stage(name)
        now = time.perf_counter()
        yield (quoted := _in_their_words(picked))
        tried = {"passages": picked}
        second = yield from self._checks(q, kind, cite.verify(quoted, picked, documents.text_of, q), tried, {})
        timings[f"{name}_s"] = time.perf_counter() - now
        return second, quoted, tried

    def _summary_instead(self, q: str, kind, raw: str, checked, passages) -> list[Passage]:
        """The sentences a withheld summary of a topic or list is answered with instead: those nearest the question
        (`best_sentences`, SUMMARY_CHARS of them; a heading or caption left out: `proper`), quoted whole; they face
        every check, the answer check the one that matters (their words are the source's). Not after the model's
        own "The documents don't say."."""
        if not (checked.abstained and (kind.name == "summary" or kind.items)) or cite.is_abstention(raw):
            return []
        near = proper(best_sentences(passages, q, self.embedder, documents.text_of, SUMMARY_CHARS,
                                     self.index.sentences, self.retriever.query_vector(q)), documents.text_of)
        # a list's sentence holds a word of the question: to "What measures might be taken against Russia if it
        # escalates?" the nearest was Grushko's "He later said Moscow would use military means …", which the item
        # reading let through (a summary's need not: "Summarise the outcome of the talks." is answered by "The
        # conversation was quite frank, …")
        asked = cite.stems(q)
        return [p for p in near if cite.stems(p.chunk.text) & asked] if kind.items else near

    def _retry_passage(self, kind, raw: str, checked, passages, cited: set[int]) -> Passage | None:
        """The passage a withheld reply gets a second chance on (config.retry): the best ranked one it did
        not cite. Only for a set not read whole (where the passages are what retrieval ranked), a reply
        that answered (not the model's own "The documents don't say."), and a fact or a reason
        (kinds.Kind.one_answer). The reply written on it faces every check,
        the answer check with the higher bar config.retry_support: a second try answers more of the
        questions the documents do not answer, so the answer check must be on (config.min_support)."""
        if not (self.config.retry and self.config.min_support > 0 and checked.abstained and not self.whole
                and kind.one_answer and not cite.is_abstention(raw)):
            return None
        return next((p for n, p in enumerate(passages, 1) if n not in cited), None)

    @property
    def whole(self) -> bool:
        """True when the document set is small enough to be read whole (config.whole_chars):
        every question then gets every chunk, in document order, and that shared prompt
        prefix is evaluated once (`prefill`), so only the question costs prompt time."""
        return self._whole_chunks() is not None

    def _whole_chunks(self) -> list[Chunk] | None:
        """Every chunk in document order for a set read whole, else None (worked out once per index)."""
        index = self.index
        if self._whole is None or self._whole[0] is not index:
            chars = sum(len(c.text) for c in index.chunks)
            # and it must fit the context, with room for the question and the answer (~4.5 characters a token)
            fits = chars <= self.config.whole_chars and chars // 4 + 1024 <= self.config.n_ctx
            self._whole = (index, sorted(index.chunks, key=lambda c: (c.doc, c.start)) if fits else None)
        return self._whole[1]

    def passages(self, question: str, k: int = 0) -> list[Passage]:
        """The passages the model reads: the top_k retrieved, or for a set read whole, every
        chunk in document order. A set read whole is not searched: the model reads all of it
        anyway, so the embedder (torch and sentence-transformers: most of a cold start) is not
        loaded, and there is no retrieval gate; the reply's own abstention, the citation check
        and the answer check decide (an off-topic question costs a model pass, not 0.1 s)."""
        everything = self._whole_chunks()
        if everything is not None:
            return [Passage(c, 0.0, 0.0) for c in everything]
        found = self.retriever.search(question, k or self.config.top_k)
        if not self.config.focus_chars or not found:
            return found
        # a kind that reads more passages (a summary, a list) gets a larger budget
        budget = self.config.focus_chars * (2 if k > self.config.top_k else 1)
        return best_sentences(found, question, self.embedder, documents.text_of, budget, self.index.sentences,
                              self.retriever.query_vector(question))

    def prefill(self) -> None:
        """Pin the prompt prefix every question shares, so that the answer check, which uses the
        context in between, does not cost it again: for a set read whole, the system prompt and
        every chunk (saved in index/<set>/ for the next process); else the system prompt, up to
        the first passage. The fixed openings of the readings after an answer (prompts.READING_HEADS)
        are pinned too, the first time one is evaluated."""
        if not hasattr(self.generator, "prefill"):
            return
        if self.whole:
            messages = prompts.answer_messages(prompts.SLOT, [Passage(c, 0.0) for c in self._whole_chunks()],
                                               title_of=documents.title)
            self.generator.prefill(messages, prompts.SLOT, str(self.index.dir))
        else:  # "[1] {question}" stands in for the passages: the prefix ends where they begin
            slot = Passage(Chunk("", "", 0, 0, prompts.SLOT), 0.0)
            self.generator.prefill(prompts.answer_messages(prompts.SLOT, [slot]), prompts.SLOT)
        checker = self.checker if self.config.min_support > 0 else None
        for messages in prompts.READING_HEADS if hasattr(checker, "keep") else ():
            checker.keep(messages, prompts.SLOT)  # the readings' fixed openings: pinned when first evaluated

    def warm(self, background: bool = False) -> None:
        """Load the index and the model, pin the shared prompt prefix, and load the embedder: the first answer is
        then quick. A set read whole needs the embedder only to pick sentences (a comparison's sides, a summary's
        nearest sentences), and loading it (torch) held the first such answer of a session 5 s.
        background=True does it in a thread (an error then waits for the first question to be told)."""
        if background:
            threading.Thread(target=_quietly, args=(self.warm,), daemon=True).start()
            return
        if hasattr(self.generator, "load"):
            self.generator.load()
        self.prefill()
        self.embedder.embed(["warm"])

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self.index  # builds the retriever too
        return self._retriever

    def ask(self, question: str, history=()) -> Answer:
        *_, answer = self.stream(question, history)
        return answer


# characters of each side's sentences nearest the question for a comparison of two named things (retrieve.named_sides)
NAMED_SIDE_CHARS = 500
# characters of the sentences nearest the question a withheld summary of a topic is answered with (two or three,
# as the summary instruction asks)
SUMMARY_CHARS = 500
# Kinds whose question about what named speakers said is not asked of each speaker's sentences alone
# (retrieve.sides): a yes/no's reply is one Yes or No, a list's items are checked one by one
_NOT_BY_SIDE = ("yesno", "list")
_SIDE_BY_SIDE = ("compare", "twopart")  # other kinds only where the question joins the names ("Sherman and Truss")


def _unpicked(q: str, kind, read: str, checked: cite.Verified, passages) -> cite.Verified:
    """A list reply's verification, withheld where the question's words dropped most of the items its source
    backs (`cite.picked_by_question`: what is left is the word test's pick, not an answer)."""
    if kind.items and cite.picked_by_question(read, checked, passages, documents.text_of, q):
        return cite.Verified(prompts.ABSTAIN, (), True)
    return checked


def _with_polarity(checked: cite.Verified, said: str, q: str) -> cite.Verified:
    """A yes/no reply whose Yes or No (`said`) went with a sentence the citation check dropped: what is left,
    with that Yes or No where its first claim states the question's words itself (`cite.states_question`), with
    a negating word reaching them for a No and none for a Yes, the question not negated; else withheld.

    >>> v = cite.Verified("Those talks in Geneva ended with no breakthrough [2].", (), False)
    >>> [_with_polarity(v, said, "Did the talks end with a breakthrough?").text for said in ("no", "yes")]
    ['No: Those talks in Geneva ended with no breakthrough [2].', "The documents don't say."]
    >>> _with_polarity(v, "no", "Did the talks end without a breakthrough?").text
    "The documents don't say."
    """
    first = cite.claims(checked)[0][0]
    if cite.states_question(first, q) and not cite.negations(q):
        denied = bool(cite.negated(first, cite.stems(q)))
        if said == "yes" and not cite.negations(first) or said == "no" and denied:
            return replace(checked, text=f"{said.capitalize()}: {checked.text}")
    return cite.Verified(prompts.ABSTAIN, (), True)


def _in_their_words(picked: list[Passage]) -> str:
    """Sentences quoted whole as a reply, each with its passage number before its full stop.

    >>> _in_their_words([Passage(Chunk("a", "d", 0, 8, "He left."), 0.0),
    ...                  Passage(Chunk("b", "d", 9, 22, "“Go,” he said"), 0.0),
    ...                  Passage(Chunk("c", "d", 23, 30, "“Stop.”"), 0.0)])
    'He left [1]. “Go,” he said [2]. “Stop.” [3]'
    """
    out = []
    for n, p in enumerate(picked, 1):
        text = " ".join(p.chunk.text.split())
        end = text[-1] if text[-1:] in ".!?" else "" if text[-2:-1] in (".", "!", "?") else "."
        out.append(f"{text.rstrip('.!?')} [{n}]{end}")
    return " ".join(out)


BOTH = 2  # sentences naming both sides a withheld comparison may be answered with (Pipeline._naming_both)
# Words that set one side against the other in a sentence naming both
_CONTRAST = re.compile(r"\b(?:oppos\w*|differ\w*|divid\w*|reject\w*|while|whereas|unlike|but|however|"
                       r"contrast\w*|disagree\w*|versus|rather than|instead)\b", re.I)


def _offsets(sides) -> list[int]:
    """How many passages come before each side's in the passages of all sides."""
    out, n = [], 0
    for _, side in sides:
        out.append(n)
        n += len(side)
    return out


def _has_documents(root: str) -> bool:
    """A root still names a document (an upload removed from it may have been its last)."""
    try:
        documents.expand([root])
    except QAError:
        return False
    return True


def _quietly(fn) -> None:
    try:
        fn()
    except Exception:  # the same error is raised again where the model is used
        pass


_default: Pipeline | None = None
_default_lock = threading.Lock()


def default_pipeline() -> Pipeline:
    """The process-wide pipeline (config from QA_* variables), created on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Pipeline()
        return _default


def ask(question: str, history=()) -> Answer:
    """Answer one question from the indexed documents (seeds/ unless QA_DOCS says otherwise)."""
    return default_pipeline().ask(question, history)
