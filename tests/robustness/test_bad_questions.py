"""Odd questions: through ask() with a scripted model, and through `qa ask` in a fresh process
(QA_MODEL names a missing file, so a question that passes validation is told "model not found"
and the model is never loaded). Each gives its case's defined result, never a traceback."""
import pytest
from rb_util import pipeline

from qa import robustness
from qa.robustness import QUESTIONS, ask_outcome, cli_question, expected

def params(cases):
    return [pytest.param(c, id=c.name) for c in cases]


@pytest.mark.parametrize("case", params(QUESTIONS))
def test_a_bad_question_through_ask_gives_its_defined_result(case, tmp_path):
    pipe, gen = pipeline(tmp_path)
    outcome = ask_outcome(pipe, case.make)
    assert not outcome.traceback, outcome.detail
    assert expected(case, outcome), outcome.detail
    # a question refused is refused before the model; one accepted reaches it, as asked (a reply the
    # citation check rejects is asked again: the question's own names and numbers, "31m" of an ANSI
    # colour or "img" of a tag, are found in no passage, and the answer is withheld)
    assert (not gen.prompts) if case.expect else case.make in gen.prompts[0][-1]["content"]


@pytest.mark.parametrize("case", params([c for c in QUESTIONS if c.cli]))
def test_a_bad_question_on_the_command_line_gives_one_line(case, tmp_path):
    env = {"QA_MODEL": str(tmp_path / "no.gguf"), "QA_DOCS": str(robustness.ARTICLE)}
    want, outcome = cli_question(case, env)
    assert not outcome.traceback, outcome.detail
    assert expected(want, outcome), outcome.detail


def test_argv_that_is_not_utf8_is_refused_before_anything_loads(tmp_path):
    r = robustness.run_cli("ask", b"Who led the \xff\xfe delegation?", env={"QA_MODEL": str(tmp_path / "no.gguf")})
    assert r.returncode == 2
    assert r.stderr.decode() == "qa: error: the question is not valid UTF-8 text; retype it or set a UTF-8 locale\n"
