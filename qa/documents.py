"""Reading documents: which files count, their text, and their names.

A document is named by its path relative to the repository when it lives
inside it (``seeds/nato_russia_talks.txt``), else by its absolute path.
`text_of(doc)` is the one definition of a document's text: every chunk and
citation offset points into it.
"""
from __future__ import annotations

import hashlib
import html
import re
import threading
from collections import OrderedDict
from html.parser import HTMLParser
from pathlib import Path

from .config import ROOT
from .errors import DocumentError

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf"}
KINDS = ".txt, .md, .html or .pdf"  # what an error about a file type suggests
# How a file is read into text; an index made by another reading is rebuilt (its offsets would be wrong).
# 2: hidden HTML elements and Markdown comments are left out
READER = 2


def doc_name(path: str | Path) -> str:
    p = Path(path).resolve()
    try:
        return p.relative_to(ROOT).as_posix()
    except ValueError:
        return str(p)


def doc_path(doc: str) -> Path:
    p = Path(doc)
    return p if p.is_absolute() else ROOT / p


def locate(path: str | Path) -> Path:
    """A path as given, or relative to the repository when it is not found as given
    (the default config's "seeds" works from any working directory)."""
    p = Path(path)
    try:
        return (ROOT / p if not p.is_absolute() and not p.exists() else p).resolve()
    except (RuntimeError, OSError) as e:  # Python 3.11 raises RuntimeError on a symlink loop
        raise DocumentError(f"{path}: cannot follow the path ({e})") from None


def expand(paths) -> list[str]:
    """Files and folders -> sorted document names; folders are searched recursively.
    A folder with no document in it is an error, not an empty index.

    >>> expand(["seeds"])  # doctest: +SKIP
    ['seeds/nato_russia_talks.txt']
    """
    found: set[str] = set()
    for raw in paths:
        p = locate(raw)
        if p.is_dir():
            inside = {doc_name(f) for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES
                      and not any(part.startswith(".") for part in f.relative_to(p).parts)}
            if not inside:  # a folder named to be read that holds nothing readable is a mistake to report
                raise DocumentError(f"{raw}: no documents ({KINDS}) in this folder")
            found |= inside
        elif p.is_file():
            if p.suffix.lower() not in SUFFIXES:
                raise DocumentError(f"{raw}: unsupported file type {p.suffix or '(none)'}; use {KINDS}")
            found.add(doc_name(p))
        elif p.exists():  # a FIFO, socket or device: reading it could block forever
            raise DocumentError(f"{raw}: not a regular file or folder")
        else:
            raise DocumentError(f"{raw}: no such file or folder")
    if not found:
        raise DocumentError(f"no documents given; name files or folders ({KINDS})")
    return sorted(found)


def read_bytes(doc: str) -> bytes:
    try:
        return doc_path(doc).read_bytes()
    except OSError as e:
        raise DocumentError(f"{doc}: cannot read ({e.strerror or e})") from None


def sha256(doc: str) -> str:
    return hashlib.sha256(read_bytes(doc)).hexdigest()


_CACHE: OrderedDict[tuple[str, str], str] = OrderedDict()  # (doc, sha256) -> text, the 64 last used


_LOCK = threading.Lock()  # the chat server reads documents from several threads


def _text(doc: str, digest: str, raw: bytes | None = None) -> str:
    key = (doc, digest)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    text = decode(doc, read_bytes(doc) if raw is None else raw)
    with _LOCK:
        _CACHE[key] = text
        while len(_CACHE) > 64:
            _CACHE.popitem(last=False)
    return text


def decode(doc: str, raw: bytes) -> str:
    """A file's bytes -> its text: UTF-8 (a BOM allowed), UTF-16 or UTF-32 with a BOM, a PDF's
    text layer, an HTML page's visible text. Binary, other encodings and empty files are errors."""
    suffix = Path(doc).suffix.lower()
    if suffix == ".pdf":
        text = pdf_to_text(raw, doc)
        if not text.strip():
            raise DocumentError(f"{doc}: the PDF has no text layer (a scan?); run OCR on it first")
        return text
    text = _unicode(doc, raw)
    if suffix in {".html", ".htm"}:
        text = html_to_text(text)
    elif suffix in {".md", ".markdown"}:
        text = _MD_COMMENT.sub("", text)
    if not text.strip():
        raise DocumentError(f"{doc}: the document is empty")
    return text


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
         (b"\xfe\xff", "utf-16"))


def _unicode(doc: str, raw: bytes) -> str:
    for bom, codec in _BOMS:  # a byte-order mark names its encoding unambiguously
        if raw.startswith(bom):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                break  # not really UTF-16/32: reported below as what it is not
    nul = raw.find(b"\x00", 0, 8192)  # no text file holds a NUL; PNG, ELF, zip and UTF-16 without a BOM do
    if nul >= 0:
        raise DocumentError(f"{doc}: a binary file, not text (a NUL byte at offset {nul}); use {KINDS}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DocumentError(f"{doc}: not UTF-8 text (bad byte at offset {e.start}); convert it to UTF-8 first") from None


def text_of(doc: str) -> str:
    """The document's text as indexed; cached per content hash, so an edited file is re-read."""
    return _text(doc, sha256(doc))


def title(doc: str) -> str:
    """A document's title: its first line when that reads as a heading (short, no closing period),
    else its file name in words.

    >>> title("bench/data/squad2_corpus/docs/Steam_engine.txt")
    'Steam engine'
    """
    try:
        first = next((line.strip().lstrip("#").strip() for line in text_of(doc)[:300].splitlines() if line.strip()),
                     "")
    except DocumentError:
        first = ""
    if 2 <= len(first) <= 100 and not first.endswith((".", "!", "?", ":", ";", ",")):
        return first
    return re.sub(r"[_-]+", " ", Path(doc).stem).strip() or Path(doc).name


def load(doc: str) -> tuple[str, str]:
    """(sha256, text) of one reading of the file: the hash always names the bytes the text came from,
    even when the file changes while it is being indexed."""
    raw = read_bytes(doc)
    digest = hashlib.sha256(raw).hexdigest()
    text = decode(doc, raw)
    _text(doc, digest, raw)  # cached: text_of finds it while the file stays the same
    return digest, text


# A Markdown comment, hidden when the file is rendered (one left open hides the rest of the file)
_MD_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
# An element a browser does not show: hidden, aria-hidden, or a style of display:none / visibility:hidden
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def _hidden(attrs) -> bool:
    a = {k.lower(): (v or "") for k, v in attrs}
    return "hidden" in a or a.get("aria-hidden", "").lower() == "true" or bool(_HIDDEN_STYLE.search(a.get("style", "")))


class _Text(HTMLParser):
    """An HTML page's visible text. Comments, scripts, styles and hidden elements are left out: text a
    reader never sees is never given to the model nor quoted to the reader (an injected order hides there)."""
    BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "title"}
    SKIP = {"script", "style", "noscript", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.hiding: tuple[str, int] | None = None  # (the hidden element's tag, how deep in it we are)

    def handle_starttag(self, tag, attrs):
        if self.hiding:
            if tag == self.hiding[0] and tag not in _VOID:
                self.hiding = (tag, self.hiding[1] + 1)
        elif tag not in _VOID and _hidden(attrs):
            self.hiding = (tag, 1)
        elif tag in self.SKIP:
            self.skip += 1
        elif tag in self.BLOCK:
            self.out.append("\n\n")

    def handle_endtag(self, tag):
        if self.hiding:
            if tag == self.hiding[0]:
                self.hiding = (tag, self.hiding[1] - 1) if self.hiding[1] > 1 else None
                if not self.hiding:
                    self.out.append("\n\n")
        elif tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCK:
            self.out.append("\n\n")

    def handle_data(self, data):
        if not self.skip and not self.hiding:
            self.out.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML page, paragraphs separated by blank lines; scripts and styles dropped."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.out))
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r" ?\n ?", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def pdf_to_text(raw: bytes, doc: str = "PDF") -> str:
    """The text layer of a PDF, pages separated by blank lines, with its hard-wrapped lines
    joined back into paragraphs (a line break is a sentence end to the chunker).

    A line is joined to the next unless it is much shorter than the page's usual line (the
    end of a paragraph, a heading); a word hyphenated across the break is joined whole."""
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # warnings about odd but readable files
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"{doc}: the PDF is encrypted; save a copy without a password")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except Exception as e:  # pypdf raises many kinds on a damaged file
        kind = "damaged" if isinstance(e, PdfReadError) else "unreadable"
        raise DocumentError(f"{doc}: the PDF is {kind} ({e})") from None
    return "\n\n".join(p for p in map(_unwrap, pages) if p) + "\n"


def _unwrap(page: str) -> str:
    lines = [" ".join(line.split()) for line in page.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return ""
    usual = sorted(map(len, lines))[len(lines) // 2]
    out = lines[0]
    for prev, line in zip(lines, lines[1:]):
        if len(prev) < 0.7 * usual:   # a short line ends a paragraph
            out += "\n\n" + line
        elif re.search(r"[a-z]-$", prev) and line[:1].islower():  # "nego-" + "tiations"
            out = out[:-1] + line
        else:
            out += " " + line
    return out
