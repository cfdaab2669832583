"""Inverted and misattributed claims (tests/data/inverted_claims.jsonl, each checked by hand against
the article): replayed as the model's reply, each must be withheld by the real checks, on the real
model. The worst defect qa can have is a cited claim that says the opposite of its source."""
import json
from dataclasses import replace

import pytest

from qa import models, prompts
from qa.api import Pipeline
from qa.config import ROOT, Config
from qa.generate import LlamaGenerator

from conftest import ScriptedGenerator, ToyEmbedder

pytestmark = pytest.mark.slow
CASES = [json.loads(line) for line in (ROOT / "tests" / "data" / "inverted_claims.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def judge():
    path = str(models.resolve(models.registry()["default"]))
    return path, LlamaGenerator(path, n_ctx=1024, n_threads=Config().threads())


@pytest.mark.parametrize("case", CASES, ids=[c["question"][:40] for c in CASES])
def test_an_inverted_claim_is_never_shown(case, judge, article_dir, tmp_path):
    path, checker = judge
    config = Config(docs=(str(article_dir),), index_dir=str(tmp_path / "index"), check_model=path)
    p = Pipeline(config, embedder=ToyEmbedder(), generator=ScriptedGenerator([case["reply"]]), checker=checker)
    answer = p.ask(case["question"])
    assert answer.abstained and answer.text == prompts.ABSTAIN, (case["why"], answer.text, answer.timings)
