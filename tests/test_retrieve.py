import numpy as np

from qa.retrieve import BM25, RRF_K, Retriever, tokens
from qa.types import Chunk


def test_tokens_drop_stopwords_and_fold_plurals():
    assert tokens("The US delegation's troops were in Brussels") == ["us", "delegation", "troop", "brussel"]


def test_bm25_prefers_the_rarer_matching_term():
    bm = BM25(["troop troop", "russia troop", "russia nato"])
    s = bm.scores("troop")
    assert s[0] > s[1] > 0 and s[2] == 0


class _Index:
    def __init__(self, texts, vectors):
        import faiss

        self.chunks = [Chunk(str(i), "d", i * 10, i * 10 + 5, t) for i, t in enumerate(texts)]
        self.vectors = faiss.IndexFlatIP(vectors.shape[1])
        self.vectors.add(vectors.astype("float32"))


class _Fixed:
    """Query vector fixed by hand: e0."""
    name, dim = "fixed", 2

    def embed(self, texts):
        return np.array([[1.0, 0.0]] * len(texts), dtype="float32")


def test_rrf_fuses_dense_and_lexical_ranks_exactly():
    texts = ["alpha", "beta gamma", "gamma"]
    vecs = np.array([[1, 0], [0.6, 0.8], [0, 1]])  # dense order for e0: 0, 1, 2
    r = Retriever(_Index(texts, vecs), _Fixed())
    got = r.search("gamma", k=3)
    # lexical order: chunk 2 (short doc) then chunk 1; chunk 0 has no match
    fused = {0: 1 / (RRF_K + 1), 1: 1 / (RRF_K + 2) + 1 / (RRF_K + 2), 2: 1 / (RRF_K + 3) + 1 / (RRF_K + 1)}
    assert [p.chunk.id for p in got] == ["2", "1", "0"]  # 1/63 + 1/61 > 2/62, by a hair
    for p in got:
        assert abs(p.score - fused[int(p.chunk.id)]) < 1e-9
    assert [round(p.dense, 6) for p in got] == [0.0, 0.6, 1.0]


def test_best_sentences_keeps_the_sentences_nearest_the_question_within_the_budget_and_joins_neighbours():
    from conftest import ToyEmbedder

    from qa.retrieve import best_sentences
    from qa.types import Passage

    doc = ("Sherman led the American delegation. The weather was cold. Grushko led the Russian side. "
           "Nato met in Brussels. Sherman spoke of the American troops.")
    text_of = {"d": doc, "e": "Truss spoke of sanctions. Ukraine waited."}.__getitem__
    first = Chunk("a", "d", 0, doc.index(" Nato"), doc[:doc.index(" Nato")])   # sentences 1-3
    second = Chunk("b", "d", doc.index("Nato"), len(doc), doc[doc.index("Nato"):])  # sentences 4-5
    other = Chunk("c", "e", 0, 25, "Truss spoke of sanctions.")
    passages = [Passage(first, 0.3, 0.7), Passage(other, 0.2, 0.4), Passage(second, 0.1, 0.2)]
    got = best_sentences(passages, "Who led the American delegation?", ToyEmbedder(), text_of, budget=80)
    # nearest: sentence 1 (sherman, american, delegation), then sentence 5 (sherman, american): 73 characters;
    # the cold weather, Grushko, Nato and Truss sentences are farther and do not fit in what is left
    assert [p.chunk.text for p in got] == ["Sherman led the American delegation.",
                                           "Sherman spoke of the American troops."]
    for p in got:  # real offsets into the document, and the retrieved passage's dense score for the gate
        assert doc[p.chunk.start:p.chunk.end] == p.chunk.text
    assert [p.dense for p in got] == [0.7, 0.2]
    # each knows the title of its document and the chunk it was cut from
    assert [p.context for p in got] == [f"d\n{first.text}", f"d\n{second.text}"]
    wide = best_sentences(passages, "Who led the American delegation?", ToyEmbedder(), text_of, budget=1000)
    # everything fits: the five sentences of d are neighbours and join into one passage
    assert any(p.chunk.text == doc for p in wide) and sum(p.chunk.doc == "d" for p in wide) == 1


def test_best_sentences_reads_stored_sentence_vectors_and_embeds_only_what_is_missing():
    """With every candidate sentence's vector stored (index.Sentences) and the question's given, nothing is
    embedded and the pick is the one the embedder's own vectors give; one sentence missing, all are embedded."""
    from conftest import ToyEmbedder

    from qa.chunk import sentences
    from qa.index import Sentences
    from qa.retrieve import best_sentences
    from qa.types import Passage

    doc = "Sherman led the American delegation. The weather was cold. Grushko led the Russian side."
    chunk = Chunk("a", "d", 0, len(doc), doc)
    keys = [("d", a, b) for a, b in sentences(doc, 0, len(doc))]
    toy = ToyEmbedder()
    stored = Sentences.of_keys(dict(zip(keys, toy.embed([doc[a:b] for _, a, b in keys]))), toy.dim)
    q = "Who led the American delegation?"
    want = best_sentences([Passage(chunk, 1.0, 0.5)], q, ToyEmbedder(), {"d": doc}.__getitem__, budget=40)
    spy = ToyEmbedder()
    got = best_sentences([Passage(chunk, 1.0, 0.5)], q, spy, {"d": doc}.__getitem__, 40, stored, toy.embed([q]))
    assert spy.calls == [] and [p.chunk.text for p in got] == [p.chunk.text for p in want] == [
        "Sherman led the American delegation."]
    partial = Sentences.of_keys({k: stored.vectors[stored.rows[k]] for k in keys[:2]}, toy.dim)
    best_sentences([Passage(chunk, 1.0, 0.5)], q, spy, {"d": doc}.__getitem__, 40, partial, toy.embed([q]))
    assert spy.calls == [[q] + [doc[a:b] for _, a, b in keys]]


def test_a_sentence_whose_speaker_is_a_she_or_he_is_written_with_the_speaker_s_name(article_dir):
    # session 31, dev probe ls2-07: a withheld list quoted Truss's "She said that a further military incursion …"
    # in her stead, and the reader was not told whose words they were
    from qa import api, cite, documents
    from qa.chunk import sentences, span
    from qa.retrieve import speaker_named
    from qa.types import Passage

    doc = str(next(article_dir.glob("*.txt")))
    text = documents.text_of(doc)
    picked = [Passage(span(doc, text, a, b), 0.0) for a, b in sentences(text) if text[a:b].startswith(
        ("She said that", "Julianne Smith", "They took place", "He later said"))]
    quoted = cite.verify(api._in_their_words(picked), picked, documents.text_of)
    assert not quoted.abstained and len(quoted.citations) == 4
    named = speaker_named(quoted, documents.text_of)
    assert named.citations == quoted.citations and named.abstained is False
    shown = [s for s, _ in cite.claims(named)]
    assert shown[1].startswith("Mr Grushko: He later said Moscow would use military means"), shown
    assert shown[2].startswith("UK Foreign Secretary Liz Truss: She said that a further military incursion"), shown
    # a sentence that names its speaker, and one whose "They" speaks of nobody, stay as they are
    assert shown[0].startswith("They took place as Russian troop movements")
    assert shown[3].startswith("Julianne Smith, the US ambassador")
    # its quote is still the sentence, cut from the source; named twice, it is named once
    assert all(text[c.start:c.end] == c.quote for c in named.citations)
    assert speaker_named(named, documents.text_of) == named
