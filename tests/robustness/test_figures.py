"""`python -m qa.robustness`: the figures come from the same case tables as the tests."""
import json

import pytest

from qa import robustness
from qa.robustness import CORRUPTIONS, DOCUMENTS, QUESTIONS


def test_the_figures_count_every_case_and_are_written_to_robustness_json(tmp_path):
    figures = robustness.run(tmp_path / "out", cli=False)
    tried = len(QUESTIONS) + sum(not c.skip() for c in DOCUMENTS)
    assert figures["bad_inputs_tried"] == tried
    assert figures["corruptions_tried"] == figures["corruptions_detected"] == len(CORRUPTIONS)
    saved = json.loads((tmp_path / "out" / "robustness.json").read_text())
    assert {k: saved[k] for k in figures} == figures and len(saved["cases"]) == tried + len(CORRUPTIONS)
    assert figures["bad_inputs_clean"] == tried and figures["tracebacks_seen"] == 0, figures["not_clean"]


def test_chromium_tests_that_hang_leave_a_note_not_a_traceback(tmp_path, monkeypatch):
    def hang(*args, **kwargs):
        raise robustness.subprocess.TimeoutExpired(args[0], kwargs.get("timeout", 0))
    monkeypatch.setattr(robustness.subprocess, "run", hang)
    figures = robustness.xss_figures(tmp_path)
    assert figures["xss_checks"] == 0 and "did not finish" in figures["xss_note"]
