"""The persisted FAISS index of a document set.

Layout of one set, ``index/<set>/`` (``<set>`` names the documents' roots):
    manifest.json            format version, reader version, embedder, dimension, chunk settings,
                             sha256 per document, and the data files below
                             with their size and sha256 (a damaged file is detected)
    chunks-<gen>.jsonl       one Chunk per line, in vector order (readable)
    vectors-<gen>.faiss      the FAISS index, row i = chunk i
    sentences-<gen>.npz      each chunk sentence's (document, start, end) and vector (where the embedder
                             says so: `sentence_vectors`)
Writes are atomic: data files get a fresh generation name and the manifest,
written last with os.replace, is the commit point. An interrupted build leaves
the previous index intact; stale generations are removed after a commit.
An index that does not load (damaged, truncated, edited, another format) is
rebuilt from the documents, and the build says so in one line.
The manifest also records each document's length in characters and the documents
the user removed (`excluded`, see `remove`): a later build of the same folders
leaves those out.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import documents
from .chunk import chunk_id, chunk_text, sentences as sentence_spans
from .config import Config
from .errors import DocumentError, IndexError_
from .types import Chunk

FORMAT = 3  # 2: the manifest carries each data file's size and sha256; 3: sentence vectors
HNSW_ABOVE = 50_000  # flat (exact) search up to this many chunks; HNSW beyond (flat: 14 ms at 100k)
BATCH = 128  # chunks per embedder call, across documents: small files embed in full batches, progress stays live


class UnknownDocument(DocumentError):
    """A name given to `remove` or `restore` is no document of the index, or more than one."""


@dataclass(frozen=True)
class Sentences:
    """The vectors of the chunks' sentences, by (document, start, end): retrieve.best_sentences reads them
    instead of embedding a question's ~14 candidate sentences."""
    rows: dict[tuple[str, int, int], int]
    vectors: np.ndarray  # (n, dim) float32, unit rows

    def of(self, keys) -> np.ndarray | None:
        """The vectors of `keys`, in order; None where one is not stored."""
        rows = [self.rows.get(k) for k in keys]
        return None if None in rows else self.vectors[rows]

    def by_doc(self) -> dict[str, dict[tuple[str, int, int], np.ndarray]]:
        """document -> its sentences' key -> vector."""
        out: dict[str, dict[tuple[str, int, int], np.ndarray]] = {}
        for k, i in self.rows.items():
            out.setdefault(k[0], {})[k] = self.vectors[i]
        return out

    @classmethod
    def of_keys(cls, vectors: dict, dim: int) -> "Sentences":
        keys = list(vectors)
        stack = np.array([vectors[k] for k in keys], dtype="float32").reshape(len(keys), dim)
        return cls({k: i for i, k in enumerate(keys)}, stack)

    def to_bytes(self) -> bytes:
        keys = list(self.rows)
        buf = io.BytesIO()
        np.savez(buf, doc=np.array([k[0] for k in keys], dtype=str), start=np.array([k[1] for k in keys], "int64"),
                 end=np.array([k[2] for k in keys], "int64"), vectors=self.vectors[[self.rows[k] for k in keys]]
                 if keys else self.vectors)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Sentences":
        z = np.load(io.BytesIO(data), allow_pickle=False)
        keys = [(str(d), int(a), int(b)) for d, a, b in zip(z["doc"], z["start"], z["end"])]
        return cls({k: i for i, k in enumerate(keys)}, np.ascontiguousarray(z["vectors"], dtype="float32"))


@dataclass
class Index:
    dir: Path
    chunks: list[Chunk]
    vectors: object  # faiss.Index, inner product over unit vectors
    manifest: dict
    sentences: Sentences | None = None  # where the embedder says so (`sentence_vectors`)

    @property
    def docs(self) -> list[str]:
        return sorted(self.manifest["documents"])


def set_dir(config: Config) -> Path:
    """index/<name>-<hash of resolved roots>: one folder per document set, never mixed."""
    roots = sorted(str(documents.locate(p)) for p in config.docs)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(roots[0]).stem if roots else "empty")[:40]
    key = hashlib.sha1("\n".join(roots).encode()).hexdigest()[:10]
    return Path(config.index_dir) / f"{stem}-{key}"


def settings(config: Config, embedder) -> dict:
    return {"format": FORMAT, "reader": documents.READER, "embedder": embedder.name, "dim": embedder.dim,
            "chunk": {"sentences": config.chunk_sentences, "overlap": config.chunk_overlap,
                      "max_chars": config.max_chunk_chars}}


def load(path: Path) -> Index:
    """Load a committed index; raises IndexError_ with a one-line reason if it is unusable."""
    mpath = path / "manifest.json"
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise IndexError_(f"index at {path} has format {manifest.get('format')!r}; this qa reads format {FORMAT}")
        if not isinstance(manifest.get("documents"), dict) or set(manifest["files"]) - {"sentences"} != {"chunks",
                                                                                                      "vectors"}:
            raise ValueError("the manifest lacks its documents or data files")
        data = {kind: _checked(path, name, manifest["checksums"]) for kind, name in manifest["files"].items()}
        chunks = [Chunk(**json.loads(line)) for line in data["chunks"].decode("utf-8").splitlines() if line]
        import faiss

        vectors = faiss.deserialize_index(np.frombuffer(data["vectors"], dtype="uint8"))
        sentences = Sentences.from_bytes(data["sentences"]) if "sentences" in data else None
    except IndexError_:
        raise
    except FileNotFoundError as e:
        raise IndexError_(f"index at {path} is incomplete: {Path(e.filename).name} missing") from None
    except Exception as e:  # json, faiss and key errors all mean the same to a user
        raise IndexError_(f"index at {path} is corrupt ({type(e).__name__}: {str(e)[:80]})") from None
    if vectors.ntotal != len(chunks) or vectors.d != manifest.get("dim"):
        raise IndexError_(f"index at {path} is corrupt: {vectors.ntotal} vectors for {len(chunks)} chunks")
    if sentences is not None and sentences.vectors.shape[1:] != (vectors.d,):
        raise IndexError_(f"index at {path} is corrupt: sentence vectors of {sentences.vectors.shape[1:]} dimensions")
    return Index(path, chunks, vectors, manifest, sentences)


def _checked(path: Path, name: str, checksums: dict) -> bytes:
    """A data file's bytes, if its size and sha256 are the ones the manifest recorded."""
    data = (path / name).read_bytes()
    want = checksums[name]
    if len(data) != want["bytes"]:
        raise IndexError_(f"index at {path} is corrupt: {name} has {len(data)} bytes, the manifest says {want['bytes']}")
    if hashlib.sha256(data).hexdigest() != want["sha256"]:
        raise IndexError_(f"index at {path} is corrupt: {name} was changed after it was written (sha256 differs)")
    return data


def build(config: Config, embedder, progress=None) -> Index:
    """Load the set's index, updating it if documents, embedder or chunking changed.

    Only new or changed documents are embedded: an unchanged one keeps its vectors, and a
    moved or renamed one (the same bytes under a new name) takes its old vectors under the
    new name. Documents the user removed (the manifest's `excluded`) stay out.
    A corrupt index is rebuilt from the documents (the documents are the source of truth).
    progress(done, total, message) is called while embedding: documents done of those to embed.
    """
    path = set_dir(config)
    excluded = _excluded(path)
    docs = [d for d in documents.expand(config.docs) if d not in excluded]
    if not docs:
        raise DocumentError(f"every document of {', '.join(map(str, config.docs))} was removed from its index; "
                            f"`qa docs restore NAME` brings one back")
    hashes = {d: documents.sha256(d) for d in docs}
    want = settings(config, embedder)
    old = None
    if (path / "manifest.json").exists():
        try:
            old = load(path)
        except IndexError_ as e:  # rebuilt below; the old files are left until the new commit
            say = progress or (lambda done, total, msg: print(f"qa: {msg}", file=sys.stderr))
            say(0, 0, f"{e}: rebuilding it from the documents")
    if old and not all(old.manifest.get(k) == v for k, v in want.items()):
        old = None  # another embedder or chunking: nothing can be kept
    if old and old.manifest["documents"] == hashes:
        return old

    reuse = _reusable(old, hashes)  # doc -> (chunks, vectors, characters, sentence vectors) kept from the old index
    todo = [d for d in docs if d not in reuse]
    texts = {}  # an unreadable document fails before any work
    for d in todo:  # one reading per document: its hash names the very bytes that are indexed
        hashes[d], texts[d] = documents.load(d)
    fresh = [chunk_text(d, texts[d], config.chunk_sentences, config.chunk_overlap, config.max_chunk_chars)
             for d in todo]
    vectors, said = _embed(embedder, fresh, texts, progress)
    made = {d: (cs, vs, len(texts[d]), None if said is None else said.get(d, {}))
            for d, cs, vs in zip(todo, fresh, vectors)}
    parts = [reuse[d] if d in reuse else made[d] for d in docs]
    if progress:
        progress(len(todo), len(todo), "saving index")
    chunks = [c for cs, _, _, _ in parts for c in cs]
    vecs = np.vstack([vs for _, vs, _, _ in parts]).astype("float32")
    manifest = dict(want, documents=hashes, chars={d: n for d, (_, _, n, _) in zip(docs, parts)},
                    excluded=sorted(excluded), n_chunks=len(chunks), built=time.strftime("%Y-%m-%dT%H:%M:%S"))
    # sentence vectors where every document has them (not from an embedder without `sentence_vectors`)
    sentences = None if any(ss is None for *_, ss in parts) else Sentences.of_keys(
        {k: v for *_, ss in parts for k, v in ss.items()}, embedder.dim)
    index = Index(path, chunks, make_faiss(vecs, embedder.dim), manifest, sentences)
    save(index)
    return index


def _reusable(old: Index | None, hashes: dict) -> dict:
    """doc -> (chunks, vectors, characters, sentence vectors) for each document whose bytes the old index holds,
    under its own name or another (moved, renamed, copied: same text, so the same offsets and vectors;
    the chunks take the new name). A different suffix is another reading of the bytes (HTML)."""
    if old is None:
        return {}
    rows: dict[str, list[int]] = {}  # old doc -> its chunks' rows
    for i, c in enumerate(old.chunks):
        rows.setdefault(c.doc, []).append(i)
    before = old.manifest["documents"]
    by_bytes = {(h, _reading(d)): d for d, h in before.items() if d in rows}
    allvec = old.vectors.reconstruct_n(0, old.vectors.ntotal) if old.vectors.ntotal else None
    said = old.sentences.by_doc() if old.sentences is not None else None
    out = {}
    for d, h in hashes.items():
        src = d if before.get(d) == h and d in rows else by_bytes.get((h, _reading(d)))
        if src is None:
            continue
        cs = [old.chunks[i] for i in rows[src]]
        if src != d:
            cs = [Chunk(chunk_id(d, c.start, c.end, c.text), d, c.start, c.end, c.text) for c in cs]
        chars = old.manifest.get("chars", {}).get(src) or max(c.end for c in cs)
        sentences = None if said is None else {(d, a, b): v for (_, a, b), v in said.get(src, {}).items()}
        out[d] = (cs, allvec[rows[src]], chars, sentences)
    return out


def _reading(doc: str) -> str:
    """How a file's bytes become text (documents.decode): by PDF, HTML or plain-text rules."""
    suffix = Path(doc).suffix.lower()
    return suffix if suffix in {".pdf", ".html", ".htm"} else ".txt"


def _embed(embedder, groups: list[list[Chunk]], texts: dict, progress=None) -> tuple[list[np.ndarray], dict | None]:
    """Each group's vectors, (len(group), dim), and, where the embedder says so (`sentence_vectors`; else None),
    the chunks' sentences' vectors, document -> (document, start, end) -> vector, each sentence read alone as
    best_sentences would read it at question time (a sentence two overlapping chunks share, once). BATCH chunks
    per call, progress after each call."""
    chunks = [c for g in groups for c in g]
    ends = np.cumsum([len(g) for g in groups], dtype=int)
    alone = getattr(embedder, "sentence_vectors", False)
    out, found = [], {}
    if progress and chunks:
        progress(0, len(groups), f"embedding {len(chunks):,} chunks" + (" and their sentences" if alone else ""))
    for a in range(0, len(chunks), BATCH):
        out.append(embedder.embed([c.text for c in chunks[a:a + BATCH]]))
        if alone:
            keys = list(dict.fromkeys((c.doc, x, y) for c in chunks[a:a + BATCH]
                                      for x, y in sentence_spans(texts[c.doc], c.start, c.end)))
            keys = [k for k in keys if k not in found]
            found.update(zip(keys, embedder.embed([texts[d][x:y] for d, x, y in keys])))
        done = min(a + BATCH, len(chunks))
        if progress:
            progress(int(np.searchsorted(ends, done, side="right")), len(groups), f"{done:,} chunks embedded")
    vecs = np.vstack(out) if out else np.zeros((0, embedder.dim), "float32")
    said: dict[str, dict] = {}
    for k, v in found.items():
        said.setdefault(k[0], {})[k] = v
    return (np.split(vecs, ends[:-1]) if groups else []), (said if alone else None)


EXCLUDED = "excluded.json"  # the documents the user removed, kept apart from the manifest


def _excluded(path: Path) -> set[str]:
    """The documents the user removed from this set: from excluded.json, else from the manifest (read even
    when the data files are damaged); a damaged manifest does not bring a removed document back."""
    for name, key in ((EXCLUDED, None), ("manifest.json", "excluded")):
        try:
            found = json.loads((path / name).read_text(encoding="utf-8"))
            found = found.get(key, []) if key else found
            if isinstance(found, list):
                return {d for d in found if isinstance(d, str)}
        except (OSError, ValueError, AttributeError, TypeError):
            pass
    return set()


def _save_excluded(path: Path, excluded) -> None:
    atomic_write(path / EXCLUDED, json.dumps(sorted(excluded), indent=1).encode())


def stored(config: Config) -> Index:
    """The set's index as last built, without checking the documents (listing, removing)."""
    path = set_dir(config)
    if not (path / "manifest.json").exists():
        raise IndexError_(f"no index of {', '.join(map(str, config.docs))} yet; run `qa index` first")
    return load(path)


def describe(index: Index) -> list[tuple[str, int, int, str]]:
    """(document, characters, chunks, sha256) per document, by name."""
    counts: dict[str, int] = {}
    for c in index.chunks:
        counts[c.doc] = counts.get(c.doc, 0) + 1
    chars = index.manifest.get("chars", {})
    return [(d, chars.get(d) or max((c.end for c in index.chunks if c.doc == d), default=0), counts.get(d, 0),
             index.manifest["documents"][d]) for d in index.docs]


def find(names, docs, excluded=(), among: str = "no document of this index") -> list[str]:
    """The documents meant by `names`: a document name, a path to it, or a file name only one has.

    >>> find(["b.txt"], ["notes/a.txt", "notes/b.txt"])
    ['notes/b.txt']
    """
    out = []
    for name in names:
        as_path = documents.doc_name(documents.locate(name)) if name else ""
        hits = [d for d in docs if d in (name, as_path)] or [d for d in docs if Path(d).name == name]
        if not hits:
            removed = any(name in (e, as_path, Path(e).name) for e in excluded)
            gone = "; it was removed (`qa docs restore` brings it back)" if removed else ""
            raise UnknownDocument(f"{name!r} names {among}{gone or '; `qa docs` lists them'}")
        if len(hits) > 1:
            raise UnknownDocument(f"{name!r} is ambiguous ({', '.join(hits[:3])}{', ...' if len(hits) > 3 else ''});"
                                  f" give its path")
        out.append(hits[0])
    return list(dict.fromkeys(out))


def remove(index: Index, docs: list[str], path: Path | None = None, exclude=()) -> Index:
    """The index without `docs`, saved at `path` (default: its own folder). Documents in `exclude`
    join the manifest's `excluded`, so a later build of the same folders leaves them out."""
    path = path or index.dir
    keep = [i for i, c in enumerate(index.chunks) if c.doc not in docs]
    vecs = index.vectors.reconstruct_n(0, index.vectors.ntotal)[keep] if keep else np.zeros((0, index.vectors.d))
    m = {k: v for k, v in index.manifest.items() if k not in ("files", "checksums")}
    m["documents"] = {d: h for d, h in m["documents"].items() if d not in docs}
    m["chars"] = {d: n for d, n in m.get("chars", {}).items() if d not in docs}
    m["excluded"] = sorted(set(m.get("excluded", [])) | _excluded(path) | set(exclude))
    m["n_chunks"] = len(keep)
    kept = [index.chunks[i] for i in keep]
    sentences = None
    if index.sentences is not None:
        said = index.sentences.by_doc()
        kept_docs = dict.fromkeys(c.doc for c in kept)
        sentences = Sentences.of_keys({k: v for d in kept_docs for k, v in said.get(d, {}).items()}, index.vectors.d)
    smaller = Index(path, kept, make_faiss(vecs.astype("float32"), index.vectors.d), m, sentences)
    path.mkdir(parents=True, exist_ok=True)
    _save_excluded(path, m["excluded"])  # first: a build after a crash here still leaves them out
    save(smaller)
    return smaller


def restore(config: Config, names) -> list[str]:
    """Take documents off the set's `excluded` list (the next build indexes them again); returns them."""
    path = set_dir(config)
    excluded = _excluded(path)
    back = find(names, sorted(excluded), among="no removed document")
    _save_excluded(path, excluded - set(back))
    try:
        m = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return back  # a damaged manifest: the next build rebuilds it, with excluded.json's list
    m["excluded"] = sorted(excluded - set(back))
    atomic_write(path / "manifest.json", json.dumps(m, indent=2, sort_keys=True).encode())
    return back


def make_faiss(vecs: np.ndarray, dim: int):
    import faiss

    if len(vecs) > HNSW_ABOVE:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 64
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vecs):
        index.add(vecs)
    return index


def save(index: Index) -> None:
    import faiss

    path = index.dir
    path.mkdir(parents=True, exist_ok=True)
    gen = f"{int(time.time() * 1000):x}-{os.getpid()}"
    files = {"chunks": f"chunks-{gen}.jsonl", "vectors": f"vectors-{gen}.faiss"}
    data = {"chunks": "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in index.chunks).encode(),
            "vectors": faiss.serialize_index(index.vectors).tobytes()}
    if index.sentences is not None:
        files["sentences"], data["sentences"] = f"sentences-{gen}.npz", index.sentences.to_bytes()
    for kind, name in files.items():
        atomic_write(path / name, data[kind])
    index.manifest["files"] = files
    index.manifest["checksums"] = {files[k]: {"bytes": len(v), "sha256": hashlib.sha256(v).hexdigest()}
                                   for k, v in data.items()}
    atomic_write(path / "manifest.json", json.dumps(index.manifest, indent=2, sort_keys=True).encode())
    for f in path.iterdir():  # previous generations and leftovers of interrupted builds
        if f.name not in files.values() and f.name not in ("manifest.json", EXCLUDED):
            f.unlink(missing_ok=True)


def atomic_write(path: Path, data: bytes) -> None:
    """Written aside, synced, then renamed over `path`: a reader sees the old file or the new, whole."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
