"""Crash safety: `kill -9` of a build or an upload never leaves a half-written index read as valid, and a
damaged prompt-prefix file (kv-*.bin) is refused in one line and recomputed, never handed to llama.cpp.

The kill rounds run the stand-in embedder (the write path is what is tested); `python -m qa.crash`
(and `qa bench --robustness`) runs 20 kills of a 1,000-document build with MiniLM."""
import pytest

from qa import crash, kv_file
from qa.generate import LlamaGenerator


def test_kill9_at_random_moments_of_a_build_never_leaves_a_broken_index():
    figures = crash.kill9(n_docs=300, points=8, seed=1, words=True)
    assert figures["kill9_broken_indexes"] == 0, figures["kill9_problems"]
    assert figures["kill9_runs"] >= 6 and figures["kill9_during_write"] >= 3, figures


def test_the_harness_sees_a_half_written_index(tmp_path, monkeypatch):
    """The check can fail: an index whose chunks are not the text at their offsets is reported."""
    from qa import index as ix
    from qa.config import Config
    from qa.robustness import WordEmbedder

    texts = crash.make_docs(tmp_path / "docs", 5)
    config = Config(docs=(str(tmp_path / "docs"),), index_dir=str(tmp_path / "ix"))
    idx = ix.build(config, WordEmbedder())
    assert crash.check(config, None, texts, WordEmbedder()) == ""
    (tmp_path / "docs" / "doc-0001.txt").write_text("Another text entirely.\n")
    assert crash.check(config, None, texts, WordEmbedder()) == \
        "the index is neither the one before the kill nor one of the current documents"
    wrong = {h: t.replace("Record", "Recxrd") for h, t in texts.items()}
    assert "a chunk is not the text at its offsets" in crash.consistent(idx, wrong)


def test_kill9_during_an_upload_leaves_a_loadable_index_and_no_half_copied_file():
    """The first kill comes as soon as the upload's file shows in uploads/: a copy made in place (as
    app.upload's shutil.copyfile did) is then caught half-written, and the next `qa serve` would index it
    as whole. The set indexed before the upload must load after every kill."""
    figures = crash.kill_upload(points=3, seed=0, size=8_000_000)
    assert figures["upload_kills"] >= 2 and figures["upload_half_copied"] == 0, figures
    assert figures["upload_broken"] == 0, figures["upload_problems"]


# -- damaged prompt-prefix files -------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in crash.KV_CORRUPTIONS])
def test_a_damaged_kv_file_is_refused_naming_the_damage(case, tmp_path):
    name, corrupt, expect = case
    path = tmp_path / "kv-feedfacecafe.bin"
    kv_file.write(path, crash.KV_TOKENS, crash.KV_CTX, crash.KV_STATE)
    assert bytes(kv_file.read(path, crash.KV_TOKENS, crash.KV_CTX)) == crash.KV_STATE
    corrupt(path)
    with pytest.raises(kv_file.Damaged, match=expect):
        kv_file.read(path, crash.KV_TOKENS, crash.KV_CTX)


def test_a_kv_file_for_another_prompt_is_stale_and_a_missing_one_is_none(tmp_path):
    path = tmp_path / "kv-feedfacecafe.bin"
    assert kv_file.read(path, [1, 2], 4096) is None
    kv_file.write(path, [1, 2, 3], 4096, b"state")
    with pytest.raises(kv_file.Stale):
        kv_file.read(path, [1, 2, 4], 4096)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # nothing left beside it


def test_a_kv_file_is_written_atomically(tmp_path, monkeypatch):
    """A write that dies halfway leaves the previous file whole and no temporary file."""
    import os

    path = tmp_path / "kv-feedfacecafe.bin"
    kv_file.write(path, [1, 2, 3], 4096, b"old state")

    def die(*a):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", die)
    with pytest.raises(KeyboardInterrupt):
        kv_file.write(path, [1, 2, 3], 4096, b"new state")
    monkeypatch.undo()
    assert bytes(kv_file.read(path, [1, 2, 3], 4096)) == b"old state"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


class _Llm:
    """Just enough of a llama_cpp.Llama for _load_file to refuse a file before touching llama.cpp."""

    def n_ctx(self):
        return 4096


def test_the_generator_says_a_damaged_kv_file_in_one_line_and_recomputes(tmp_path, capsys):
    path = tmp_path / "kv-feedfacecafe.bin"
    kv_file.write(path, [1, 2, 3], 4096, b"state" * 100)
    path.write_bytes(path.read_bytes()[:-7])
    assert LlamaGenerator._load_file(_Llm(), str(path), [1, 2, 3]) is False
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"qa: the saved prompt prefix {path} is truncated or padded (")
    assert err.endswith("; recomputing it\n")
    kv_file.write(path, [1, 2, 3], 4096, b"state")
    assert LlamaGenerator._load_file(_Llm(), str(path), [1, 2, 4]) is False  # stale: recomputed without a word
    assert capsys.readouterr().err == ""


def _truncate(path, tokens):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _foreign(path, tokens):  # another model's file under this model's name
    other = path.with_name("kv-0123456789ab.bin")
    kv_file.write(other, tokens, 1024, b"\0" * 64)
    other.replace(path)


@pytest.mark.slow
@pytest.mark.parametrize("damage", [_truncate, _foreign])
def test_the_real_model_recomputes_a_damaged_kv_file(damage, tmp_path, capfd):
    """Qwen2.5-Coder-1.5B: prefill saves the prefix; damaged, it is refused in one line and recomputed
    (no llama.cpp crash), saved again whole, and the model answers from it."""
    from qa import models

    path_of_model = str(models.resolve("qwen2.5-coder-1.5b-instruct"))
    messages = [{"role": "system", "content": "Answer from the text. Text: Wendy Sherman led the delegation."},
                {"role": "user", "content": "QUESTION"}]
    gen = LlamaGenerator(path_of_model, n_ctx=1024, n_threads=2)
    n = gen.prefill(messages, "QUESTION", str(tmp_path))
    tokens = gen._pins[0][0]
    [path] = tmp_path.glob("kv-*.bin")
    damage(path, tokens)
    capfd.readouterr()
    fresh = LlamaGenerator(path_of_model, n_ctx=1024, n_threads=2)
    assert fresh.prefill(messages, "QUESTION", str(tmp_path)) == n
    err = [line for line in capfd.readouterr().err.splitlines() if line.startswith("qa: ")]
    assert len(err) == 1 and err[0].endswith("; recomputing it") and str(path) in err[0], err
    assert kv_file.read(path, tokens, 1024) is not None  # saved again, whole
    again = LlamaGenerator(path_of_model, n_ctx=1024, n_threads=2)
    assert again.prefill(messages, "QUESTION", str(tmp_path)) == n and capfd.readouterr().err.count("qa: ") == 0
    reply = "".join(again.stream([messages[0], {"role": "user", "content": "Who led the delegation?"}], 8))
    assert "Sherman" in reply


def test_a_kv_file_that_cannot_be_written_is_said_in_one_line(tmp_path, capsys, monkeypatch):
    """A full disk or a read-only index folder costs the next process the prefix, never the answer."""
    import llama_cpp

    monkeypatch.setattr(llama_cpp, "llama_state_get_size", lambda ctx: 4)
    monkeypatch.setattr(llama_cpp, "llama_state_get_data", lambda ctx, buf, size: 4)

    class Ctx:
        ctx = None

    llm = _Llm()
    llm._ctx = Ctx()
    LlamaGenerator._save_file(llm, str(tmp_path / "missing" / "kv-feedfacecafe.bin"), [1, 2])
    err = capsys.readouterr().err
    assert err == f"qa: the prompt prefix was not saved to {tmp_path / 'missing' / 'kv-feedfacecafe.bin'} " \
                  f"(No such file or directory)\n"
