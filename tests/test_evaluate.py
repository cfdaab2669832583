import json

import pytest

from qa import prompts
from qa.api import Pipeline
from qa.errors import QAError
from qa.evaluate import TIMING_KEYS, load_testset, run, stage

from conftest import ScriptedGenerator, ToyEmbedder

ITEMS = [
    {"id": "a", "question": "Who led the American delegation?", "answers": ["Wendy Sherman"], "answerable": True,
     "evidence": ["Wendy Sherman, the US deputy secretary of state who led the American delegation"],
     "category": "name"},
    {"id": "b", "question": "Who is Ukraine's president?", "answers": [], "answerable": False, "evidence": []},
    {"id": "c", "question": "What did Liz Truss say about Russia's troops?", "answers": ["unacceptable"],
     "answerable": True, "category": "quote"},
]
REPLIES = ["Wendy Sherman, the US deputy secretary of state, led the American delegation [1].",
           prompts.ABSTAIN, "Vladimir Putin called the troops unacceptable [1]."]


def write(tmp_path, items=ITEMS):
    p = tmp_path / "set.jsonl"
    p.write_text("".join(json.dumps(i) + "\n" for i in items))
    return p


def test_eval_writes_metrics_answers_and_report(toy_config, tmp_path, capsys):
    pipe = Pipeline(toy_config, embedder=ToyEmbedder(), generator=ScriptedGenerator(REPLIES))
    m = run(str(write(tmp_path)), toy_config, out=str(tmp_path / "out"), pipeline=pipe)
    assert m["n"] == 3 and m["answerable_accuracy"] == 0.5 and m["unanswerable_abstention"] == 1.0
    assert m["false_abstention"] == 0.5 and m["quote_validity"] == 1.0 and m["citation_precision"] == 1.0
    assert m["by_category"] == {"name": {"n": 1, "accuracy": 1.0}, "quote": {"n": 1, "accuracy": 0.0},
                                "unanswerable": {"n": 1, "accuracy": 1.0}}
    rows = [json.loads(x) for x in (tmp_path / "out" / "answers.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c"] and [r["correct"] for r in rows] == [True, True, False]
    # c's reply held the gold "unacceptable" but names someone the article never does: the citation check took it
    assert m["outcomes"]["answerable"] == {"right": 1, "wrong": 0, "gate": 0, "model": 0, "citations": 1,
                                           "citations_held_answer": 1, "confirm": 0, "confirm_held_answer": 0,
                                           "check": 0, "check_held_answer": 0, "entail": 0, "entail_held_answer": 0,
                                           "polarity": 0, "polarity_held_answer": 0, "items": 0,
                                           "items_held_answer": 0, "premise": 0, "premise_held_answer": 0,
                                           "speaker": 0, "speaker_held_answer": 0, "agree": 0, "agree_held_answer": 0,
                                           "elsewhere": 0, "elsewhere_held_answer": 0}
    assert m["outcomes"]["unanswerable"] == {"answered": 0, "gate": 0, "model": 1, "citations": 0, "confirm": 0,
                                             "check": 0, "entail": 0, "polarity": 0, "items": 0, "premise": 0,
                                             "speaker": 0, "agree": 0, "elsewhere": 0}
    report = (tmp_path / "out" / "report.md").read_text()
    assert "![per-category accuracy and latency](report.png)" in report and "**c**" in report
    assert "| withheld by the citation check | 1 (1 held a gold answer) | 0 |" in report
    assert "(abstained: the citation check); the model's reply: Vladimir Putin called the troops" in report
    assert (tmp_path / "out" / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "answerable_accuracy" in capsys.readouterr().out


def test_two_runs_give_the_same_metrics_timings_aside(toy_config, tmp_path):
    got = []
    for i in range(2):
        pipe = Pipeline(toy_config, embedder=ToyEmbedder(), generator=ScriptedGenerator(REPLIES))
        m = run(str(write(tmp_path)), toy_config, out=str(tmp_path / f"o{i}"), pipeline=pipe)
        got.append({k: v for k, v in m.items() if k not in TIMING_KEYS})
    assert got[0] == got[1]


def test_bad_test_set_line_is_named(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"question": "ok?", "answerable": true, "answers": []}\n{"question": 3}\n')
    with pytest.raises(QAError, match=r"bad.jsonl:2: needs question"):
        load_testset(str(p))
    assert len(load_testset(str(p), limit=1)) == 1


def test_an_answer_the_confirming_reading_withheld_is_counted_as_such(toy_config):
    from dataclasses import replace

    p = Pipeline(replace(toy_config, confirm=1), embedder=ToyEmbedder(),
                 generator=ScriptedGenerator([REPLIES[0], prompts.ABSTAIN]))
    a = p.ask("Who led the American delegation?")
    assert a.abstained and stage(a) == "confirm"
