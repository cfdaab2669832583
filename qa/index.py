"""The persisted FAISS index of a document set.

Layout of one set, ``index/<set>/`` (``<set>`` names the documents' roots):
    manifest.json            format version, embedder, dimension, chunk settings,
                             sha256 per document, and the two data files below
    chunks-<gen>.jsonl       one Chunk per line, in vector order (readable)
    vectors-<gen>.faiss      the FAISS index, row i = chunk i
Writes are atomic: data files get a fresh generation name and the manifest,
written last with os.replace, is the commit point. An interrupted build leaves
the previous index intact; stale generations are removed after a commit.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
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

FORMAT = 1
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
        chunks = [Chunk(**json.loads(line)) for line in
                  (path / manifest["files"]["chunks"]).read_text(encoding="utf-8").splitlines() if line]
        import faiss

        vectors = faiss.read_index(str(path / manifest["files"]["vectors"]))
    except FileNotFoundError as e:
        raise IndexError_(f"index at {path} is incomplete: {Path(e.filename).name} missing") from None
    except Exception as e:  # json, faiss and key errors all mean the same to a user
        raise IndexError_(f"index at {path} is corrupt ({type(e).__name__}: {str(e)[:80]})") from None
    if vectors.ntotal != len(chunks) or vectors.d != manifest.get("dim"):
        raise IndexError_(f"index at {path} is corrupt: {vectors.ntotal} vectors for {len(chunks)} chunks")
    return Index(path, chunks, vectors, manifest)


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
        except IndexError_:
            old = None  # rebuild below; the old files are left until the new commit
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
    texts = {d: documents.text_of(d) for d in todo}  # an unreadable document fails before any work
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
    _atomic_write(path / files["chunks"], "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n"
                                                  for c in index.chunks).encode())
    tmp = path / f".tmp-{files['vectors']}"
    faiss.write_index(index.vectors, str(tmp))
    os.replace(tmp, path / files["vectors"])
    index.manifest["files"] = files
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
