"""The live server through its API (gradio_client, loopback, stand-in models): the odd questions of
robustness.QUESTIONS and a 10 MB one through /ask, and uploads through /upload. Each gives its
defined result, a one-line error or a verified answer, never Gradio's generic error, never a hang."""
import time

import pytest
from browser_util import served

from qa import loadtest, robustness
from qa.robustness import QUESTIONS, Case, expected

BIG = Case("10 MB", "Who led the talks? " * (loadtest.BIG // 19), "the question is too long")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("server")
    pipe = robustness.good_pipeline(root / "good", root / "index")
    with served(pipe) as url:
        yield url, pipe, root


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server[0], verbose=False)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in [*QUESTIONS, BIG]])
def test_a_bad_question_through_the_api_gives_its_defined_result(case, client):
    t0 = time.monotonic()
    outcome = loadtest.api_outcome(client, case.make)
    assert not outcome.traceback, outcome.detail
    assert expected(case, outcome), outcome.detail
    assert time.monotonic() - t0 < 60


def test_the_api_figures_count_every_question_and_the_10_mb_one(tmp_path):
    rows = loadtest.api_rows(tmp_path)
    assert [r["case"] for r in rows] == [c.name for c in QUESTIONS] + ["10 MB"]
    assert all(r["clean"] and not r["traceback"] for r in rows), [r for r in rows if not r["clean"]]
    assert {r["channel"] for r in rows} == {"api"}


def upload(client, path):
    from gradio_client import handle_file

    return client.predict(handle_file(str(path)), api_name="/upload")


def test_upload_through_the_api_adds_a_document_and_never_overwrites_another(client, server, tmp_path):
    _, pipe, root = server
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    (tmp_path / "a" / "memo.txt").write_text("The code word of the Falcon project is Marmalade.\n")
    (tmp_path / "b" / "memo.txt").write_text("The code word of the Heron project is Tangerine.\n")
    out = upload(client, tmp_path / "a" / "memo.txt")
    assert out["added"] == ["memo.txt"] and out["notes"] == []
    assert upload(client, tmp_path / "a" / "memo.txt")["added"] == ["memo.txt"]  # same bytes: same document
    out = upload(client, tmp_path / "b" / "memo.txt")
    assert out == {"added": ["memo (2).txt"], "notes": ["another memo.txt was already indexed"],
                   "documents": out["documents"]}
    uploads = root / "index" / "uploads"
    assert (uploads / "memo.txt").read_text().endswith("Marmalade.\n")
    assert (uploads / "memo (2).txt").read_text().endswith("Tangerine.\n")
    pipe.remove_documents([str(uploads / "memo.txt"), str(uploads / "memo (2).txt")])


def test_upload_through_the_api_refuses_other_types_in_one_line(client, server, tmp_path):
    from gradio_client.exceptions import AppError

    (tmp_path / "run.sh").write_text("echo hi\n")
    with pytest.raises(AppError) as e:
        upload(client, tmp_path / "run.sh")
    assert str(e.value) == "run.sh: unsupported file type .sh; upload .txt, .md, .html or .pdf"
    assert not (server[2] / "index" / "uploads" / "run.sh").exists()


def test_upload_through_the_api_cannot_name_a_file_of_the_server(client, server):
    # a FileData whose path was never uploaded: Gradio refuses to hand it to the handler
    with pytest.raises(Exception) as e:
        client.predict({"path": "/etc/hostname", "meta": {"_type": "gradio.FileData"}}, api_name="/upload")
    assert "Traceback" not in str(e.value)
    assert not any(p.name == "hostname" for p in (server[2] / "index").rglob("*"))


def test_an_upload_over_the_size_limit_is_refused_by_the_server(tmp_path):
    from dataclasses import replace

    from gradio_client import Client

    pipe = robustness.good_pipeline(tmp_path / "good", tmp_path / "index")
    pipe.config = replace(pipe.config, max_upload_mb=0.01)
    (tmp_path / "big.txt").write_text("Anna Berg visited Oslo on Monday.\n" * 2000)  # 68 kB
    with served(pipe) as url:
        with pytest.raises(Exception) as e:
            upload(Client(url, verbose=False), tmp_path / "big.txt")
    assert "Traceback" not in str(e.value) and "\n" not in str(e.value).strip()
    assert not (tmp_path / "index" / "uploads" / "big.txt").exists()
