"""The persisted FAISS index of a document set.

Layout of one set, ``index/<set>/`` (``<set>`` names the documents' roots):
    manifest.json            format version, embedder, dimension, chunk settings,
                             sha256 per document, and the two data files below
                             with their size and sha256 (a damaged file is detected)
    chunks-<gen>.jsonl       one Chunk per line, in vector order (readable)
    vectors-<gen>.faiss      the FAISS index, row i = chunk i
Writes are atomic: data files get a fresh generation name and the manifest,
written last with os.replace, is the commit point. An interrupted build leaves
the previous index intact; stale generations are removed after a commit.
An index that does not load (damaged, truncated, edited, another format) is
rebuilt from the documents, and the build says so in one line.
"""
from __future__ import annotations

import hashlib
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
from .chunk import chunk_text
from .config import Config
from .errors import IndexError_
from .types import Chunk

FORMAT = 2  # 2: the manifest carries each data file's size and sha256
HNSW_ABOVE = 50_000  # flat (exact) search up to this many chunks; HNSW beyond (flat: 14 ms at 100k)


@dataclass
class Index:
    dir: Path
    chunks: list[Chunk]
    vectors: object  # faiss.Index, inner product over unit vectors
    manifest: dict

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
    return {"format": FORMAT, "embedder": embedder.name, "dim": embedder.dim,
            "chunk": {"sentences": config.chunk_sentences, "overlap": config.chunk_overlap,
                      "max_chars": config.max_chunk_chars}}


def load(path: Path) -> Index:
    """Load a committed index; raises IndexError_ with a one-line reason if it is unusable."""
    mpath = path / "manifest.json"
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise IndexError_(f"index at {path} has format {manifest.get('format')!r}; this qa reads format {FORMAT}")
        if not isinstance(manifest.get("documents"), dict) or set(manifest["files"]) != {"chunks", "vectors"}:
            raise ValueError("the manifest lacks its documents or data files")
        data = {kind: _checked(path, name, manifest["checksums"]) for kind, name in manifest["files"].items()}
        chunks = [Chunk(**json.loads(line)) for line in data["chunks"].decode("utf-8").splitlines() if line]
        import faiss

        vectors = faiss.deserialize_index(np.frombuffer(data["vectors"], dtype="uint8"))
    except IndexError_:
        raise
    except FileNotFoundError as e:
        raise IndexError_(f"index at {path} is incomplete: {Path(e.filename).name} missing") from None
    except Exception as e:  # json, faiss and key errors all mean the same to a user
        raise IndexError_(f"index at {path} is corrupt ({type(e).__name__}: {str(e)[:80]})") from None
    if vectors.ntotal != len(chunks) or vectors.d != manifest.get("dim"):
        raise IndexError_(f"index at {path} is corrupt: {vectors.ntotal} vectors for {len(chunks)} chunks")
    return Index(path, chunks, vectors, manifest)


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

    Only new or changed documents are embedded; unchanged ones keep their vectors.
    A corrupt index is rebuilt from the documents (the documents are the source of truth).
    progress(done, total, message) is called while embedding.
    """
    import faiss

    path = set_dir(config)
    docs = documents.expand(config.docs)
    hashes = {d: documents.sha256(d) for d in docs}
    want = settings(config, embedder)
    old = None
    if (path / "manifest.json").exists():
        try:
            old = load(path)
        except IndexError_ as e:  # rebuilt below; the old files are left until the new commit
            say = progress or (lambda done, total, msg: print(f"qa: {msg}", file=sys.stderr))
            say(0, 0, f"{e}: rebuilding it from the documents")
    if old and all(old.manifest.get(k) == v for k, v in want.items()) and old.manifest["documents"] == hashes:
        return old

    reuse = {}  # doc -> (chunks, vectors) from the old index, if the doc is unchanged
    if old and all(old.manifest.get(k) == v for k, v in want.items()):
        allvec = old.vectors.reconstruct_n(0, old.vectors.ntotal)
        for d, h in hashes.items():
            if old.manifest["documents"].get(d) == h:
                rows = [i for i, c in enumerate(old.chunks) if c.doc == d]
                reuse[d] = ([old.chunks[i] for i in rows], allvec[rows])
    chunks, parts = [], []
    todo = [d for d in docs if d not in reuse]
    texts = {}  # an unreadable document fails before any work
    for d in todo:  # one reading per document: its hash names the very bytes that are indexed
        hashes[d], texts[d] = documents.load(d)
    for d in docs:
        if d in reuse:
            cs, vs = reuse[d]
        else:
            if progress:
                progress(todo.index(d), len(todo), f"embedding {d}")
            cs = chunk_text(d, texts[d], config.chunk_sentences, config.chunk_overlap,
                            config.max_chunk_chars)
            vs = embedder.embed([c.text for c in cs])
        chunks += cs
        parts.append(vs)
    if progress:
        progress(len(todo), len(todo), "saving index")
    vecs = np.vstack(parts).astype("float32") if parts else np.zeros((0, embedder.dim), "float32")
    manifest = dict(want, documents=hashes, n_chunks=len(chunks), built=time.strftime("%Y-%m-%dT%H:%M:%S"))
    index = Index(path, chunks, make_faiss(vecs, embedder.dim), manifest)
    save(index)
    return index


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
    for kind, name in files.items():
        _atomic_write(path / name, data[kind])
    index.manifest["files"] = files
    index.manifest["checksums"] = {files[k]: {"bytes": len(v), "sha256": hashlib.sha256(v).hexdigest()}
                                   for k, v in data.items()}
    _atomic_write(path / "manifest.json", json.dumps(index.manifest, indent=2, sort_keys=True).encode())
    for f in path.iterdir():  # previous generations and leftovers of interrupted builds
        if f.name not in files.values() and f.name != "manifest.json":
            f.unlink(missing_ok=True)


def _atomic_write(path: Path, data: bytes) -> None:
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
