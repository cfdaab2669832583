"""Damaged index files: each is detected on load (by the size and sha256 the manifest records, or
its format), reported in one line, and rebuilt from the documents into the same index."""
import json

import pytest
from conftest import ToyEmbedder
from rb_util import pipeline

from qa import index as ix
from qa.api import Pipeline
from qa.errors import IndexError_
from qa.robustness import CORRUPTIONS, QUESTION, ask_outcome, corruption_outcome


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CORRUPTIONS])
def test_a_damaged_index_is_detected_said_and_rebuilt(case, toy_config):
    outcome = corruption_outcome(case, toy_config, ToyEmbedder())
    assert outcome.ok and not outcome.traceback, outcome.detail
    assert outcome.detail.endswith(": rebuilding it from the documents") and "\n" not in outcome.detail


def test_the_manifest_records_each_data_file_size_and_sha256(toy_config):
    import hashlib

    idx = ix.build(toy_config, ToyEmbedder())
    m = json.loads((idx.dir / "manifest.json").read_text())
    assert m["format"] == ix.FORMAT == 3
    assert sorted(m["checksums"]) == sorted(m["files"].values())
    for name, want in m["checksums"].items():
        data = (idx.dir / name).read_bytes()
        assert want == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_a_pipeline_on_a_damaged_index_says_so_once_on_stderr_and_answers(tmp_path, capsys):
    pipe, gen = pipeline(tmp_path)
    config, d = pipe.config, pipe.index.dir
    chunks = d / json.loads((d / "manifest.json").read_text())["files"]["chunks"]
    chunks.write_bytes(chunks.read_bytes()[:-10])
    with pytest.raises(IndexError_):
        ix.load(d)
    capsys.readouterr()
    again = Pipeline(config, embedder=pipe.embedder, generator=gen)
    assert ask_outcome(again, QUESTION).detail.startswith("answer: Wendy Sherman led the American delegation [")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"qa: index at {d} is corrupt: {chunks.name} has ")
    assert err[0].endswith(": rebuilding it from the documents")
