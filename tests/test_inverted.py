"""Inverted and misattributed claims (tests/data/inverted_claims.jsonl, each checked by hand against
the article): replayed as the model's reply, each must be withheld by the real checks, on the real
model, or, a yes/no reply's Yes, turned into the No of the source sentence that denies it, shown verbatim.
The worst defect qa can have is a cited claim that says the opposite of its source."""
import json
from dataclasses import replace

import pytest

from qa import cite, documents, kinds, models, prompts
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
    if not answer.abstained and not kinds.polarity_of(case["reply"]):  # a withheld comparison answered with the
        # source's sentences that set both sides against each other (api.Pipeline._naming_both): each shown
        # sentence the source's own, word for word, and nothing of the reply
        source = " ".join(documents.text_of(answer.citations[0].doc).split())
        for claim, _ in cite.claims(cite.Verified(answer.text, answer.citations, False)):
            assert claim.rstrip(".") in source, (case["why"], claim)
        assert cite.MARKER.sub("", case["reply"]).strip().rstrip(".") not in answer.text, (case["why"], answer.text)
        return
    if not answer.abstained:  # a Yes turned into the No its source gives (steps.denied), as that sentence verbatim
        (c,) = answer.citations
        assert kinds.polarity_of(case["reply"]) == "yes" and answer.text == f"No: {_said(c.quote)} [{c.n}].", (
            case["why"], answer.text)
        assert cite.negations(c.quote) or cite.opposed(case["question"], answer.citations, documents.text_of), c.quote
        return
    assert answer.text == prompts.ABSTAIN, (case["why"], answer.text, answer.timings)


def _said(quote: str) -> str:
    return " ".join(quote.split()).rstrip(".!?;, ")


# SQuAD 2.0 "Scottish Parliament" (bench/data/squad2_corpus), the paragraph of corpus dev's vote clerk question
PARLIAMENT = (
    "During debates, the Presiding Officer (or the deputy) is assisted by the parliamentary clerks, who give advice "
    "on how to interpret the standing orders that govern the proceedings of meetings. A vote clerk sits in front of "
    "the Presiding Officer and operates the electronic voting equipment and chamber clocks.\n")
CLERK_Q = "Who is responsible for operating the electronic voting equipment and chamber clocks?"


@pytest.mark.parametrize("reply, shown", [
    ("The Presiding Officer is responsible for operating the electronic voting equipment and chamber clocks [1].",
     False),
    ("A vote clerk is responsible for operating the electronic voting equipment and chamber clocks [1].", True)])
def test_a_name_taken_from_the_wrong_part_of_its_sentence_is_withheld(reply, shown, judge, tmp_path):
    """Shown on corpus dev in session 15: the reply's words are all in its quote, and the answer check gave
    it P(yes) 0.90; the real model, asked for the shortest answer in that sentence, names the vote clerk."""
    path, checker = judge
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "parliament.txt").write_text(PARLIAMENT, encoding="utf-8")
    config = Config(docs=(str(tmp_path / "docs"),), index_dir=str(tmp_path / "index"), check_model=path)
    p = Pipeline(config, embedder=ToyEmbedder(), generator=ScriptedGenerator([reply]), checker=checker)
    answer = p.ask(CLERK_Q)
    assert answer.abstained != shown and "agree_s" in answer.timings, (answer.text, answer.timings)


@pytest.mark.parametrize("question, reply, sentence", [
    ("Did Russia say it intends to invade Ukraine?", "Yes, Russia said it intends to invade Ukraine [1].",
     "Kremlin spokesman Dmitry Peskov, spokesman at the talks, repeated Russia's denials on Wednesday that it "
     "intends to invade Ukraine"),
    ("Did Julianne Smith speak after the meeting?", "Yes, Julianne Smith spoke after the meeting [1].",
     "“We will not allow anyone to slam Nato’s open-door policy shut,” Ms Smith said, speaking before the meeting")])
def test_a_yes_the_source_denies_is_answered_with_the_no_of_its_sentence(question, reply, sentence, judge, article_dir,
                                                                        tmp_path):
    """The 1.5B's own replies to two user-style dev questions (runs/s18-userdev): the real model reads the
    sentence that denies the claim (steps.denied), and the answer is its No, verbatim."""
    path, checker = judge
    config = Config(docs=(str(article_dir),), index_dir=str(tmp_path / "index"), check_model=path)
    p = Pipeline(config, embedder=ToyEmbedder(), generator=ScriptedGenerator([reply]), checker=checker)
    answer = p.ask(question)
    [c] = answer.citations
    assert answer.text == f"No: {sentence} [{c.n}]." and c.quote == sentence + ".", answer.text


OFFICIALS_REPLY = ("Jens Stoltenberg [1], Alexander Grushko [3], Wendy Sherman [9], Stefano Sannino [10], Liz Truss [14], "
                   "Dmitry Peskov [17], Josep Borrell [18], Julianne Smith [19], Denmark's delegation to Nato [21], "
                   "Nato-Russia Council [22], Organisation for Security and Co-operation in Europe [23]")


def test_a_name_listed_among_the_officials_quoted_who_says_nothing_is_not_shown(judge, article_dir, tmp_path):
    """The 1.5B's own reply to "List the officials quoted in the article." (sessions 16 to 18): Stefano Sannino,
    whom Ms Sherman met, says nothing in the article, and the real model reading his sentence gave him P(yes) 0.80,
    over the list items' bar (steps.ITEM_BAR). The officials who are quoted stay (the model read them 0.81-0.87)."""
    path, checker = judge
    config = Config(docs=(str(article_dir),), index_dir=str(tmp_path / "index"), check_model=path)
    p = Pipeline(config, embedder=ToyEmbedder(), generator=ScriptedGenerator([OFFICIALS_REPLY]), checker=checker)
    answer = p.ask("List the officials quoted in the article.")
    assert "Sannino" not in answer.text and "Council" not in answer.text, answer.text
    quoted = ("Stoltenberg", "Grushko", "Sherman", "Truss", "Peskov", "Borrell", "Smith")
    assert sum(name in answer.text for name in quoted) >= 5, answer.text


def test_a_comma_list_under_one_citation_is_read_item_by_item(judge, article_dir, tmp_path):
    """The 1.5B's own reply to "Which countries does the article mention?" (session 21): the three names on one
    line under one citation were read as one item, which the item reading let through, Nato with them. Split
    (kinds.itemize), each name is read on its own, and asked alone whether it is a country (steps.TYPE_BAR):
    Nato, which is not one (P(yes) 0.11; read against its sentence, 0.80), is never shown; Russia is."""
    path, checker = judge
    config = Config(docs=(str(article_dir),), index_dir=str(tmp_path / "index"), check_model=path)
    p = Pipeline(config, embedder=ToyEmbedder(), generator=ScriptedGenerator(["Russia, Ukraine, Nato [3]."]),
                 checker=checker)
    answer = p.ask("Which countries does the article mention?")
    assert "Nato" not in answer.text and "Russia [" in answer.text, answer.text


def test_countries_the_article_mentions_stand_on_their_quotes(judge, article_dir, tmp_path):
    """The chat's own reply (session 24) to "Which countries are mentioned in the article?": read against their
    quoted sentences, Russia and Ukraine got P(yes) 0.71 and 0.73, under the item bar, and the list was withheld
    whole. Asked only what the article mentions, a country stands on its quote; Nato, not a country, still goes."""
    path, checker = judge
    config = Config(docs=(str(article_dir),), index_dir=str(tmp_path / "index"), check_model=path)
    p = Pipeline(config, embedder=ToyEmbedder(), generator=ScriptedGenerator(["Russia [2], Ukraine [2], Nato [1]"]),
                 checker=checker)
    answer = p.ask("Which countries are mentioned in the article?")
    assert not answer.abstained and "Nato" not in answer.text, answer.text
    assert "Russia [" in answer.text and "Ukraine [" in answer.text, answer.text
