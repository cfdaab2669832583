"""Managing a collection: incremental builds (changed, deleted, moved documents), `qa docs` and
Pipeline.remove_documents, the progress bar of `qa index`."""
import json

import numpy as np
import pytest
from conftest import ToyEmbedder, run_cli

from qa import documents, index as ix
from qa.api import Pipeline
from qa.chunk import chunk_id
from qa.cli import Bar
from qa.config import Config
from qa.errors import DocumentError, QAError

A = "Sherman led the American delegation. Grushko spoke for Russia. Nato met in Brussel."
B = "Stoltenberg chaired the Nato council. Truss asked for sanction talks. Ukraine was the topic."
C = "Russia moved troop near Ukraine. Sherman warned of sanction. The delegation left."


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "docs"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text(A)
    (d / "b.txt").write_text(B)
    (d / "sub" / "c.md").write_text(C)
    return d


@pytest.fixture
def config(folder, tmp_path):
    return Config(docs=(str(folder),), index_dir=str(tmp_path / "index"), min_support=0.0, whole_chars=0, confirm=0)


def name(path) -> str:
    return documents.doc_name(path)


def vectors_of(idx, doc) -> np.ndarray:
    rows = [i for i, c in enumerate(idx.chunks) if c.doc == doc]
    return idx.vectors.reconstruct_n(0, idx.vectors.ntotal)[rows]


# -- incremental builds ----------------------------------------------------------------------------------
def test_a_changed_document_alone_is_embedded_again(config, folder):
    emb = ToyEmbedder()
    ix.build(config, emb)
    (folder / "b.txt").write_text(B + " Sherman left.")
    idx = ix.build(config, emb)
    assert len(emb.calls) == 2 and emb.calls[1] == [c.text for c in idx.chunks if c.doc == name(folder / "b.txt")]


def test_a_deleted_document_is_dropped_without_embedding(config, folder):
    emb = ToyEmbedder()
    ix.build(config, emb)
    (folder / "b.txt").unlink()
    idx = ix.build(config, emb)
    assert len(emb.calls) == 1
    assert idx.docs == sorted([name(folder / "a.txt"), name(folder / "sub" / "c.md")])
    assert {c.doc for c in ix.load(idx.dir).chunks} == set(idx.docs) and idx.vectors.ntotal == len(idx.chunks)


def test_a_moved_document_keeps_its_vectors_under_its_new_name(config, folder):
    emb = ToyEmbedder()
    before = ix.build(config, emb)
    old, new = name(folder / "a.txt"), name(folder / "sub" / "renamed.txt")
    (folder / "a.txt").rename(folder / "sub" / "renamed.txt")
    idx = ix.load(ix.build(config, emb).dir)
    assert len(emb.calls) == 1  # nothing embedded again
    assert old not in idx.docs and new in idx.docs and idx.manifest["documents"][new] == documents.sha256(new)
    moved = [c for c in idx.chunks if c.doc == new]
    was = [c for c in before.chunks if c.doc == old]
    assert [(c.start, c.end, c.text) for c in moved] == [(c.start, c.end, c.text) for c in was]
    assert [c.id for c in moved] == [chunk_id(new, c.start, c.end, c.text) for c in moved]
    assert all(documents.text_of(new)[c.start:c.end] == c.text for c in moved)
    np.testing.assert_array_equal(vectors_of(idx, new), vectors_of(before, old))
    assert idx.manifest["chars"][new] == len(A)


def test_a_copy_is_indexed_from_the_vectors_of_its_original(config, folder):
    emb = ToyEmbedder()
    ix.build(config, emb)
    (folder / "copy.txt").write_text(A)
    idx = ix.build(config, emb)
    assert len(emb.calls) == 1 and len(idx.docs) == 4
    np.testing.assert_array_equal(vectors_of(idx, name(folder / "copy.txt")), vectors_of(idx, name(folder / "a.txt")))


def test_the_same_bytes_read_by_other_rules_are_embedded_again(config, folder):
    """HTML is read differently from plain text: a.txt renamed a.html is new text, not a move."""
    emb = ToyEmbedder()
    ix.build(config, emb)
    (folder / "a.txt").write_text("<p>Sherman led the <b>American</b> delegation.</p>")
    ix.build(config, emb)
    (folder / "a.txt").rename(folder / "a.html")
    idx = ix.build(config, emb)
    assert len(emb.calls) == 3 and emb.calls[2] == ["Sherman led the American delegation."]
    assert [c.text for c in idx.chunks if c.doc.endswith("a.html")] == ["Sherman led the American delegation."]


def test_many_small_documents_are_embedded_in_batches_with_progress(tmp_path):
    d = tmp_path / "many"
    d.mkdir()
    for i in range(300):
        (d / f"n{i:03d}.txt").write_text(f"Note {i} about Nato. Sherman met Grushko.")
    emb, said = ToyEmbedder(), []
    idx = ix.build(Config(docs=(str(d),), index_dir=str(tmp_path / "ix")), emb, lambda *a: said.append(a))
    assert [len(c) for c in emb.calls] == [ix.BATCH, ix.BATCH, 300 - 2 * ix.BATCH]
    assert said[0] == (0, 300, "embedding 300 chunks")
    assert said[1:] == [(128, 300, "128 chunks embedded"), (256, 300, "256 chunks embedded"),
                        (300, 300, "300 chunks embedded"), (300, 300, "saving index")]
    assert len(idx.chunks) == idx.vectors.ntotal == 300


def test_a_moved_document_with_the_real_embedder_is_found_under_its_new_name(tmp_path):
    from qa.embed import SentenceTransformerEmbedder

    d = tmp_path / "docs"
    d.mkdir()
    (d / "talks.txt").write_text("Wendy Sherman led the American delegation in Geneva.\n")
    (d / "weather.txt").write_text("It rained all week in Bergen, and the ferries were late.\n")
    config = Config(docs=(str(d),), index_dir=str(tmp_path / "ix"))
    emb = SentenceTransformerEmbedder()
    calls = []
    real = emb.embed
    emb.embed = lambda texts: calls.append(list(texts)) or real(texts)
    before = ix.build(config, emb)
    first = len(calls)  # the chunks, then their sentences
    (d / "talks.txt").rename(d / "geneva-talks.txt")
    idx = ix.build(config, emb)
    assert first == 2 and len(calls) == first
    # its sentences' vectors move with it
    assert set(idx.sentences.rows) == {(k[0].replace("talks.txt", "geneva-talks.txt"), *k[1:]) if "talks" in k[0]
                                      else k for k in before.sentences.rows}
    q = emb.embed(["Who led the American delegation?"])
    _, rows = idx.vectors.search(q, 1)
    assert idx.chunks[rows[0][0]].doc == name(d / "geneva-talks.txt")
    np.testing.assert_allclose(vectors_of(idx, name(d / "geneva-talks.txt")),
                               real(["Wendy Sherman led the American delegation in Geneva."]), atol=1e-5)


# -- removing documents ----------------------------------------------------------------------------------
def test_remove_documents_drops_it_and_the_next_build_of_the_folder_leaves_it_out(config, folder):
    emb = ToyEmbedder()
    pipe = Pipeline(config, embedder=emb)
    pipe.build()
    assert pipe.remove_documents(["b.txt"]) == [name(folder / "b.txt")]
    assert name(folder / "b.txt") not in pipe.documents() and len(pipe.documents()) == 2
    assert (folder / "b.txt").exists() and len(emb.calls) == 1  # the file stays; nothing embedded
    assert all(p.chunk.doc != name(folder / "b.txt") for p in pipe.passages("Stoltenberg chaired the council", 5))
    asked = len(emb.calls)  # retrieval embeds the question
    again = Pipeline(config, embedder=emb).build()  # the next `qa index` of the same folder
    assert name(folder / "b.txt") not in again.docs and len(emb.calls) == asked
    assert again.manifest["excluded"] == [name(folder / "b.txt")]
    (folder / "b.txt").write_text(B + " Changed.")  # a change does not bring it back either
    assert name(folder / "b.txt") not in ix.build(config, emb).docs


def test_a_damaged_manifest_does_not_bring_a_removed_document_back(config, folder, capsys):
    emb = ToyEmbedder()
    pipe = Pipeline(config, embedder=emb)
    pipe.build()
    pipe.remove_documents(["b.txt"])
    (pipe.index.dir / "manifest.json").write_text('{"format": 2, "excl')  # torn by a crash or an editor
    rebuilt = ix.build(config, emb)
    assert "rebuilding" in capsys.readouterr().err
    assert name(folder / "b.txt") not in rebuilt.docs and len(rebuilt.docs) == 2
    assert rebuilt.manifest["excluded"] == [name(folder / "b.txt")]
    (pipe.index.dir / "manifest.json").write_text("not json")  # and `qa docs restore` still works
    assert ix.restore(config, ["b.txt"]) == [name(folder / "b.txt")]
    assert name(folder / "b.txt") in ix.build(config, emb).docs


def test_restore_brings_a_removed_document_back_at_the_next_build(config, folder):
    emb = ToyEmbedder()
    Pipeline(config, embedder=emb).build()
    Pipeline(config, embedder=emb).remove_documents([str(folder / "sub" / "c.md")])
    assert ix.restore(config, ["c.md"]) == [name(folder / "sub" / "c.md")]
    assert name(folder / "sub" / "c.md") in ix.build(config, emb).docs
    with pytest.raises(ix.UnknownDocument, match="'c.md' names no removed document"):
        ix.restore(config, ["c.md"])


def test_remove_unknown_or_ambiguous_names_is_one_line_and_changes_nothing(config, folder):
    (folder / "sub" / "a.txt").write_text(C + " Again.")
    pipe = Pipeline(config, embedder=ToyEmbedder())
    before = [c.id for c in pipe.build().chunks]
    with pytest.raises(ix.UnknownDocument) as e:
        pipe.remove_documents(["nope.txt"])
    assert isinstance(e.value, QAError) and str(e.value) == "'nope.txt' names no document of this index; `qa docs` lists them"
    with pytest.raises(ix.UnknownDocument, match=r"'a.txt' is ambiguous \(.*/docs/a.txt, .*/docs/sub/a.txt\); give its path"):
        pipe.remove_documents(["a.txt"])
    with pytest.raises(DocumentError, match="would leave no document"):
        pipe.remove_documents([str(folder / "a.txt"), str(folder / "sub" / "a.txt"), "b.txt", "c.md"])
    assert [c.id for c in ix.load(pipe.index.dir).chunks] == before and len(pipe.documents()) == 4


def test_removing_an_upload_deletes_the_file_and_its_root(config, folder, tmp_path):
    uploads = tmp_path / "index" / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "memo.txt").write_text("Truss met Stoltenberg about Ukraine.")
    emb = ToyEmbedder()
    pipe = Pipeline(config, embedder=emb)
    pipe.add_documents([str(uploads / "memo.txt")])
    assert pipe.remove_documents(["memo.txt"]) == [name(uploads / "memo.txt")]
    assert not (uploads / "memo.txt").exists() and pipe.config.docs == config.docs
    assert pipe.index.dir == ix.set_dir(config) and "excluded" in pipe.index.manifest
    assert pipe.index.manifest["excluded"] == [] and len(pipe.documents()) == 3
    assert Pipeline(config, embedder=emb).build().docs == pipe.documents() and len(emb.calls) == 1


# -- the command line ------------------------------------------------------------------------------------
def test_qa_docs_lists_removes_and_refuses_unknown_names(config, folder, tmp_path):
    idx = ix.build(config, ToyEmbedder())
    where = ["--docs", str(folder), "--index-dir", config.index_dir]
    r = run_cli("docs", *where)
    assert r.returncode == 0, r.stderr
    rows = r.stdout.splitlines()
    width = max(len(d) for d in idx.docs)
    a = name(folder / "a.txt")
    n = sum(c.doc == a for c in idx.chunks)
    assert rows[0] == f"{a:<{width}}  {len(A):>9,} chars  {n:>6,} chunks  {documents.sha256(a)[:12]}"
    assert rows[-1] == f"3 document(s), {len(idx.chunks)} chunks in {idx.dir}"

    r = run_cli("docs", "remove", "nope.md", *where)
    assert r.returncode == 2 and r.stderr == "qa: error: 'nope.md' names no document of this index; `qa docs` lists them\n"
    r = run_cli("docs", "remove", "c.md", *where)
    assert r.returncode == 0 and r.stdout == f"removed {name(folder / 'sub' / 'c.md')}\n", r.stderr
    r = run_cli("docs", *where)
    assert r.stdout.splitlines()[-1].endswith(f"; removed: {name(folder / 'sub' / 'c.md')}")
    assert json.loads((idx.dir / "manifest.json").read_text())["excluded"] == [name(folder / "sub" / "c.md")]
    r = run_cli("docs", "remove", "c.md", *where)
    assert r.returncode == 2 and "it was removed (`qa docs restore` brings it back)" in r.stderr
    r = run_cli("docs", "frobnicate", *where)
    assert r.returncode == 2 and r.stderr.startswith("qa: error: use `qa docs`")


def test_qa_docs_without_an_index_says_to_build_one(tmp_path, folder):
    r = run_cli("docs", "--docs", str(folder), "--index-dir", str(tmp_path / "none"))
    assert r.returncode == 2 and r.stderr == f"qa: error: no index of {folder} yet; run `qa index` first\n"


def test_qa_docs_help_says_what_remove_means():
    r = run_cli("docs", "--help")
    assert r.returncode == 0 and "Example: qa docs" in r.stdout
    assert "stays out of later `qa index` runs" in r.stdout and "restore NAME" in r.stdout


def test_the_progress_bar_counts_documents_and_chunks_on_stderr(capsys):
    with Bar() as bar:
        bar(0, 0, "index at x is corrupt: rebuilding it from the documents")
        bar(0, 3, "embedding 7 chunks")
        bar(3, 3, "7 chunks embedded")
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("  index at x is corrupt: rebuilding it from the documents\n")
    assert "indexing 3/3 documents |" in err and "00:00, 7 chunks embedded" in err
