import pytest

from qa import documents
from qa.errors import DocumentError


def test_non_utf8_document_is_a_clear_error(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("café".encode("latin-1"))
    with pytest.raises(DocumentError, match="not UTF-8"):
        documents.text_of(str(p))


def test_html_becomes_text_without_scripts(tmp_path):
    p = tmp_path / "page.html"
    p.write_text("<html><head><style>p{}</style><script>alert(1)</script></head>"
                 "<body><h1>Title</h1><p>Tom &amp; Jerry met.</p></body></html>")
    assert documents.text_of(str(p)) == "Title\n\nTom & Jerry met.\n"


def test_missing_and_unsupported_paths(tmp_path):
    with pytest.raises(DocumentError, match="no such file"):
        documents.expand([str(tmp_path / "nope")])
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(DocumentError, match="unsupported file type .pdf"):
        documents.expand([str(tmp_path / "x.pdf")])


def test_folders_are_expanded_recursively_and_sorted(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.md").write_text("z")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "skip.bin").write_text("x")
    assert documents.expand([str(tmp_path)]) == [str(tmp_path / "a.txt"), str(tmp_path / "b" / "z.md")]


def test_edited_file_is_reread(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text("one")
    assert documents.text_of(str(p)) == "one"
    p.write_text("two")
    assert documents.text_of(str(p)) == "two"
