"""Hand-worked cases for qa.metrics: every expected value below was computed by
hand, so a change in normalisation or in a SQuAD rule shows up as a failure."""
from __future__ import annotations

import doctest

import pytest

from qa import metrics, prompts
from qa.metrics import (STAGES, Scored, aggregate, contains_answer, exact_match, f1,
                        normalize_answer, percentile, score, strip_citations)


@pytest.mark.parametrize("raw, want", [
    ("“Russia doesn’t”", "russia doesnt"),          # curly quotes and apostrophe
    ("The Nato-Russia Council", "natorussia council"),
    ("the theatre", "theatre"),                        # article only as a whole word
    ("An anthem, a band", "anthem band"),
    ("1914–1918 — war", "19141918 war"),               # en dash and em dash
    ("  many   spaces\there \n", "many spaces here"),
    ("«Ça va?»", "ça va"),                             # guillemets are category P
    ("100,000", "100000"),
    ("The", ""),
    ("", ""),
])
def test_normalize_answer(raw: str, want: str) -> None:
    assert normalize_answer(raw) == want


def test_articles_removed_after_punctuation() -> None:
    # Official order: "the-end" loses the hyphen first, so "theend" keeps "the".
    assert normalize_answer("the-end") == "theend"
    assert normalize_answer("(the) end") == "end"


@pytest.mark.parametrize("raw, want", [
    ("Paris [1].", "Paris."),
    ("Paris [2, 3] and Lyon [4]", "Paris and Lyon"),
    ("Paris[1][2]", "Paris"),
    ("Paris [1] [2].", "Paris."),
    ("Paris [1,2]", "Paris"),
    ("No markers here.", "No markers here."),
    ("Keep [a] and [ ] and list[0x]", "Keep [a] and [ ] and list[0x]"),
])
def test_strip_citations(raw: str, want: str) -> None:
    assert strip_citations(raw) == want


def test_exact_match() -> None:
    assert exact_match("The Cat!", ["a dog", "cat"]) == 1.0
    assert exact_match("cat sat", ["cat"]) == 0.0
    assert exact_match("“Russia doesn’t”", ["russia doesnt"]) == 1.0


def test_f1_worked_examples() -> None:
    assert f1("the cat sat", ["cat sat down"]) == pytest.approx(0.8)   # P=1, R=2/3
    # Max over golds: "cat" -> P=1/3,R=1 -> 0.5; "cat sat" -> P=2/3,R=1 -> 0.8
    assert f1("cat sat on", ["cat", "cat sat"]) == pytest.approx(0.8)
    # Repeated tokens count once per occurrence: common=1, P=1/2, R=1 -> 2/3
    assert f1("cat cat", ["cat"]) == pytest.approx(2 / 3)
    assert f1("dog", ["cat"]) == 0.0
    assert f1("the", ["cat"]) == 0.0   # prediction normalises to nothing


def test_unanswerable_empty_gold_rule() -> None:
    assert exact_match("", []) == 1.0 and f1("", []) == 1.0
    assert exact_match("The.", []) == 1.0 and f1("a", []) == 1.0  # normalise to ""
    assert exact_match("Moscow", []) == 0.0 and f1("Moscow", []) == 0.0
    # Golds that normalise to nothing are dropped, as in the official script.
    assert exact_match("", ["the", "."]) == 1.0
    assert f1("x", ["", "x"]) == 1.0


def test_contains_answer_word_boundaries() -> None:
    assert not contains_answer("about 100,000 troops", ["100"])  # "100000 troops"
    assert contains_answer("about 100,000 troops", ["100,000"])
    assert contains_answer("It was founded in 1949.", ["1949"])
    assert not contains_answer("the cathedral", ["cat"])
    assert contains_answer("The Nato-Russia Council met", ["NATO–Russia council"])
    assert not contains_answer("anything", ["the", ""])   # empty golds never match
    assert not contains_answer("", ["x"])
    assert not contains_answer("x", [])


def test_percentile() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([3.0, 1.0, 2.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 10.0], 95) == pytest.approx(8.95)  # 3 + 7*0.85
    assert percentile([1.0, 2.0, 3.0, 10.0], 0) == 1.0
    assert percentile([1.0, 2.0, 3.0, 10.0], 100) == 10.0
    assert percentile([0.0, 10.0], 25) == pytest.approx(2.5)


PARIS = "Paris is the capital and most populous city of France."
TREATY = "The treaty was signed in Washington by twelve founding members on that spring day."


def _records() -> list[Scored]:
    right = Scored("q1", True, False, "The capital is Paris [1].", ("Paris",), (PARIS,),
                   (PARIS.rstrip("."),), (True,), (PARIS + " It has museums.",),
                   0.5, 1.0, "geo")
    abstain = Scored("q2", True, True, "I don't know.", ("1949",),
                     ("NATO was founded in 1949 by twelve countries.",), (), (),
                     ("The alliance grew after the Cold War.",), None, 2.0, "history")
    # Neither quote is contained in TREATY; quote 1 shares a run of only 7 tokens
    # (unsupported), quote 2 a run of exactly 8 (supported).
    wrong = Scored("q3", True, False, "It was founded in 1950 [1][2].", ("April 4, 1949",),
                   (TREATY,),
                   ("was signed in Washington by twelve founding delegates",
                    "signed in Washington by twelve founding members on one day"),
                   (True, False), (TREATY + " More text.",), 0.3, 3.0, "history")
    no_ans = Scored("q4", False, True, "I could not find this in the documents.", (), (),
                    (), (), ("Unrelated passage.",), 0.7, 10.0, "geo")
    return [right, abstain, wrong, no_ans]


def test_score_per_record() -> None:
    got = [score(r) for r in _records()]
    assert got[0] == {"id": "q1", "correct": True, "em": 0.0, "f1": pytest.approx(0.5),
                      "retrieval_hit": True, "citation_hits": 1, "key_points": None, "inverted": False}
    assert got[1] == {"id": "q2", "correct": False, "em": 0.0, "f1": 0.0,
                      "retrieval_hit": False, "citation_hits": 0, "key_points": None, "inverted": False}
    assert got[2] == {"id": "q3", "correct": False, "em": 0.0, "f1": 0.0,
                      "retrieval_hit": True, "citation_hits": 1, "key_points": None, "inverted": False}
    assert got[3] == {"id": "q4", "correct": True, "em": 1.0, "f1": 1.0,
                      "retrieval_hit": None, "citation_hits": None, "key_points": None, "inverted": False}


def test_aggregate_every_key() -> None:
    assert aggregate(_records()) == {
        "n": 4, "n_answerable": 3, "n_unanswerable": 1,
        "answerable_accuracy": 0.3333,
        "exact_match": 0.25,                 # only q4 (abstained on unanswerable)
        "f1": 0.375,                         # (0.5 + 0 + 0 + 1) / 4
        "has_ans_exact_match": 0.0,
        "has_ans_f1": 0.1667,                # 0.5 / 3
        "no_ans_exact_match": 1.0,
        "no_ans_f1": 1.0,
        "unanswerable_abstention": 1.0,
        "false_abstention": 0.3333,
        "quote_validity": 0.6667,            # True, True, False
        "citation_precision": 0.6667,        # (1 + 0 + 1) / (1 + 0 + 2)
        "retrieval_recall_at_k": 0.6667,     # q1 and q3
        "first_token_p50_s": 0.5,            # median of 0.3, 0.5, 0.7 (q2 is None)
        "total_p50_s": 2.5,
        "total_p95_s": 8.95,
        "by_category": {"geo": {"n": 2, "accuracy": 1.0},
                        "history": {"n": 2, "accuracy": 0.0}},
        "keypoint_accuracy": None, "by_kind": {}, "inverted_claims": 0,   # no must, polarity or kind
        "outcomes": {"answerable": {"right": 0, "wrong": 0, **{s: 0 for s in STAGES[1:]},
                                    "citations_held_answer": 0, "confirm_held_answer": 0, "check_held_answer": 0,
                                    "entail_held_answer": 0, "polarity_held_answer": 0, "items_held_answer": 0,
                                    "premise_held_answer": 0, "speaker_held_answer": 0, "agree_held_answer": 0,
                                    "elsewhere_held_answer": 0},
                     "unanswerable": {"answered": 0, **{s: 0 for s in STAGES[1:]}}},  # no stages recorded
    }
    assert list(aggregate(_records()[::-1])["by_category"]) == ["geo", "history"]


def test_key_points_polarity_and_inverted_claims() -> None:
    def rec(answer, answerable=True, abstained=False, **kw):
        return Scored("x", answerable, abstained, answer, (), (), (), (), (), None, 1.0, **kw)

    must = (("Stoltenberg",), ("Grushko",), ("Sherman",))
    two = rec("Stoltenberg and Sherman spoke [1].", kind="list", must=must, min_points=2)
    one = rec("Stoltenberg spoke [1].", kind="list", must=must, min_points=2)
    every = rec("Stoltenberg and Sherman spoke [1].", kind="list", must=must)  # min 0: all three needed
    denied = rec("No, Russia denied it [2].", kind="yesno", polarity="no", must=(("denied", "not"),))
    flipped = rec("Yes, Russia intends to invade [2].", kind="yesno", polarity="no")  # the worst defect
    hedged = rec("Russia denied it [2].", kind="yesno", polarity="no")  # no yes/no: not graded right
    withheld = rec("", abstained=True, kind="yesno", polarity="no")
    unanswerable_yes = rec("Yes, Biden attended [1].", answerable=False, kind="yesno", polarity="no")
    got = [score(r) for r in (two, one, every, denied, flipped, hedged, withheld, unanswerable_yes)]
    assert [g["correct"] for g in got] == [True, False, False, True, False, False, False, False]
    assert [g["key_points"] for g in got[:4]] == [2, 1, 2, 1]
    assert score(rec("The Russia-Nato talks [1].", must=(("Nato",), ("talks",))))["key_points"] == 2
    assert [g["inverted"] for g in got] == [False, False, False, False, True, False, False, True]
    m = aggregate([two, one, every, denied, flipped, hedged, withheld, unanswerable_yes])
    assert m["keypoint_accuracy"] == 0.2857 and m["inverted_claims"] == 2   # 2 of the 7 answerable graded ones
    assert m["by_kind"] == {"list": {"n": 3, "accuracy": 0.3333}, "yesno": {"n": 4, "accuracy": 0.25},
                            "unanswerable": {"n": 1, "accuracy": 0.0}}


def test_outcomes_count_where_each_reply_went() -> None:
    def rec(answerable, stage, raw, answer="", golds=("Paris",)):
        return Scored("x", answerable, stage != "shown", answer, golds if answerable else (), (), (), (), (),
                      None, 1.0, stage=stage, raw=raw)
    o = aggregate([rec(True, "shown", "Paris [1].", "Paris [1]."), rec(True, "shown", "Lyon [1].", "Lyon [1]."),
                   rec(True, "citations", "It is Paris, on Mars [2]."), rec(True, "citations", "Lyon."),
                   rec(True, "check", "Paris."), rec(True, "model", prompts.ABSTAIN), rec(True, "gate", ""),
                   rec(False, "shown", "Rome."), rec(False, "check", "Rome."), rec(False, "check", "Oslo."),
                   rec(False, "citations", "Bern."), rec(True, "confirm", "Paris [1]."), rec(False, "confirm", "Bern."),
                   rec(True, "polarity", "Yes, Paris [1]."), rec(False, "polarity", "No, Bern [1]."),
                   rec(True, "entail", "Lyon, not Paris [1]."), rec(True, "agree", "Paris, near Lyon [1]."),
                   rec(False, "agree", "Oslo [1].")])["outcomes"]
    assert o["answerable"] == {"right": 1, "wrong": 1, "gate": 1, "model": 1, "citations": 2,
                               "citations_held_answer": 1, "confirm": 1, "confirm_held_answer": 1,
                               "check": 1, "check_held_answer": 1, "polarity": 1, "polarity_held_answer": 1,
                               "entail": 1, "entail_held_answer": 1, "items": 0, "items_held_answer": 0,
                               "premise": 0, "premise_held_answer": 0, "speaker": 0, "speaker_held_answer": 0,
                               "agree": 1, "agree_held_answer": 1, "elsewhere": 0, "elsewhere_held_answer": 0}
    assert o["unanswerable"] == {"answered": 1, "gate": 0, "model": 0, "citations": 1, "confirm": 1, "check": 2,
                                 "polarity": 1, "entail": 0, "items": 0, "premise": 0, "speaker": 0, "agree": 1,
                                 "elsewhere": 0}


def test_aggregate_empty_and_unevidenced_citations() -> None:
    agg = aggregate([])
    assert agg["n"] == 0 and agg["f1"] == 0.0 and agg["answerable_accuracy"] == 0.0
    assert agg["quote_validity"] == 1.0 and agg["citation_precision"] == 1.0
    assert agg["total_p95_s"] == 0.0 and agg["by_category"] == {}
    # An unanswerable answer that cites something: validity counts it, precision
    # cannot (no evidence or golds to check against).
    r = Scored("u", False, False, "Moscow [1].", (), (), ("Moscow is big",), (False,),
               (), None, 1.0)
    agg = aggregate([r])
    assert agg["quote_validity"] == 0.0 and agg["citation_precision"] == 1.0
    assert agg["unanswerable_abstention"] == 0.0 and agg["no_ans_f1"] == 0.0
    assert agg["by_category"] == {"": {"n": 1, "accuracy": 0.0}}


def test_docstring_examples() -> None:
    assert doctest.testmod(metrics).failed == 0
