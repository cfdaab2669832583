"""The real path: packaged MiniLM embedder, real FAISS index, real GGUF model (greedy, seeded).

Marked slow: a few minutes on 2 cores. Run alone with `pytest -m slow`.
"""
import json

import pytest
from conftest import run_cli

from qa import check, prompts
from qa.api import Pipeline
from qa.config import ROOT, Config
from qa.documents import text_of
from qa.evaluate import TIMING_KEYS, run
from qa.metrics import contains_answer, strip_citations
from qa.types import Passage

pytestmark = pytest.mark.slow

ANSWERABLE = [
    ("Who led the American delegation?", ["Wendy Sherman", "Sherman"]),
    ("When was the Nato-Russia Council established?", ["2002"]),
    ("In what year did Moscow annex Crimea?", ["2014"]),
    ("Who is the UK Foreign Secretary?", ["Liz Truss", "Truss"]),
    ("Who was Russia's representative at the talks?", ["Alexander Grushko", "Grushko"]),
]
UNANSWERABLE = ["Who is the President of Ukraine?", "What is the population of Brussels?",
                "Who won the 2018 football World Cup?"]


@pytest.fixture(scope="session")
def real(tmp_path_factory):
    return Pipeline(Config.from_env(index_dir=str(tmp_path_factory.mktemp("real-index"))))


@pytest.mark.parametrize("question, golds", ANSWERABLE)
def test_answers_with_verified_quotes(real, question, golds):
    a = real.ask(question)
    assert not a.abstained, a.text
    assert contains_answer(strip_citations(a.text), golds), a.text
    assert a.citations
    for c in a.citations:
        assert text_of(c.doc)[c.start:c.end] == c.quote
        assert f"[{c.n}]" in a.text


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_abstains_when_the_article_does_not_say(real, question):
    a = real.ask(question)
    assert a.abstained and a.text == prompts.ABSTAIN and a.citations == ()


def test_same_question_same_answer(real):
    assert real.ask(ANSWERABLE[0][0]).text == real.ask(ANSWERABLE[0][0]).text


def test_cli_json_names_sherman_with_a_quote_equal_to_the_source(tmp_path):
    ask = lambda: run_cli("ask", "Who led the American delegation?", "--json", env={"QA_INDEX_DIR": str(tmp_path)},
                          cwd=ROOT, timeout=900)
    r = ask()
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert "Sherman" in j["answer"] and j["abstained"] is False
    assert j["citations"] and all(text_of(c["doc"])[c["start"]:c["end"]] == c["quote"] for c in j["citations"])
    assert j["citations"][0]["doc"] == "seeds/nato_russia_talks.txt"
    assert j["timings"]["total_s"] > 0
    # the article is read whole: its prompt prefix was saved beside the index, and a second
    # process answers from that file the same way
    [kv] = list(tmp_path.glob("*/kv-*.bin"))
    stamp = kv.stat().st_mtime_ns
    again = ask()
    assert again.returncode == 0 and json.loads(again.stdout)["answer"] == j["answer"]
    assert kv.stat().st_mtime_ns == stamp  # loaded, not evaluated and written again


def test_index_saves_the_prefix_of_a_set_read_whole_and_ask_loads_it(tmp_path):
    doc = tmp_path / "docs" / "a.txt"
    doc.parent.mkdir()
    doc.write_text("Anna Berg, the Swedish trade minister, visited Oslo on Monday.\n\nShe praised the new port.\n")
    cli = lambda *args: run_cli(*args, env={"QA_INDEX_DIR": str(tmp_path / "ix")}, cwd=ROOT, timeout=900)
    r = cli("index", str(doc.parent))
    assert r.returncode == 0 and "prompt prefix saved" in r.stdout, r.stderr
    [kv] = list((tmp_path / "ix").glob("*/kv-*.bin"))
    stamp = kv.stat().st_mtime_ns
    a = cli("ask", "Who visited Oslo?", "--docs", str(doc.parent), "--json")
    assert a.returncode == 0 and "Anna Berg" in json.loads(a.stdout)["answer"], a.stderr
    assert kv.stat().st_mtime_ns == stamp  # the first question loaded the saved prefix


def test_a_restored_prefix_answers_as_a_freshly_evaluated_one(real):
    q = "Who led the American delegation?"
    real.ask("Who is the UK Foreign Secretary?")  # its answer check overwrites the context
    a = real.ask(q)                             # so the pinned prefix is restored for this one
    gen = real.generator
    assert real.whole and gen.last_prompt_evaluated < 60 < gen.last_prompt_tokens
    pins, gen._pins = gen._pins, []
    try:
        gen.load().reset()  # an empty context, no file: the prefix is evaluated again, in the same batches
        everything = [Passage(p.chunk, 0.0) for p in a.passages]
        longest = max(len(t) for t, _ in pins)  # the article's prefix (the readings' openings are shorter)
        assert gen.prefill(prompts.answer_messages(prompts.SLOT, everything), prompts.SLOT) == longest
        raw = "".join(gen.stream(prompts.answer_messages(a.question, a.passages), real.config.max_tokens,
                                 prompts.NOT_FIRST))
    finally:
        gen._pins = pins
    assert raw == a.raw


def test_a_reading_s_pinned_opening_reads_as_a_freshly_evaluated_one(real):
    a = real.ask("Who led the American delegation?")  # its answer check pinned the check's opening, if no test had
    gen = real.generator
    messages = prompts.check_messages(check.read(a.citations, text_of), a.question)
    "".join(gen.stream(prompts.answer_messages(a.question, a.passages), 4))  # the context now holds an answer's prompt
    restored = gen.yes_probability(messages)
    head = min(len(t) for t in gen._heads)
    assert gen.last_prompt_evaluated == gen.last_prompt_tokens - head  # the opening was put back, not evaluated
    pins, heads, gen._pins, gen._heads = gen._pins, gen._heads, [], []
    try:
        gen.load().reset()
        fresh = gen.yes_probability(messages)  # evaluated whole, in one batch
        assert gen.last_prompt_evaluated == gen.last_prompt_tokens
    finally:
        gen._pins, gen._heads = pins, heads
    assert abs(restored - fresh) < 0.01 and restored > 0.5, (restored, fresh)


def test_prompt_lookup_drafts_change_the_steps_not_the_reply(real):
    a = real.ask("Who led the American delegation?")
    gen, messages = real.generator, prompts.answer_messages(a.question, a.passages)
    steps, decode = [], gen._decode
    gen._decode = lambda llm, tokens, every: (steps.append(len(tokens)), decode(llm, tokens, every))[1]
    replies = {}
    try:
        for draft in (0, 4):
            gen.draft, steps[:] = draft, []
            text = "".join(gen.stream(messages, real.config.max_tokens, prompts.NOT_FIRST))
            replies[draft] = (text, len(steps), gen.last_completion_tokens)
    finally:
        del gen._decode
        gen.draft = real.config.draft_tokens
    assert replies[real.config.draft_tokens][0] == a.raw  # what the pipeline gave: the same prompt decodes the same way
    # one step per token without guesses; fewer with them: the model agreed with some guesses.
    # (The two replies may part at a near tie: a batch's arithmetic is not a single token's.)
    assert replies[0][1] >= replies[0][2] and replies[4][1] < replies[4][2]


def test_a_corrupt_saved_prefix_is_not_loaded(real, tmp_path):
    gen = real.generator
    llm = gen.load()
    before = llm.n_tokens
    for i, data in enumerate([b"", b"not a llama.cpp state" * 100]):
        bad = tmp_path / f"kv-{i}.bin"
        bad.write_bytes(data)
        # rejected by its header (qa/kv_file.py) before llama.cpp is handed anything: the context is as it was
        assert gen._load_file(llm, str(bad), [1, 2, 3]) is False and llm.n_tokens == before
    a = real.ask("Who led the American delegation?")  # the pinned prefix is put back from memory
    assert not a.abstained and gen.last_prompt_evaluated < 60


def test_eval_end_to_end_is_deterministic(real, tmp_path):
    testset = tmp_path / "five.jsonl"
    lines = (ROOT / "tests" / "data" / "nato_qa.jsonl").read_text(encoding="utf-8").splitlines()
    picked = [l for l in lines if json.loads(l)["answerable"]][:3] + [l for l in lines if not json.loads(l)["answerable"]][:2]
    testset.write_text("\n".join(picked) + "\n", encoding="utf-8")
    runs = [run(str(testset), real.config, out=str(tmp_path / f"run{i}"), pipeline=real) for i in range(2)]
    for m in runs:
        assert m["n"] == 5 and m["quote_validity"] == 1.0
    strip = lambda m: {k: v for k, v in m.items() if k not in TIMING_KEYS}
    assert strip(runs[0]) == strip(runs[1])
    for name in ("metrics.json", "answers.jsonl", "report.md", "report.png"):
        assert (tmp_path / "run0" / name).stat().st_size > 0


def test_what_two_speakers_said_is_answered_side_by_side_each_cited_to_its_own_speaker(real):
    """Given the whole article, the 1.5B wrote Julianne Smith's words for Denmark too, and the answer was withheld;
    asked of each speaker's sentences alone (retrieve.sides), each side is answered from its own."""
    a = real.ask("Contrast what Denmark and Julianne Smith said.")
    assert not a.abstained and "Denmark" in a.text and "Smith" in a.text, a.text
    by_side = {c.n: c.quote for c in a.citations}
    assert len(by_side) == 2, a.citations
    denmark, smith = (by_side[n] for n in sorted(by_side))
    assert denmark.startswith("Denmark’s delegation to Nato said") and "meaningful dialogue" in denmark
    assert smith.startswith("Julianne Smith, the US ambassador to Nato, said") and "non-starters" in smith
    for c in a.citations:
        assert text_of(c.doc)[c.start:c.end] == c.quote


def test_a_reply_quoting_a_sentence_that_announces_a_list_goes_on_with_the_list(real):
    """The 1.5B answers which areas of co-operation were offered with "… offered their views on areas where Nato and
    Russia could make progress together …", which does not say which: the sentence after it that names them
    ("These include …") is shown after it, quoted whole and cited (cite.enumerated)."""
    a = real.ask("What areas of co-operation did the Nato allies offer Russia?")
    assert not a.abstained and "risk reduction" in a.text and "arms control" in a.text, a.text
    for c in a.citations:
        assert text_of(c.doc)[c.start:c.end] == c.quote


def test_what_one_speaker_said_is_told_in_that_speaker_s_own_cited_sentences(real):
    """Given the whole article, the 1.5B summed up Stoltenberg in one of his sentences, and answered how he described
    the talks in Brussels with Grushko's "a heart-to-heart" (withheld): his own sentences answer both. Who said
    what: the speaker of the sentence that says it."""
    a = real.ask("Give an overview of what Jens Stoltenberg said.")
    assert not a.abstained and len({c.n for c in a.citations}) >= 2, a.text
    for c in a.citations:
        assert text_of(c.doc)[c.start:c.end] == c.quote and "Stoltenberg" in c.quote, c.quote
    a = real.ask("How did Stoltenberg describe the talks in Brussels?")
    assert not a.abstained and "defining moment" in a.text and "heart" not in a.text, a.text
    assert [c.quote[:40] for c in a.citations] == ["The talks in Brussels, described by Mr S"]
    # the 1.5B does not place these words; the sentence that says them, and who says it there, does
    a = real.ask("Who said there can be no place for ultimatums?")
    assert not a.abstained and a.text.startswith("Dmitry Peskov: “We are not negotiating"), a.text
    # the shortest phrase the model copies ("Russia's representative") and the reply's name are one person
    a = real.ask("Who described the talks as a heart-to-heart?")
    assert not a.abstained and "Grushko" in a.text, a.text
