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
