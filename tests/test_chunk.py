from qa.chunk import chunk_id, chunk_text, sentences
from qa.config import ROOT

TEXT = "Mr. Smith came home. He left at 5 p.m. on Friday!\n\nA new paragraph? Yes.\nLast line"


def test_sentences_respect_abbreviations_and_lines():
    got = [TEXT[a:b] for a, b in sentences(TEXT)]
    assert got == ["Mr. Smith came home.", "He left at 5 p.m. on Friday!", "A new paragraph?", "Yes.", "Last line"]


def test_chunks_overlap_by_one_sentence_and_keep_offsets():
    chunks = chunk_text("d.txt", TEXT, size=3, overlap=1)
    assert [c.text for c in chunks] == [
        "Mr. Smith came home. He left at 5 p.m. on Friday!\n\nA new paragraph?",
        "A new paragraph? Yes.\nLast line",
    ]
    for c in chunks:
        assert TEXT[c.start:c.end] == c.text
        assert c.id == chunk_id("d.txt", c.start, c.end, c.text)


def test_long_sentence_is_cut_at_whitespace_under_the_cap():
    text = " ".join(["word"] * 100) + "."
    chunks = chunk_text("d", text, size=2, overlap=0, max_chars=60)
    assert all(len(c.text) <= 60 for c in chunks)
    assert " ".join(c.text for c in chunks) == text


def test_article_chunks_cover_every_sentence():
    text = (ROOT / "seeds" / "nato_russia_talks.txt").read_text(encoding="utf-8")
    chunks = chunk_text("a", text)
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    for a, b in sentences(text):
        assert set(range(a, b)) <= covered
    assert len({c.id for c in chunks}) == len(chunks)
