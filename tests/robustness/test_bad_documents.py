"""Odd documents: added to a Pipeline that answers from a good set (scripted model, ToyEmbedder),
and given to `qa index` in a fresh process. Each is refused with one line or indexed correctly;
the index on disk is never left broken and the good set keeps answering."""
import json
import time
from pathlib import Path

import pytest
from rb_util import pipeline

from qa import chunk, documents, index as ix, robustness
from qa.errors import DocumentError
from qa.robustness import DOCUMENTS, QUESTION, ask_outcome, cli_outcome, document_outcome, expected


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in DOCUMENTS])
def test_a_bad_document_is_refused_or_indexed_and_the_good_set_keeps_answering(case, tmp_path):
    if case.skip():
        pytest.skip(case.skip())
    pipe, _ = pipeline(tmp_path)
    (tmp_path / "bad").mkdir()
    outcome = document_outcome(case, tmp_path / "bad", pipe)
    assert not outcome.traceback, outcome.detail
    assert expected(case, outcome), outcome.detail
    assert ask_outcome(pipe, QUESTION).detail.startswith("answer: Wendy Sherman led the American delegation [")
    for manifest in (tmp_path / "index").glob("*/manifest.json"):  # every index on disk loads
        ix.load(manifest.parent)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in DOCUMENTS if c.cli and c.expect])
def test_qa_index_refuses_a_bad_document_in_one_line_and_writes_nothing(case, tmp_path):
    if case.skip():
        pytest.skip(case.skip())
    (tmp_path / "bad").mkdir()
    path = case.make(tmp_path / "bad")
    r = robustness.run_cli("index", str(path), env={"QA_MODEL": str(tmp_path / "no.gguf"),
                                                     "QA_INDEX_DIR": str(tmp_path / "ix")})
    outcome = cli_outcome(r)
    assert not outcome.traceback, outcome.detail
    assert expected(case, outcome), outcome.detail
    assert not list((tmp_path / "ix").glob("*/*"))


def test_utf16_with_a_bom_is_read_as_its_text(tmp_path):
    p = tmp_path / "u.txt"
    p.write_bytes("Café à Genève. Zoë’s “quote”.\n".encode("utf-16"))
    assert documents.text_of(str(p)) == "Café à Genève. Zoë’s “quote”.\n"


def test_a_file_that_cannot_be_read_is_a_clear_error(tmp_path, monkeypatch):
    # root reads a chmod 000 file, so the OS's refusal is stood in for where it is what qa sees
    p = tmp_path / "locked.txt"
    p.write_text("text\n")

    def refuse(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(DocumentError, match=r"locked\.txt: cannot read \(Permission denied\)$"):
        documents.text_of(str(p))


def test_a_run_on_sentence_of_initials_is_chunked_in_linear_time():
    # "J. J. J. ...": every period is checked for an abbreviation; the old code searched back to the
    # sentence start each time (60 kB took 35 s)
    t0 = time.perf_counter()
    chunks = chunk.chunk_text("d", "J. " * 20_000)
    assert time.perf_counter() - t0 < 3
    assert chunks and max(c.end - c.start for c in chunks) <= 800


def test_a_changed_document_is_recorded_with_the_hash_of_the_bytes_indexed(tmp_path):
    case = next(c for c in DOCUMENTS if c.change)
    pipe, _ = pipeline(tmp_path)
    path = case.make(tmp_path)
    with robustness.changing(path, case.change) as seen:
        idx = pipe.add_documents([str(path)])
    assert seen and path.read_bytes() == case.change  # the file did change during the build
    assert robustness._indexed_as_read(idx, path, seen[0]) == ""
    again = pipe.build()  # the next build sees the change and indexes the new text
    assert robustness.index_is_correct(again) == ""
    assert any("Lars Holm" in c.text for c in again.chunks)


def test_the_command_line_end_to_end_good_set_bad_file_corrupt_index(tmp_path):
    """Real embedder, no chat model: a UTF-16 file in a path with spaces and non-ASCII is indexed; a PNG
    named .txt is refused in one line and the good index still loads; a truncated FAISS file is
    detected and rebuilt, with one line saying so."""
    good = tmp_path / "my docs" / "Überblick – café.txt"
    good.parent.mkdir()
    good.write_bytes((robustness.SENTENCE * 3).encode("utf-16"))
    env = {"QA_MODEL": str(tmp_path / "no.gguf"), "QA_INDEX_DIR": str(tmp_path / "ix")}
    r = robustness.run_cli("index", str(good), env=env)
    assert r.returncode == 0 and b"indexed 1 document(s), 1 chunks" in r.stdout, r.stderr
    [manifest] = (tmp_path / "ix").glob("*/manifest.json")
    before = [c.id for c in ix.load(manifest.parent).chunks]

    bad = tmp_path / "image.txt"
    bad.write_bytes(robustness._png())
    assert cli_outcome(robustness.run_cli("index", str(bad), env=env)).detail.startswith(
        f"error: {bad}: a binary file, not text")
    assert [c.id for c in ix.load(manifest.parent).chunks] == before

    vectors = manifest.parent / json.loads(manifest.read_text())["files"]["vectors"]
    vectors.write_bytes(vectors.read_bytes()[:100])
    r = robustness.run_cli("index", str(good), env=env)
    told = [line for line in r.stderr.decode().splitlines() if "rebuilding" in line]
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr
    assert len(told) == 1, r.stderr
    assert told[0].startswith(f"  index at {manifest.parent} is corrupt: {vectors.name} has 100 bytes, the manifest says ")
    assert told[0].endswith(": rebuilding it from the documents")
    assert [c.id for c in ix.load(manifest.parent).chunks] == before
