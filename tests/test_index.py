import json
import shutil

import numpy as np
import pytest

from qa import index as ix
from qa.config import Config
from qa.errors import IndexError_

from conftest import ToyEmbedder


def test_build_persists_readable_files_and_a_manifest(toy_config):
    idx = ix.build(toy_config, ToyEmbedder())
    m = json.loads((idx.dir / "manifest.json").read_text())
    assert m["format"] == ix.FORMAT and m["embedder"] == "toy" and m["dim"] == 13
    assert m["chunk"] == {"sentences": 3, "overlap": 1, "max_chars": 800}
    [(doc, digest)] = m["documents"].items()
    assert doc.endswith("nato_russia_talks.txt") and len(digest) == 64
    lines = (idx.dir / m["files"]["chunks"]).read_text().splitlines()
    assert len(lines) == m["n_chunks"] == len(idx.chunks) == idx.vectors.ntotal
    assert sorted(p.name for p in idx.dir.iterdir()) == sorted(["manifest.json", *m["files"].values()])


def test_unchanged_documents_are_not_embedded_again(toy_config, article_dir):
    emb = ToyEmbedder()
    ix.build(toy_config, emb)
    ix.build(toy_config, emb)
    assert len(emb.calls) == 1
    (article_dir / "extra.md").write_text("# Notes\n\nSherman met Sannino in Brussels.\n")
    idx = ix.build(toy_config, emb)
    assert len(emb.calls) == 2 and emb.calls[1] == ["# Notes\n\nSherman met Sannino in Brussels."]
    assert len(idx.docs) == 2


def test_changed_chunk_settings_rebuild_everything(toy_config):
    emb = ToyEmbedder()
    ix.build(toy_config, emb)
    from dataclasses import replace

    idx = ix.build(replace(toy_config, chunk_sentences=2, chunk_overlap=0), emb)
    assert len(emb.calls) == 2 and idx.manifest["chunk"]["sentences"] == 2


def test_an_index_made_by_another_reading_of_the_files_is_rebuilt(toy_config, monkeypatch):
    """Offsets index the text as read: when the reading changes (hidden HTML left out), they must be made anew."""
    emb = ToyEmbedder()
    ix.build(toy_config, emb)
    monkeypatch.setattr(ix.documents, "READER", ix.documents.READER + 1)
    idx = ix.build(toy_config, emb)
    assert len(emb.calls) == 2 and idx.manifest["reader"] == ix.documents.READER


def test_corrupt_index_is_reported_then_rebuilt_from_the_documents(toy_config):
    emb = ToyEmbedder()
    idx = ix.build(toy_config, emb)
    (idx.dir / idx.manifest["files"]["vectors"]).write_bytes(b"not a faiss file")
    with pytest.raises(IndexError_, match="corrupt"):
        ix.load(idx.dir)
    again = ix.build(toy_config, emb)
    assert again.vectors.ntotal == len(again.chunks) and len(emb.calls) == 2


def test_interrupted_build_leaves_the_previous_index_loadable(toy_config, article_dir, monkeypatch):
    emb = ToyEmbedder()
    before = ix.build(toy_config, emb)
    (article_dir / "new.txt").write_text("Another document about Nato.\n")

    def crash(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(ix, "atomic_write", crash)
    with pytest.raises(KeyboardInterrupt):
        ix.build(toy_config, emb)
    monkeypatch.undo()
    after = ix.load(before.dir)
    assert [c.id for c in after.chunks] == [c.id for c in before.chunks]


def test_document_sets_get_separate_indexes(tmp_path, article_dir):
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.txt").write_text("Something else entirely.\n")
    a = ix.set_dir(Config(docs=(str(article_dir),), index_dir=str(tmp_path / "i")))
    b = ix.set_dir(Config(docs=(str(other),), index_dir=str(tmp_path / "i")))
    assert a != b and a.parent == b.parent


def test_the_sentences_of_a_real_index_are_stored_and_picked_as_when_embedded_at_question_time(tmp_path):
    """The real embedder's index keeps a vector for every sentence of its chunks, read alone as at question
    time; best_sentences then embeds nothing (the question's vector is retrieval's) and picks the same
    sentences. Removing a document drops its sentences; their file is checked like the others."""
    from qa import documents
    from qa.chunk import sentences
    from qa.config import ROOT
    from qa.embed import SentenceTransformerEmbedder
    from qa.retrieve import Retriever, best_sentences

    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("Normans", "Huguenot", "Steam_engine"):
        (docs / f"{name}.txt").write_bytes((ROOT / "bench/data/squad2_corpus/docs" / f"{name}.txt").read_bytes())
    config = Config(docs=(str(docs),), index_dir=str(tmp_path / "ix"))
    emb = SentenceTransformerEmbedder()
    idx = ix.build(config, emb)
    keys = {(c.doc, a, b) for c in idx.chunks for a, b in sentences(documents.text_of(c.doc), c.start, c.end)}
    assert set(idx.sentences.rows) == keys and idx.sentences.vectors.shape == (len(keys), emb.dim)
    some = sorted(keys)[:20]
    np.testing.assert_allclose(idx.sentences.of(some), emb.embed([documents.text_of(d)[a:b] for d, a, b in some]),
                               atol=1e-5)
    assert ix.load(idx.dir).sentences.rows == idx.sentences.rows  # saved and read back

    r = Retriever(idx, emb)
    for q, answer in (("When did the Siege of Antioch take place?", "1097"),
                      ("What was the Edict of Nantes?", "Edict of Nantes"),
                      ("Who patented the first steam engine?", "Savery")):
        found = r.search(q, 5)
        calls = []
        spy = type("Spy", (), {"embed": lambda self, texts: calls.append(texts) or emb.embed(texts)})()
        stored = best_sentences(found, q, spy, documents.text_of, 800, idx.sentences, r.query_vector(q))
        fresh = best_sentences(found, q, emb, documents.text_of, 800)
        assert calls == []  # nothing embedded: the sentences' vectors are stored, the question's kept
        assert [p.chunk.text for p in stored] == [p.chunk.text for p in fresh]
        assert any(answer in p.chunk.text for p in stored)

    smaller = ix.remove(idx, [name_of(docs / "Normans.txt")])
    assert {d for d, _, _ in smaller.sentences.rows} == {c.doc for c in smaller.chunks}
    stored = smaller.dir / ix.load(smaller.dir).manifest["files"]["sentences"]
    stored.write_bytes(stored.read_bytes()[:-100] + b"x" * 100)  # damaged, same size: detected, then rebuilt
    with pytest.raises(IndexError_, match="sha256 differs"):
        ix.load(smaller.dir)
    assert set(ix.build(config, emb).sentences.rows) == set(idx.sentences.rows)  # rebuilt from the folder


def name_of(path):
    from qa.documents import doc_name
    return doc_name(path)
