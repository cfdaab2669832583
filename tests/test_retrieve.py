import numpy as np

from qa.retrieve import BM25, RRF_K, Retriever, merge_overlapping, tokens
from qa.types import Chunk, Passage


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


def _p(id_, start, end, score, doc="d"):
    text = "One. Two. Three. Four. Five. Six."
    return Passage(Chunk(id_, doc, start, end, text[start:end]), score, score / 2)


def test_overlapping_windows_are_merged_and_keep_the_best_rank():
    text = "One. Two. Three. Four. Five. Six."
    # ranked: "Four. Five." | "One. Two." | "Two. Three. Four." (overlaps both) | "Six." | other doc
    ps = [_p("c", 17, 28, 0.9), _p("a", 0, 9, 0.8), _p("b", 5, 22, 0.7), _p("d", 29, 33, 0.6),
          _p("x", 0, 4, 0.5, doc="e")]
    got = merge_overlapping(ps, lambda doc: text)
    assert [(p.chunk.id, p.chunk.text, p.score, p.dense) for p in got] == [
        ("c+a+b", "One. Two. Three. Four. Five.", 0.9, 0.45),  # a chain of overlaps is one passage
        ("d", "Six.", 0.6, 0.3),                                # touching is not overlapping
        ("x", "One.", 0.5, 0.25),                               # same offsets, another document
    ]


def test_passages_that_do_not_overlap_are_returned_unchanged():
    ps = [_p("b", 10, 16, 0.9), _p("a", 0, 4, 0.8)]
    assert merge_overlapping(ps, lambda doc: "unused") == ps
