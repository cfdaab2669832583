"""Eight clients at once through gradio_client (`qa.loadtest --fake`, a short run): questions,
uploads and new chats; every answer complete and its own question's, a full queue answers busy
at once, the server's memory flat after warm-up."""
import json

from qa import loadtest
from qa.prompts import ABSTAIN


def answer(text, quote="q"):
    return {"answer": text, "abstained": text == ABSTAIN, "citations": [] if text == ABSTAIN else [{"quote": quote}],
            "passages": [], "timings": {}}


def test_an_answer_naming_another_questions_person_is_a_crossed_stream():
    sherman, grushko = loadtest.QUESTIONS[0], loadtest.QUESTIONS[1]
    assert loadtest.check_answer(answer("Wendy Sherman led it [3]."), sherman) == "right"
    assert loadtest.check_answer(answer("Alexander Grushko led it [3]."), sherman) == "crossed"
    assert loadtest.check_answer(answer("Marmalade [1]."), grushko) == "crossed"  # an upload's answer too
    assert loadtest.check_answer(answer("Nobody [3]."), sherman) == "wrong"
    assert loadtest.check_answer(answer(ABSTAIN), sherman) == "abstained"
    assert loadtest.check_answer(answer("Wendy Sher"), sherman) == "incomplete"  # cut off mid-stream
    assert loadtest.check_answer({"answer": ""}, sherman) == "incomplete"


def test_the_fake_model_answers_each_question_from_its_own_sentence(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(loadtest.ARTICLE.read_text())
    pipe = loadtest.fake_pipeline(tmp_path / "docs", tmp_path / "index", delay=0)
    for probe in loadtest.QUESTIONS:
        a = pipe.ask(probe.question)
        assert probe.key in a.text and a.citations and probe.source in a.citations[0].quote, a.text
    assert pipe.ask(loadtest.UPLOADS["falcon.txt"].question).abstained  # not uploaded yet


def test_eight_clients_for_20_seconds_get_their_own_answers_and_busy_when_the_queue_is_full(tmp_path):
    figures = loadtest.run(clients=8, seconds=20, out=tmp_path, fake=True, max_queue=4)
    assert figures["concurrent_clients"] == 8 and figures["answers"] >= 20, figures
    assert figures["answers_crossed"] == 0 and figures["answers_incomplete"] == 0, figures
    assert figures["answers_wrong"] == 0 and figures["errors"] == 0, figures["error_examples"]
    assert figures["busy_answers"] > 0  # 8 clients, room for 4: the rest told "busy" at once, none hung
    assert figures["uploads"] > 0 and figures["new_chats"] > 0
    assert 0 < figures["p50_s"] <= figures["p95_s_under_load"] < 30
    assert figures["rss_growth_ratio"] <= 1.1, figures
    saved = json.loads((tmp_path / "loadtest.json").read_text())
    assert {k: saved[k] for k in figures} == figures and len(saved["latencies_s"]) == figures["answers"]
