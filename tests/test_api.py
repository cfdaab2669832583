import time

import pytest

from qa import api, check, cite, documents, kinds, prompts
from qa.api import Pipeline
from qa.errors import BadQuestion
from qa.types import Stage

from conftest import ScriptedGenerator, ToyEmbedder

SHERMAN = "Wendy Sherman, the US deputy secretary of state, led the American delegation [1]."


def pipeline(config, *replies):
    return Pipeline(config, embedder=ToyEmbedder(), generator=ScriptedGenerator(replies))


def test_answer_streams_then_verifies_with_exact_prompt(toy_config):
    p = pipeline(toy_config, SHERMAN)
    items = list(p.stream("Who led the American delegation?"))
    *pieces, answer = items
    assert "".join(pieces) == SHERMAN and all(isinstance(x, str) for x in pieces)
    assert answer.text == SHERMAN and not answer.abstained
    [c] = answer.citations
    assert c.quote == "Wendy Sherman, the US deputy secretary of state who led the American delegation"
    assert p.text_of(c.doc)[c.start:c.end] == c.quote
    assert answer.passages[0].chunk.id == c.chunk_id
    [messages] = p.generator.prompts
    assert messages == prompts.answer_messages("Who led the American delegation?", answer.passages)
    assert messages[0]["content"] == prompts.SYSTEM
    assert messages[1]["content"].startswith("Passages:\n[1] ")
    assert messages[1]["content"].endswith("\n\nQuestion: Who led the American delegation?")
    assert set(answer.timings) == {"retrieve_s", "first_token_s", "generate_s", "total_s"}  # self-check off


def test_nothing_relevant_retrieved_means_no_llm_call(toy_config):
    p = pipeline(toy_config, "should never be used")
    a = p.ask("What is the capital of Peru?")  # no vocabulary word: every cosine is the constant 0.1-ish
    assert a.abstained and a.text == prompts.ABSTAIN and a.citations == ()
    assert p.generator.prompts == []


def test_model_abstention_is_passed_through_without_citations(toy_config):
    a = pipeline(toy_config, prompts.ABSTAIN).ask("What did Russia say about Sherman's troops?")
    assert a.abstained and a.citations == () and a.text == prompts.ABSTAIN


def test_unsupported_answer_becomes_an_abstention(toy_config):
    a = pipeline(toy_config, "Volodymyr Zelensky is the President of Ukraine [1].").ask("Who is Ukraine's president?")
    assert a.abstained and a.citations == ()


@pytest.mark.parametrize("q, msg", [("", "empty"), ("   \n\t", "empty"), ("x" * 100_000, "too long")])
def test_bad_questions_are_refused_before_any_work(toy_config, q, msg):
    p = pipeline(toy_config, SHERMAN)
    with pytest.raises(BadQuestion, match=msg):
        p.ask(q)
    assert p.embedder.calls == [] and p.generator.prompts == []


def test_follow_up_is_rewritten_for_retrieval(toy_config):
    p = pipeline(toy_config, "What did Wendy Sherman say about the troops?", "She said it is hard to have dialogue.")
    a = p.ask("What did she say about the troops?", history=[("Who led the American delegation?", SHERMAN)])
    assert a.question == "What did Wendy Sherman say about the troops?"
    rewrite, answer = p.generator.prompts
    assert rewrite == prompts.rewrite_messages("What did she say about the troops?",
                                               [("Who led the American delegation?", SHERMAN)])
    assert answer[1]["content"].endswith("Question: What did Wendy Sherman say about the troops?")


def test_json_schema(toy_config):
    a = pipeline(toy_config, SHERMAN).ask("Who led the American delegation?")
    j = a.to_json()
    assert set(j) == {"answer", "abstained", "citations", "passages", "timings"}
    assert set(j["citations"][0]) == {"n", "doc", "title", "start", "end", "quote"}
    assert j["citations"][0]["title"] == "Nato leaves door open for further Russia talks despite 'significant differences'"
    assert set(j["passages"][0]) == {"doc", "start", "end", "score"}
    assert {"total_s", "first_token_s"} <= set(j["timings"])


@pytest.mark.parametrize("p_yes, abstained", [(0.2, True), (0.8, False)])
def test_answer_check_gates_the_answer(toy_config, p_yes, abstained):
    from dataclasses import replace

    p = Pipeline(replace(toy_config, min_support=0.5, check_model=""), embedder=ToyEmbedder(),
                 generator=ScriptedGenerator([SHERMAN], support=[p_yes]))
    a = p.ask("Who led the American delegation?")
    assert a.abstained is abstained and a.support == p_yes and "check_s" in a.timings
    [msgs] = p.generator.checks  # check_model "": the answering model checks
    [cited] = cite.verify(SHERMAN, list(a.passages), documents.text_of, a.question).citations
    sentence = check.context((cited,), documents.text_of)
    assert cited.quote in sentence and sentence.startswith("Wendy Sherman")
    assert msgs == prompts.check_messages(sentence, "Who led the American delegation?")


def test_a_separate_check_model_is_preloaded_after_the_answering_one(toy_config):
    import threading
    from dataclasses import replace

    loads, threads = [], []

    class Loading(ScriptedGenerator):
        def load(self):
            loads.append(self.name)
            threads.append(threading.current_thread())

    answerer, judge = Loading([SHERMAN]), Loading([], support=[0.9])
    answerer.name, judge.name = "answerer", "judge"
    p = Pipeline(replace(toy_config, min_support=0.5, check_model="judge.gguf"), embedder=ToyEmbedder(),
                 generator=answerer, checker=judge)
    p.ask("Who led the American delegation?")
    deadline = time.monotonic() + 10
    while len(loads) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert loads == ["answerer", "judge"] and threads[0] is threads[1]  # one after the other, in one thread
    p.ask("Who led the American delegation?")
    assert loads == ["answerer", "judge"]  # once each


def test_a_separate_check_model_does_the_check(toy_config):
    from dataclasses import replace

    judge = ScriptedGenerator([], support=[0.1])
    p = Pipeline(replace(toy_config, min_support=0.5, check_model="judge.gguf"), embedder=ToyEmbedder(),
                 generator=ScriptedGenerator([SHERMAN], support=[0.9]), checker=judge)
    a = p.ask("Who led the American delegation?")
    assert a.abstained and a.support == 0.1 and len(judge.checks) == 1 and p.generator.checks == []


def test_no_check_when_the_threshold_is_zero(toy_config):
    p = pipeline(toy_config, SHERMAN)
    a = p.ask("Who led the American delegation?")
    assert not a.abstained and a.support is None and p.generator.checks == []


def test_a_small_set_is_read_whole_with_its_prefix_prefilled(toy_config):
    from dataclasses import replace

    p = pipeline(replace(toy_config, whole_chars=100_000), SHERMAN.replace("[1]", "[9]"))
    chunks = p.index.chunks
    built = len(p.embedder.calls)
    a = p.ask("Who led the American delegation?")
    assert [x.chunk.id for x in a.passages] == [c.id for c in sorted(chunks, key=lambda c: (c.doc, c.start))]
    assert not a.abstained and [c.n for c in a.citations] == [9]
    assert len(p.embedder.calls) == built  # read whole: nothing to search, no question embedded
    [(pre, upto)] = p.generator.prefills
    [asked] = p.generator.prompts
    assert upto == prompts.SLOT and pre[0] == asked[0]
    head = pre[1]["content"].split(upto)[0]
    assert head.endswith("Question: ") and asked[1]["content"] == head + "Who led the American delegation?"


@pytest.mark.parametrize("whole_chars, n_ctx", [(0, 4096), (100_000, 2048)])  # over the limit; over the context
def test_a_large_set_gets_the_top_k(toy_config, whole_chars, n_ctx):
    from dataclasses import replace

    p = pipeline(replace(toy_config, whole_chars=whole_chars, n_ctx=n_ctx), SHERMAN)
    a = p.ask("Who led the American delegation?")
    assert len(a.passages) == toy_config.top_k
    # what is pinned is the system prompt, up to where the passages begin: a prefix of the prompt
    [(pre, upto)] = p.generator.prefills
    [asked] = p.generator.prompts
    head = pre[1]["content"].split(upto)[0]
    assert head == "Passages:\n[1] " and asked[1]["content"].startswith(head) and pre[0] == asked[0]


def test_warm_in_the_background_prefills_a_whole_read_set(toy_config):
    import time
    from dataclasses import replace

    p = pipeline(replace(toy_config, whole_chars=100_000), SHERMAN)
    p.warm(background=True)
    deadline = time.monotonic() + 30
    while not p.generator.prefills and time.monotonic() < deadline:
        time.sleep(0.05)
    [(_, upto)] = p.generator.prefills
    assert upto == prompts.SLOT
    while ["warm"] not in p.embedder.calls and time.monotonic() < deadline:  # then the embedder (it picks
        time.sleep(0.05)  # sentences), after the index was built with it
    assert p.embedder.calls[-1] == ["warm"]


PESKOV_Q = "Who repeated Moscow's denials that it plans to invade Ukraine?"


def test_a_reply_the_citation_check_rejects_is_asked_again_on_its_best_sentence(toy_config):
    from dataclasses import replace

    p = pipeline(replace(toy_config, whole_chars=100_000),
                 "Julianne Smith repeated Russia's denials that it intends to invade Ukraine [20].",
                 "Dmitry Peskov repeated Russia's denials that it intends to invade Ukraine [1].")
    a = p.ask(PESKOV_Q)
    first, second = p.generator.prompts
    # the second prompt holds one passage: the sentence that backs most of the first reply
    assert second == prompts.answer_messages(PESKOV_Q, [cite.focus(a.raw, list(a.passages), p.text_of)])
    assert second[1]["content"] == ("Passages:\n[1] Kremlin spokesman Dmitry Peskov, spokesman at the talks, "
                                    "repeated Russia's denials on Wednesday that it intends to invade Ukraine."
                                    f"\n\nQuestion: {PESKOV_Q}")
    # its "[1]" means that passage: the verifier cites the passage of the full list that holds it
    assert not a.abstained and a.raw.startswith("Dmitry Peskov") and "reread_s" in a.timings
    [c] = a.citations
    assert "Dmitry Peskov" in p.text_of(c.doc)[c.start:c.end] and "Peskov" in a.passages[c.n - 1].chunk.text


def test_no_second_reading_for_the_model_s_own_abstention_or_when_turned_off(toy_config):
    from dataclasses import replace

    wrong = "Julianne Smith repeated Russia's denials that it intends to invade Ukraine [20]."
    off = pipeline(replace(toy_config, whole_chars=100_000, reread=0), wrong, "never used")
    assert off.ask(PESKOV_Q).abstained and len(off.generator.prompts) == 1
    own = pipeline(replace(toy_config, whole_chars=100_000), prompts.ABSTAIN, "never used")
    assert own.ask(PESKOV_Q).abstained and len(own.generator.prompts) == 1
    # nothing in the source backs the reply: nothing to read again
    made_up = pipeline(replace(toy_config, whole_chars=100_000), "Bananas grow on trees in Peru [1].", "never used")
    assert made_up.ask(PESKOV_Q).abstained and len(made_up.generator.prompts) == 1


def test_an_answer_from_retrieved_passages_is_withheld_when_its_quoted_sentences_alone_do_not_answer(toy_config):
    from dataclasses import replace

    p = pipeline(replace(toy_config, confirm=1), SHERMAN, prompts.ABSTAIN)
    a = p.ask("Who led the American delegation?")
    first, second = p.generator.prompts
    # the second reading holds only the sentence the answer quotes
    assert second[1]["content"] == (
        "Passages:\n[1] Wendy Sherman, the US deputy secretary of state who led the American delegation, said "
        "Russia brought nothing new to Wednesday's talks and had not been clear about whether it took diplomacy "
        "seriously.\n\nQuestion: Who led the American delegation?")
    assert a.abstained and a.text == prompts.ABSTAIN and a.raw == SHERMAN and "confirm_s" in a.timings


def test_an_answer_its_quoted_sentences_confirm_is_kept(toy_config):
    from dataclasses import replace

    p = pipeline(replace(toy_config, confirm=1), SHERMAN, "Wendy Sherman led the American delegation [1].")
    a = p.ask("Who led the American delegation?")
    assert not a.abstained and a.text == SHERMAN and len(p.generator.prompts) == 2
    [c] = a.citations
    assert c.quote == "Wendy Sherman, the US deputy secretary of state who led the American delegation"


def test_no_confirming_reading_when_it_is_off_or_the_set_is_read_whole(toy_config):
    from dataclasses import replace

    for config in (replace(toy_config, confirm=0), replace(toy_config, confirm=1, whole_chars=100_000)):
        p = pipeline(config, SHERMAN, prompts.ABSTAIN)
        a = p.ask("Who led the American delegation?")
        assert not a.abstained and len(p.generator.prompts) == 1 and "confirm_s" not in a.timings


def test_no_confirming_reading_for_an_answer_the_answer_check_is_sure_of(toy_config):
    from dataclasses import replace

    for p_yes, confirmed in ((0.9, False), (0.7, True)):
        p = pipeline(replace(toy_config, confirm=1, min_support=0.5, confirm_below=0.85, retry=0), SHERMAN,
                     prompts.ABSTAIN)
        p.generator.support = [p_yes]
        a = p.ask("Who led the American delegation?")
        assert ("confirm_s" in a.timings) == confirmed and a.abstained == confirmed
        assert len(p.generator.prompts) == 1 + confirmed


def test_the_confirming_reading_runs_last_only_on_what_both_checks_let_through(toy_config):
    from dataclasses import replace

    p = pipeline(replace(toy_config, confirm=1, min_support=0.5, retry=0), SHERMAN, "never used")
    p.generator.support = [0.1]  # the answer check says no
    a = p.ask("Who led the American delegation?")
    assert a.abstained and len(p.generator.prompts) == 1 and len(p.generator.checks) == 1
    assert "check_s" in a.timings and "confirm_s" not in a.timings


def test_a_fact_must_hold_the_phrase_read_from_its_quote_as_the_answer(toy_config):
    """Corpus dev: "The Presiding Officer is responsible for operating the electronic voting equipment", quoted
    from "A vote clerk sits in front of the Presiding Officer and operates the electronic voting equipment",
    passed the answer check (0.90); the shortest answer the model copies from that sentence is "Vote clerk".
    A phrase from outside the quoted sentence ("Julianne Smith") does not tell against the reply."""
    from dataclasses import replace

    on = replace(toy_config, min_support=0.5, agree=1, retry=0)
    for phrase, shown in (("Wendy Sherman", True), ("None", True), ("the US deputy secretary of state", True),
                          ("Julianne Smith", True), ("Russia", False)):
        p = pipeline(on, SHERMAN, phrase)
        a = p.ask("Who led the American delegation?")
        asked = p.generator.prompts[1][0]["content"]
        # the answer check's prompt up to the question, which llama.cpp then need not evaluate again
        assert asked.split("Question:")[0] == p.generator.checks[0][0]["content"].split("Question:")[0]
        assert asked.endswith("Answer with the shortest phrase copied from the text, or say none.")
        assert a.abstained != shown and "agree_s" in a.timings, phrase


def test_a_fact_whose_shortest_answer_reading_writes_the_question_back_is_withheld(toy_config):
    """Article dev: "What did the Kremlin's spokesman say Moscow was not negotiating from?" was answered with
    "The Kremlin spokesman repeated Russia's denials …" (answer check 0.59), and the shortest-answer reading of
    that sentence wrote "Moscow was not negotiating from.": the question's own words, which the text lacks. The
    reading found no answer there. The question's words the text holds ("the American delegation") decide nothing."""
    from dataclasses import replace

    on = replace(toy_config, min_support=0.5, agree=1, retry=0)
    q = "Who led the American delegation at the negotiating table?"
    for phrase, shown in (("led the delegation at the negotiating table", False), ("the American delegation", True),
                          ("Wendy Sherman", True)):
        p = pipeline(on, SHERMAN, phrase)
        a = p.ask(q)
        assert "agree_s" in a.timings and a.abstained != shown, phrase


def test_no_shortest_answer_reading_for_a_reply_that_holds_every_word_of_its_quote(toy_config):
    """Any phrase copied from the quoted sentence is then in the reply: the reading could not withhold it
    (8 of its 29 readings on the article dev set, runs/s16-natodev-agree2). One word short, it is asked."""
    from dataclasses import replace

    on = replace(toy_config, min_support=0.5, agree=1, retry=0, whole_chars=100_000)
    for reply, asked in (("Those talks in Geneva ended with no breakthrough [20].", False),
                         ("Those talks in Geneva ended [20].", True)):
        p = pipeline(on, reply, "None")
        a = p.ask("What happened to the talks in Geneva?")
        assert not a.abstained and ("agree_s" in a.timings) == asked and len(p.generator.prompts) == 1 + asked


def test_no_shortest_answer_reading_for_a_yes_no_a_list_or_with_the_answer_check_off(toy_config):
    from dataclasses import replace

    on = replace(toy_config, min_support=0.5, agree=1, retry=0)
    for config, question, reply in ((on, "Did Wendy Sherman lead the American delegation?", "Yes, " + SHERMAN),
                                    (on, "Summarise the talks Wendy Sherman led.", SHERMAN),
                                    (replace(on, agree=0), "Who led the American delegation?", SHERMAN),
                                    (replace(on, min_support=0.0), "Who led the American delegation?", SHERMAN)):
        p = pipeline(config, reply, "Julianne Smith")
        a = p.ask(question)
        assert "agree_s" not in a.timings and len(p.generator.prompts) == 1, question


def test_a_withheld_answer_gets_a_second_chance_on_the_best_passage_it_did_not_cite(toy_config):
    """Corpus dev: "Who patronized the monks in Italy?" was answered "The Mongols …" from passage [2] (withheld);
    asked again on passage [1] alone, "Robert Guiscard"."""
    from dataclasses import replace

    p = pipeline(replace(toy_config, min_support=0.5, retry=1), SHERMAN, SHERMAN)
    p.generator.support = [0.1, 0.9]  # the answer check says no to the first reply, yes to the second
    *items, a = p.stream("Who led the American delegation?")
    first, second = p.generator.prompts
    cited = {c.n for c in cite.verify(SHERMAN, list(a.passages), documents.text_of).citations}
    other = next(x for n, x in enumerate(a.passages, 1) if n not in cited)  # the best passage not cited
    assert cited and Stage("retry") in items
    assert "".join(i for i in items[items.index(Stage("retry")) + 1:] if isinstance(i, str)) == SHERMAN  # streamed
    assert second[1]["content"].startswith("Passages:\n[1] " + " ".join(other.chunk.text.split()) + "\n\nQuestion:")
    assert not a.abstained and a.text == SHERMAN and "retry_s" in a.timings and a.support == 0.9
    assert len(p.generator.checks) == 2


def test_a_second_chance_must_reach_the_higher_bar(toy_config):
    from dataclasses import replace

    p = pipeline(replace(toy_config, min_support=0.5, retry=1, retry_support=0.8), SHERMAN, SHERMAN)
    p.generator.support = [0.1, 0.7]  # enough for a first reply (0.5), not for a second chance (0.8)
    a = p.ask("Who led the American delegation?")
    assert a.abstained and len(p.generator.prompts) == 2 and "retry_s" in a.timings


def test_no_second_chance_for_the_model_s_own_abstention_a_set_read_whole_a_yes_no_or_a_summary(toy_config):
    from dataclasses import replace

    on = replace(toy_config, min_support=0.5, retry=1)
    cases = [(on, "Who led the American delegation?", prompts.ABSTAIN),
             (replace(on, whole_chars=100_000), "Who led the American delegation?", SHERMAN),
             (on, "Did Wendy Sherman lead the American delegation?", "Yes, " + SHERMAN),
             (on, "Summarise the talks Wendy Sherman led.", SHERMAN),
             (replace(on, retry=0), "Who led the American delegation?", SHERMAN),
             (replace(on, min_support=0.0), "Who led the American delegation?", "Bananas grow in Peru [1].")]
    for config, question, reply in cases:
        p = pipeline(config, reply, SHERMAN)
        p.generator.support = [0.1] * 4
        a = p.ask(question)
        assert a.abstained and len(p.generator.prompts) == 1 and "retry_s" not in a.timings, question


DENIAL = ("Kremlin spokesman Dmitry Peskov, spokesman at the talks, repeated Russia's denials on Wednesday that it "
          "intends to invade Ukraine")


@pytest.mark.parametrize("reads_no", [True, False])
def test_a_withheld_yes_becomes_the_no_its_source_sentence_gives_where_the_model_reads_it_so(toy_config, reads_no):
    """The 1.5B answers "Did Russia say it intends to invade Ukraine?" Yes, citing the sentence that reports
    Russia's denials; the entailment step withholds the Yes, and the sentence is shown as the No, verbatim, only
    where the model, asked whether it states the claim, reads no (steps.denied)."""
    from dataclasses import replace

    p = pipeline(replace(toy_config, min_support=0.5), "Yes, Russia said it intends to invade Ukraine [1].")
    # the answer check, the entailment of the claim against its negated quote, then the reading of the denial
    p.generator.support = [0.9, 0.1, 0.1 if reads_no else 0.9]
    a = p.ask("Did Russia say it intends to invade Ukraine?")
    assert "entail_s" in a.timings and "denied_s" in a.timings and len(p.generator.checks) == 3
    if not reads_no:
        assert a.abstained and a.text == prompts.ABSTAIN
        return
    [c] = a.citations
    assert not a.abstained and a.text == f"No: {DENIAL} [{c.n}]." and c.quote == DENIAL + "."
    assert p.text_of(c.doc)[c.start:c.end] == c.quote
    assert "Claim: Russia said it intends to invade Ukraine." in p.generator.checks[-1][-1]["content"]


@pytest.mark.parametrize("question, reply", [
    ("Did Russia deny that it intends to invade Ukraine?", "Yes, Russia said it intends to invade Ukraine [1]."),
    ("Did Russia say it intends to invade Poland?", "Yes, Russia said it intends to invade Poland [1]."),
    ("Did Russia say it intends to invade Ukraine?", prompts.ABSTAIN)])
def test_no_reading_for_a_no_where_the_question_is_negated_no_sentence_holds_its_words_or_the_model_abstained(
        toy_config, question, reply):
    from dataclasses import replace

    p = pipeline(replace(toy_config, min_support=0.5), reply)
    p.generator.support = [0.1] * 4
    a = p.ask(question)
    assert a.abstained and "denied_s" not in a.timings, (question, reply, a.text)


def test_a_list_is_shown_one_item_a_line(toy_config):
    """Verified sentences are joined by spaces; a list's items, which the model is asked to write one a line
    (and kinds.itemize splits when it does not), are shown so, whether or not the item reading dropped one."""
    from dataclasses import replace

    p = pipeline(replace(toy_config, whole_chars=100_000), "Alexander Grushko [1], Wendy Sherman [1].")
    a = p.ask("List the officials quoted in the article.")
    assert a.text.splitlines() == ["Alexander Grushko [4].", "Wendy Sherman [9]."], a.text


def test_a_reply_to_who_that_opens_with_she_names_no_one_and_is_withheld(toy_config):
    """natodev: to "Who condemned …, and what did she call unacceptable?" the model's "The US condemned …" failed the
    word test and left "She said …", a true sentence of the article that answers neither part. Named, it stands."""
    from dataclasses import replace

    config = replace(toy_config, whole_chars=100_000)
    question = "Who condemned Russia's “aggression and destabilising activity”, and what did she call unacceptable?"
    said = ("She said that a further military incursion into Ukraine would come with a severe cost on Russia’s "
            "economy, including co-ordinated sanctions [1].")
    a = pipeline(config, said).ask(question)
    assert a.abstained and a.citations == (), a.text
    named = "Liz Truss condemned Russia’s “aggression and destabilising activity” [1]. " + said
    a = pipeline(config, named).ask(question)
    assert not a.abstained and a.text.startswith("Liz Truss condemned"), a.text
    a = pipeline(config, said).ask("What did Liz Truss say a further military incursion into Ukraine would bring?")
    assert not a.abstained, a.text


def test_a_claim_that_is_its_quote_with_a_pronoun_for_the_subject_is_shown_as_the_quote(toy_config):
    """userdev: "Where were the Monday talks held, and how did they end?" got "They ended with no breakthrough",
    quoted from "Those talks in Geneva ended with no breakthrough": the source's subject says where."""
    from dataclasses import replace

    p = pipeline(replace(toy_config, whole_chars=100_000), "They ended with no breakthrough [1].")
    a = p.ask("Where were the Monday talks held, and how did they end?")
    assert not a.abstained and a.text.startswith("Those talks in Geneva ended with no breakthrough ["), a.text
    [c] = a.citations
    assert p.text_of(c.doc)[c.start:c.end] == c.quote == "Those talks in Geneva ended with no breakthrough."


def test_a_claim_stating_as_fact_what_its_source_says_could_happen_is_shown_as_the_source_sentence(toy_config):
    """userdev: "What did Germany possibly terminate, and which pipeline is involved?" got "Germany terminated its
    agreement to put the Nord Stream 2 oil pipeline from Russia into operation", quoted from "Those measures
    could include Germany terminating its agreement …": a termination the article does not report."""
    from dataclasses import replace

    reply = "Germany terminated its agreement to put the Nord Stream 2 oil pipeline from Russia into operation [1]."
    p = pipeline(replace(toy_config, whole_chars=100_000), reply)
    a = p.ask("What did Germany possibly terminate, and which pipeline is involved?")
    assert not a.abstained and a.text.startswith("Those measures could include Germany terminating its agreement"), a.text
    [c] = a.citations
    assert p.text_of(c.doc)[c.start:c.end] == c.quote and c.quote.startswith("Those measures could include")
    hedged = pipeline(replace(toy_config, whole_chars=100_000),
                      "Germany could terminate its agreement to put the Nord Stream 2 oil pipeline into operation [1].")
    assert hedged.ask("What could Germany terminate?").text.startswith("Germany could terminate"), "a hedged claim stays"


def test_a_paraphrase_around_words_quoted_from_one_sentence_is_cited_to_it(toy_config):
    """natodev: "How did Stoltenberg describe the gap between the two sides' positions?" got 'Jens Stoltenberg
    described the gap between the two sides' positions as "not easy to bridge"', withheld by the citation check:
    the words around the quotation are the question's, not the source's ("said the opposing views were"), and
    "the two sides" asked for a "2" the article does not write."""
    from dataclasses import replace

    config = replace(toy_config, whole_chars=100_000)
    q = "How did Stoltenberg describe the gap between the two sides' positions?"
    a = pipeline(config, 'Jens Stoltenberg described the gap between the two sides\' positions as "not easy to bridge" [1].'
                 ).ask(q)
    assert not a.abstained and "not easy to bridge" in a.text, a.text
    [c] = a.citations
    assert c.quote.startswith("Alliance chief Jens Stoltenberg said the opposing views were “not easy to bridge”")
    more = pipeline(config, 'Jens Stoltenberg described the gap as "not easy to bridge" and very wide [1].')
    assert more.ask(q).abstained, "a word neither the sentence nor the question has"


def test_the_countries_a_text_mentions_are_listed_whole_each_quoted_where_first_named(toy_config):
    """The 1.5B, asked "Which countries are named in the article?", listed Russia and Ukraine; the article also
    names the US, Germany, Denmark and the UK. A question that asks for anything more than what is mentioned
    ("Which countries border Ukraine?") gets no such items."""
    from dataclasses import replace

    config = replace(toy_config, whole_chars=100_000)
    p = pipeline(config, "Russia [1], Ukraine [3]")
    a = p.ask("Which countries are named in the article?")
    assert a.text.splitlines()[:2] == ["Russia [1].", "Ukraine [3]."], a.text
    assert {line.split(" [")[0] for line in a.text.splitlines()[2:]} == {"US", "Germany", "Denmark", "UK"}, a.text
    assert all(p.text_of(c.doc)[c.start:c.end] == c.quote for c in a.citations)
    other = pipeline(config, "Russia [1]").ask("Which countries border Ukraine?")
    assert "Germany" not in other.text
    # a kind narrowed (session 26: "Which African countries are mentioned?" was answered with the article's six)
    other = pipeline(config, "Kenya [1], Uganda [1]").ask("Which African countries are mentioned?")
    assert other.abstained, other.text


def test_a_reply_that_repeats_itself_or_is_cut_off_in_a_marker_shows_each_claim_once(toy_config):
    from dataclasses import replace

    config = replace(toy_config, whole_chars=100_000)
    same = ("Moscow wants Nato forces withdrawn from central and eastern European nations that joined the US-led bloc "
            "after the Cold War ended")
    a = pipeline(config, f"Russia's position is that {same[7:]}. It {same[7:]}. [1]").ask("Summarise Russia's position.")
    assert a.text.count("withdrawn") == 1, a.text
    a = pipeline(config, "Brussels [3], Geneva [20], Brussels [3], Brussels [").ask(
        "Which cities are mentioned in the article?")
    assert a.text.count("Brussels") == 1 and "[ " not in a.text and "Geneva" in a.text, a.text


def test_who_answered_by_a_role_for_a_name_is_shown_as_the_sentence_that_names_them(toy_config):
    # session 26, a reader's question: true, quoted, and no answer to "who"
    from dataclasses import replace

    config = replace(toy_config, whole_chars=100_000)
    a = pipeline(config, "The European Union foreign affairs chief spoke for the European Union [1].").ask(
        "Who spoke for the European Union?")
    assert a.text.startswith("Josep Borrell, European Union foreign affairs chief, said"), a.text
    [c] = a.citations
    assert a.text.startswith(pipeline(config).text_of(c.doc)[c.start:c.end].rstrip(".\"”")[:60])
    # a reply that names the one asked for stays as written
    a = pipeline(config, "Josep Borrell spoke for the European Union [1].").ask("Who spoke for the European Union?")
    assert a.text.startswith("Josep Borrell spoke for the European Union"), a.text


def test_a_request_to_sum_up_the_article_that_the_reply_does_not_answer_is_the_article_s_opening(toy_config):
    # session 27, a reader's question: the 1.5B answered "The documents don't say." to a request that always has an
    # answer; the article's own lede, quoted, is one (its headline, caption and byline skipped)
    from dataclasses import replace

    config = replace(toy_config, whole_chars=100_000)
    a = pipeline(config, prompts.ABSTAIN).ask("Briefly summarise the article in two sentences.")
    assert not a.abstained and a.text.startswith("A tense Russia-Nato summit ended on Wednesday"), a.text
    assert [c.quote.split()[:2] for c in a.citations] == [["A", "tense"], ["Alliance", "chief"]], a.citations
    text = pipeline(config).text_of(a.citations[0].doc)
    assert all(text[c.start:c.end] == c.quote for c in a.citations)
    # a summary the reply gives stays; a topic the article may not hold is no request for its opening
    said = "Further talks were needed to reconcile significant differences over Ukraine [1]."
    assert pipeline(config, said).ask("What's the gist of this article?").text.startswith("Further talks"), said
    assert pipeline(config, prompts.ABSTAIN).ask("Summarise the peace deal Russia and Ukraine signed.").abstained


def test_a_summary_of_a_topic_withheld_is_the_sentences_nearest_the_question_if_the_answer_check_reads_them_so(
        toy_config):
    # session 27: the reply to "Summarise the outcome of the talks." was withheld; the sentences nearest the
    # question, quoted whole, face the checks like any reply (the answer check, here scripted, decides)
    from dataclasses import replace

    config = replace(toy_config, whole_chars=100_000, min_support=0.5)
    made_up = "The talks ended in a signed agreement on troop withdrawals [1]."
    for support, shown in ((0.9, True), (0.2, False)):
        gen = ScriptedGenerator([made_up], support=[support])
        a = Pipeline(config, embedder=ToyEmbedder(), generator=gen).ask("Summarise the outcome of the talks.")
        assert a.abstained is not shown and len(gen.checks) == 1, (support, a.text)
        if shown:
            text = pipeline(config).text_of(a.citations[0].doc)
            assert a.citations and all(text[c.start:c.end] == c.quote for c in a.citations)
            assert "signed agreement" not in a.text and sum(len(c.quote) for c in a.citations) <= api.SUMMARY_CHARS
    # the model's own "The documents don't say." stands: no sentences are quoted for it
    gen = ScriptedGenerator([prompts.ABSTAIN])
    a = Pipeline(config, embedder=ToyEmbedder(), generator=gen).ask("Summarise the peace deal Russia signed.")
    assert a.abstained and gen.checks == []


def test_a_list_item_written_twice_or_inside_another_quoting_the_same_words_is_shown_once(toy_config):
    # session 27: "Alexander Grushko [4]. … deputy foreign minister Alexander Grushko [4]." to a list question
    from dataclasses import replace

    config = replace(toy_config, whole_chars=100_000)
    passages = pipeline(config).passages("Name the Russian officials.", 10)
    n = next(i for i, p in enumerate(passages, 1) if "Alexander Grushko" in p.chunk.text)
    m = next(i for i, p in enumerate(passages, 1) if "Dmitry Peskov" in p.chunk.text)
    reply = (f"Alexander Grushko [{n}], Dmitry Peskov [{m}], Russia's representative, deputy foreign minister "
             f"Alexander Grushko [{n}], Dmitry Peskov [{m}]")
    a = pipeline(config, reply).ask("Name the Russian officials in the article.")
    assert a.text.count("Grushko") == 1 and a.text.count("Peskov") == 1, a.text
    # and its Sources hold no quote of the item that went ("Russia's representative", passage n's too)
    assert [c.quote for c in a.citations if c.n == n] == ["deputy foreign minister Alexander Grushko"], a.citations


def test_a_reply_going_round_is_not_read_to_its_token_cap(toy_config):
    # session 26: "Brussels [3]" 30 times, to the cap, for "Which cities are mentioned in the article?"
    from dataclasses import replace

    gen = ScriptedGenerator(["Brussels [3], Geneva [20]" + ", Brussels [3]" * 30])
    a = Pipeline(replace(toy_config, whole_chars=100_000), embedder=ToyEmbedder(), generator=gen).ask(
        "Which cities are mentioned in the article?")
    assert a.raw.count("Brussels") == kinds.LOOPS + 1, a.raw  # stopped as the next began
    assert a.text.splitlines() == ["Brussels [5].", "Geneva [20]."] or a.text.count("Brussels") == 1, a.text


def test_a_claim_that_has_one_name_do_what_its_source_has_another_do_is_not_shown(toy_config):
    # session 26: shown on a reader's comparison, the word test and the model's entailment reading passing it
    from dataclasses import replace

    swapped = ("The US and Russia had different positions at the talks, with the US bringing nothing new and Russia "
               "not being clear about whether it took diplomacy seriously. [1]")
    a = pipeline(replace(toy_config, whole_chars=100_000), swapped).ask("How did the talks go for the US and Russia?")
    assert "bringing nothing new" not in a.text, a.text
    right = "Sherman said Russia brought nothing new to Wednesday's talks [1]."
    a = pipeline(replace(toy_config, whole_chars=100_000), right).ask("What did Sherman say about Russia?")
    assert a.text.startswith("Sherman said Russia brought nothing new"), a.text


@pytest.mark.parametrize("q, p_yes, shown", [
    ("How did the talks in Geneva end?", 0.48, True),  # the sentence states the whole question, and more
    ("How did the talks in Geneva end?", 0.35, False),  # below config.stated_support
    ("What did the talks in Geneva not bring?", 0.48, False),  # a negated question
    ("Why did the talks in Geneva end?", 0.48, False),  # a reason, which a sentence may lack
    ("How did the security talks in Geneva end?", 0.48, False),  # a word of the question its sentences lack
])
def test_a_fact_whose_sentence_states_the_whole_question_passes_the_answer_check_from_a_lower_bar(
        toy_config, q, p_yes, shown):
    from dataclasses import replace

    reply = "The talks in Geneva ended with no breakthrough [{n}]."
    on = replace(toy_config, min_support=0.55, stated_support=0.40, whole_chars=100_000, retry=0)
    n = next(i for i, x in enumerate(Pipeline(on, embedder=ToyEmbedder()).passages(q), 1)
             if "Geneva ended" in x.chunk.text)
    p = Pipeline(on, embedder=ToyEmbedder(), generator=ScriptedGenerator([reply.format(n=n)], support=[p_yes]))
    a = p.ask(q)
    assert a.support == p_yes and len(p.generator.checks) == 1 and a.abstained is not shown
    assert not shown or a.text == reply.format(n=n) and a.citations[0].quote.startswith("Those talks in Geneva ended")


def test_the_lower_bar_is_for_a_negative_answer_only(toy_config):
    # corpus dev: "What was the belief that maintaining motion required force?" (0.49) was shown as the tautology
    # "The belief … was that a force is required to maintain motion", from a sentence that negates nothing
    from dataclasses import replace

    q, reply = "When did the Russia-Nato summit end?", "A tense Russia-Nato summit ended on Wednesday [{n}]."
    on = replace(toy_config, min_support=0.55, stated_support=0.40, whole_chars=100_000, retry=0)
    n = next(i for i, x in enumerate(Pipeline(on, embedder=ToyEmbedder()).passages(q), 1)
             if "summit ended" in x.chunk.text)
    for p_yes, shown in ((0.48, False), (0.6, True)):
        p = Pipeline(on, embedder=ToyEmbedder(), generator=ScriptedGenerator([reply.format(n=n)], support=[p_yes]))
        a = p.ask(q)
        assert a.support == p_yes and a.abstained is not shown


@pytest.mark.parametrize("q, shown", [
    ("What did Smith say Washington would not allow anyone to do?", False),  # "allow anyone" is another sentence's
    ("What did Smith say Washington would push back on?", True),
])
def test_a_fact_answered_from_a_sentence_lacking_the_question_s_words_that_another_holds_is_withheld(
        toy_config, q, shown):
    from dataclasses import replace

    on = replace(toy_config, min_support=0.5, whole_chars=100_000, retry=0)
    reply = "Julianne Smith said Washington would push back on proposals from Russia [{n}]."
    n = next(i for i, x in enumerate(Pipeline(on, embedder=ToyEmbedder()).passages(q), 1)
             if "push back on proposals" in x.chunk.text)
    p = Pipeline(on, embedder=ToyEmbedder(), generator=ScriptedGenerator([reply.format(n=n)], support=[0.9]))
    *items, a = p.stream(q)
    assert (Stage("elsewhere") in items) is not shown and not a.abstained
    if shown:
        assert a.text == reply.format(n=n) and len(p.generator.checks) == 1
    else:  # withheld with no model pass; then Smith's own sentence nearest the question is quoted (api._spoken_instead)
        assert items.index(Stage("elsewhere")) < items.index(Stage("spoken")) and len(p.generator.checks) == 1
        assert a.text.startswith("“We will not allow anyone to slam Nato’s open-door policy shut,” Ms Smith said")


def _whole(toy_config):
    from dataclasses import replace

    return replace(toy_config, whole_chars=100_000, retry=0)


def _number_of(config, q: str, words: str) -> int:
    return next(i for i, x in enumerate(Pipeline(config, embedder=ToyEmbedder()).passages(q), 1) if words in x.chunk.text)


def test_a_two_part_question_answered_whole_asks_nothing_more(toy_config):
    on = _whole(toy_config)
    q = "When did the Russia-Nato summit end, and who led the American delegation?"
    n1, n2 = _number_of(on, q, "summit ended"), _number_of(on, q, "led the American delegation")
    reply = f"A tense Russia-Nato summit ended on Wednesday [{n1}]. Wendy Sherman led the American delegation [{n2}]."
    p = pipeline(on, reply)
    *items, a = p.stream(q)
    assert a.text == reply and not a.abstained and Stage("part") not in items and len(p.generator.prompts) == 1


def test_the_part_a_two_part_answer_left_out_is_asked_on_its_own(toy_config):
    on = _whole(toy_config)
    q = "What did Truss call unacceptable, and what did she condemn?"
    n1, n2 = _number_of(on, q, "was unacceptable"), _number_of(on, q, "She condemned")
    condemned = f"Truss condemned Russia's aggression and destabilising activity [{n2}]."
    beside = f"She said that a further military incursion into Ukraine would come with a severe cost [{n2}]."
    alone = f"Russia's military build-up on the border of Ukraine was unacceptable [{n1}]."
    p = pipeline(on, f"{condemned} {beside}", alone)
    *items, a = p.stream(q)
    assert Stage("part") in items and not a.abstained
    assert a.text == f"{alone} {condemned}"  # the part asked alone first, as the question asks; "beside" answers neither
    assert [c.n for c in a.citations] == [n1, n2] and "unacceptable" in a.citations[0].quote
    assert p.generator.prompts[1][-1]["content"].endswith("Question: What did Truss call unacceptable?")
    assert "part_s" in a.timings and len(a.passages) == len(p.passages(q))


def test_the_second_part_is_rewritten_to_stand_alone_and_a_withheld_part_leaves_the_answer_as_it_was(toy_config):
    on = _whole(toy_config)
    q = "Who is Dmitry Peskov, and what did he say about ultimatums?"
    n, m = _number_of(on, q, "repeated Russia's denials"), _number_of(on, q, "ultimatums")
    first = f"Dmitry Peskov is the Kremlin spokesman [{n}]."
    second = f"Peskov said there is not any place for ultimatums here [{m}]."
    p = pipeline(on, first, "What did Dmitry Peskov say about ultimatums?", second)
    a = p.ask(q)
    assert p.generator.prompts[1] == prompts.rewrite_messages("What did he say about ultimatums?",
                                                              [("Who is Dmitry Peskov?", first)])
    assert p.generator.prompts[2][-1]["content"].endswith("Question: What did Dmitry Peskov say about ultimatums?")
    assert a.text == f"{first} {second}" and [c.n for c in a.citations] == [n, m]
    withheld = pipeline(on, first, "What did Dmitry Peskov say about ultimatums?", prompts.ABSTAIN).ask(q)
    assert withheld.text == first and not withheld.abstained
    assert pipeline(on, prompts.ABSTAIN).ask(q).abstained  # withheld whole: no part asked alone


def test_a_withheld_comparison_quotes_the_sentences_that_set_both_sides_against_each_other(toy_config):
    on = _whole(toy_config)
    q = "How did the US and Russian positions differ at the talks?"
    p = pipeline(on, prompts.ABSTAIN, prompts.ABSTAIN)  # each side's reply: nothing
    *items, a = p.stream(q)
    assert Stage("both") in items and not a.abstained and len(p.generator.prompts) == 2
    assert "the opposing views were “not easy to bridge”" in a.text and "a condition rejected by the US" in a.text
    assert all(p.text_of(c.doc)[c.start:c.end] == c.quote for c in a.citations) and len(a.citations) == 2
    # no sentence names Geneva and Brussels and sets them against each other: withheld, as it was
    *items, a = pipeline(on, prompts.ABSTAIN, prompts.ABSTAIN).stream(
        "What was the difference between the talks in Geneva and the talks in Brussels?")
    assert Stage("both") not in items and a.abstained


def test_a_fact_naming_one_member_of_a_series_in_its_sentence_is_shown_as_that_sentence(toy_config):
    # session 30, dev probe ls2-02: "The US rejected Moscow's key objective" where the sentence has it rejected
    # "by the US, the alliance and potential candidate countries such as Ukraine"
    on = _whole(toy_config)
    q = "Who rejected Moscow's key objective?"
    n = _number_of(on, q, "key objective")
    a = pipeline(on, f"The US rejected Moscow's key objective [{n}].").ask(q)
    assert a.text.startswith("Moscow’s key objective is to stop any eastward expansion of Nato") and (
        "the US, the alliance and potential candidate countries such as Ukraine" in a.text), a.text
    [c] = a.citations
    assert pipeline(on).text_of(c.doc)[c.start:c.end] == c.quote and c.quote.startswith("Moscow’s key objective")
    # a reply naming them all, or an answer that is one of no series, stays as written
    said = f"The US, the alliance and potential candidate countries rejected Moscow's key objective [{n}]."
    assert pipeline(on, said).ask(q).text == said
    n = _number_of(on, q, "led the American delegation")
    said = f"Wendy Sherman led the American delegation [{n}]."
    assert pipeline(on, said).ask("Who led the American delegation?").text == said


def test_a_list_reply_withheld_is_the_sentences_nearest_the_question_if_the_answer_check_reads_them_so(toy_config):
    # session 30, dev probe ls2-04: "Which meetings took place this week?" got a reply of markers only; the sentences
    # nearest the question, each holding a word of it, face the checks like any reply (the answer check decides)
    from dataclasses import replace

    config = replace(toy_config, whole_chars=100_000, min_support=0.5)
    q = "Which officials spoke of costs or penalties for Russia?"
    for support, shown in ((0.9, True), (0.2, False)):
        gen = ScriptedGenerator(["The officials: [1], [2], [3]"], support=[support] * 4)
        a = Pipeline(config, embedder=ToyEmbedder(), generator=gen).ask(q)
        assert a.abstained is not shown and len(gen.checks) >= 1, (support, a.text)
        if shown:
            text = pipeline(config).text_of(a.citations[0].doc)
            assert all(text[c.start:c.end] == c.quote for c in a.citations)
            assert sum(len(c.quote) for c in a.citations) <= api.SUMMARY_CHARS
            assert all(cite.stems(c.quote) & cite.stems(q) for c in a.citations)  # each holds a word of the question
    # the model's own "The documents don't say." stands; and nearest sentences that hold no word of the question
    # (the toy embedder's, here) are not quoted
    for reply, q in ((prompts.ABSTAIN, "Which journalists asked questions?"),
                     ("The meetings: [1], [2], [3]", "Which meetings took place this week?")):
        gen = ScriptedGenerator([reply], support=[0.9] * 4)
        a = Pipeline(config, embedder=ToyEmbedder(), generator=gen).ask(q)
        assert a.abstained and gen.checks == [], a.text


def test_what_one_speaker_listed_withheld_is_that_speaker_s_sentence_holding_the_question_s_words(toy_config):
    # session 30, dev probe ls2-01: the reply quoted the wrong sentence of Sherman's and the answer check withheld it
    from dataclasses import replace

    config = replace(toy_config, whole_chars=100_000, min_support=0.5, retry=0)
    q = "What did Sherman list as efforts to subvert the environment for diplomacy?"
    n = _number_of(config, q, "nothing new")
    gen = ScriptedGenerator([f"Wendy Sherman said Russia brought nothing new to Wednesday's talks [{n}]."],
                            support=[0.2, 0.9])
    a = Pipeline(config, embedder=ToyEmbedder(), generator=gen).ask(q)
    assert not a.abstained and "100,000 troops live-fire exercises, propaganda, disinformation" in a.text, a.text
    [c] = a.citations
    assert pipeline(config).text_of(c.doc)[c.start:c.end] == c.quote and "other efforts to subvert" in c.quote


def test_one_speaker_s_two_statements_joined_by_and_are_each_checked_on_their_own_sentence(toy_config):
    # session 30, dev probe cmp-02: Grushko's side, "Grushko described the talks as “a heart-to-heart” and said
    # any further deterioration could lead to …", joined two sentences and was withheld whole
    on = _whole(toy_config)
    q = "Summarise the Russian view of the talks."
    reply = ("Grushko described the talks as “a heart-to-heart” and said any further deterioration in relations could "
             "lead to the “most unpredictable and most dire consequences for European security” [1].")
    # the model reads "could lead to" in its sentence as stated (P(yes) 0.6), but no one sentence as stating the
    # whole surely (cite.SURE)
    gen = ScriptedGenerator([reply], support=[0.6] * 4)
    a = Pipeline(on, embedder=ToyEmbedder(), generator=gen).ask(q)
    text = pipeline(on).text_of(a.citations[0].doc)
    assert "heart-to-heart" in a.text and "most dire consequences" in a.text and len(gen.checks) == 1, a.text
    assert len(a.citations) == 2 and all(text[c.start:c.end] == c.quote for c in a.citations)
    assert [c.quote.split()[:2] for c in a.citations] == [["deputy", "foreign"], ["Mr", "Grushko"]]


def test_a_list_item_with_another_s_condition_hitched_to_it_shows_only_its_own(toy_config):
    # session 30, dev userdev-012: "What are Moscow's demands according to the article?" was answered "Moscow demands a
    # say in the membership of Nato and the US insisting that any progress must include a withdrawal of Russian
    # troops near Ukraine [3]", the words of one sentence ("… with Moscow demanding … and the US insisting …")
    on = _whole(toy_config)
    q = "What are Moscow's demands according to the article?"
    n = _number_of(on, q, "not easy to bridge")
    a = pipeline(on, f"Moscow demands a say in the membership of Nato and the US insisting that any progress must "
                     f"include a withdrawal of Russian troops near Ukraine [{n}].").ask(q)
    # the US's condition is not shown as Moscow's demand: the claim is cut to its own half, which a fact then
    # shows as its sentence, the source's own words (`cite.one_of_many`: the US comes after an "and")
    [c] = a.citations
    assert "Moscow demands a say in the membership of Nato and the US" not in a.text, a.text
    assert a.text == f"{c.quote.rstrip('.')} [{n}].", a.text


def test_a_collection_s_rejected_reply_is_not_read_again(toy_config):
    # a set searched, not read whole: a re-read won no answer on corpus dev (0 of 19 in session 30, 0 of 20 in
    # session 26), at 2.2 s each; the reply stays withheld after one pass
    wrong = "Julianne Smith repeated Russia's denials that it intends to invade Ukraine [1]."
    p = pipeline(toy_config, wrong, "Dmitry Peskov repeated Russia's denials that it intends to invade Ukraine [1].")
    a = p.ask(PESKOV_Q)
    assert a.abstained and len(p.generator.prompts) == 1 and "reread_s" not in a.timings


def test_a_list_whose_items_the_question_s_words_dropped_but_one_is_not_shown_as_that_one(toy_config):
    # session 32, dev probe l3-02: to "Which officials took part in the Brussels talks?" every item the source backs
    # but one was dropped for a passage that does not say "Brussels"; the one left, Sannino, whom Ms Sherman met
    # "in Brussels" (not at the talks), was shown alone, cited (cite.picked_by_question)
    from dataclasses import replace

    config = replace(toy_config, whole_chars=100_000, min_support=0.5)
    reply = "Jens Stoltenberg [1]\nAlexander Grushko [3]\nWendy Sherman [9]\nStefano Sannino [10]"
    a = Pipeline(config, embedder=ToyEmbedder(), generator=ScriptedGenerator([reply] * 3)).ask(
        "Which officials took part in the Brussels talks?")
    assert "Stefano Sannino [" not in a.text, a.text  # (the sentences nearest the question may be quoted instead)
    # the same reply to a question whose words drop none of its items is shown whole
    a = Pipeline(config, embedder=ToyEmbedder(), generator=ScriptedGenerator([reply])).ask(
        "Which officials are named in the article?")
    assert [line.split(" [")[0] for line in a.text.splitlines()] == [
        "Jens Stoltenberg", "Alexander Grushko", "Wendy Sherman", "Stefano Sannino"], a.text


def read_whole(toy_config, replies, question, support=None):
    """The pipeline over the article read whole, with the answer check on (P(yes) 0.5), asked `question` of a
    model that writes `replies` and reads `support`: its stream (stages and the Answer last) and its model."""
    from dataclasses import replace

    gen = ScriptedGenerator(replies, support)
    config = replace(toy_config, whole_chars=100_000, min_support=0.5)
    return list(Pipeline(config, embedder=ToyEmbedder(), generator=gen).stream(question)), gen


def test_a_no_whose_next_sentence_denies_the_question_is_shown_with_that_sentence(toy_config):
    # session 33, dev probe yn3-01: "No, the talks did not end with a breakthrough." fails the word test (its "not"
    # is on "end", the source's "no" on "breakthrough"); the sentence after it, "Those talks in Geneva ended with
    # no breakthrough", states the question with a negating word on its words: that sentence's No, not withheld
    reply = "No, the talks did not end with a breakthrough. The talks in Geneva ended with no breakthrough."
    a = read_whole(toy_config, [reply], "Did the talks end with a breakthrough?")[0][-1]
    assert a.text.startswith("No: ") and not a.abstained, a.text
    assert [c.quote for c in a.citations] == ["Those talks in Geneva ended with no breakthrough."]


def test_a_no_whose_sentence_denies_something_else_of_the_question_s_names_is_not_shown(toy_config):
    # session 33, dev probe yn3-04: the denial reaches Russia and Peskov, not the position of strength asked about;
    # withheld by the polarity step, with no model pass, and answered instead by the sentence that denies what the
    # question asks (steps.denied)
    reply = "No, Kremlin spokesman Dmitry Peskov repeated Russia's denials on Wednesday that it intends to invade Ukraine."
    items, _ = read_whole(toy_config, [reply], "Was Russia negotiating from a position of strength, according to Peskov?")
    assert Stage("polarity") in items and Stage("denied") in items
    assert items[-1].text.startswith("No: “We are not negotiating from a position of strength"), items[-1].text
    # the same sentence to the question it answers stands
    a = read_whole(toy_config, [reply], "Did Russia say it intends to invade Ukraine?")[0][-1]
    assert a.text.startswith("No") and "denials" in a.text, a.text


@pytest.mark.parametrize("reads_it", [True, False])
def test_a_reply_that_says_no_to_what_the_source_denies_gets_the_denial_where_the_answer_check_reads_it(
        toy_config, reads_it):
    # "No, Russia said it intends to invade Ukraine" says No and contradicts itself (withheld by the word test);
    # the sentence that reports Russia's denials gives the No, if the answer check reads it as answering
    from dataclasses import replace

    p = pipeline(replace(toy_config, min_support=0.5), "No, Russia said it intends to invade Ukraine [1].")
    p.generator.support = [0.9 if reads_it else 0.1] * 4
    a = p.ask("Did Russia say it intends to invade Ukraine?")
    assert "denied_s" in a.timings
    assert (a.text == f"No: {DENIAL} [{a.citations[0].n}]." if reads_it else a.abstained), a.text


def test_a_yes_the_model_doubts_after_it_is_checked_not_taken_for_an_abstention(toy_config):
    # session 33, dev probe yn3-07: "Yes, Russia and the US met on Monday. The documents don't say." was withheld
    # whole as an abstention; the Yes faces every check instead, and one the source does not state is still withheld
    reply = "Yes, Russia and the US met on Monday. The documents don't say."
    a = read_whole(toy_config, [reply], "Did Russia and the US meet on Monday?")[0][-1]
    assert a.text.startswith("Yes, Russia and the US met on Monday [") and not a.abstained, a.text
    assert "don't say" not in a.text
    reply = "No, Hungary did not block a joint statement at the summit. The documents don't say."
    a = read_whole(toy_config, [reply] * 3, "Did Hungary block a joint statement at the summit?")[0][-1]
    assert a.abstained, a.text


def test_a_withheld_reply_that_says_no_is_answered_by_the_sentence_that_denies_the_question(toy_config):
    # session 33, dev probe yn3-06: "Yes, Jens Stoltenberg said Russia doesn't have a veto …" contradicts itself and
    # was withheld; the sentence whose "doesn't" reaches the question's "veto" gives its No, if the answer check
    # reads it as answering the question (steps.denied)
    reply = "Yes, Jens Stoltenberg said Russia doesn't have a veto on which country can join Nato. [3]"
    q = "Did Stoltenberg say Russia can veto who joins Nato?"
    items, gen = read_whole(toy_config, [reply] * 3, q)
    a = items[-1]
    assert a.text.startswith("No: Jens Stoltenberg said 'Russia doesn't have a veto'") and not a.abstained, a.text
    assert "Russia doesn't have a veto" in a.citations[0].quote
    # the answer check read that sentence last: where it reads it as no answer, the reply stays withheld
    assert "Russia doesn't have a veto" in gen.checks[-1][-1]["content"]
    assert read_whole(toy_config, [reply] * 3, q, [1.0] * (len(gen.checks) - 1) + [0.2])[0][-1].abstained


def test_a_fact_the_answer_check_withheld_is_read_against_another_sentence_holding_it(toy_config):
    # session 34, dev probe f3-01: "Jens Stoltenberg is the head of Nato", quoted from his "Russia doesn't have a
    # veto" (P(yes) 0.49), is right; "Alliance chief Jens Stoltenberg said …" says it (0.65). The reply is read
    # against the other sentences holding its own words, nearest the question first, and shown with the one the
    # answer check reads as answering, at config.recite_support (0.60)
    reply, question = "Jens Stoltenberg is the head of Nato.", "Who is the head of Nato?"
    items, gen = read_whole(toy_config, [reply], question, [0.49, 0.65])
    a = items[-1]
    first, second = (m[-1]["content"].split("Question:")[0] for m in gen.checks[:2])  # what each answer check read
    assert Stage("recite") in items and not a.abstained and a.text.startswith(reply[:-1] + " ["), a.text
    assert a.citations[0].quote in second and a.citations[0].quote not in first and a.support == 0.65
    # below the bar on both other sentences: withheld
    items, gen = read_whole(toy_config, [reply], question, [0.49, 0.58, 0.55])
    assert items[-1].abstained and Stage("recite") in items and 2 <= len(gen.checks) <= 3
    # a reply with no word the question lacks has no other sentence to be read against
    items, gen = read_whole(toy_config, ["Nato has a head."], question, [0.49])
    assert items[-1].abstained and Stage("recite") not in items


def test_a_claim_stating_as_fact_what_a_named_speaker_says_is_shown_with_the_speaker(toy_config):
    # session 33's chat check: "Did Russia bring anything new to the talks?" → "No, Russia brought nothing new to the
    # talks [9]", right and cited, stated as fact where the source has Wendy Sherman say it
    a = read_whole(toy_config, ["No, Russia brought nothing new to the talks."], "Did Russia bring anything new to the talks?")[0][-1]
    assert a.text.startswith("No: Wendy Sherman, the US deputy secretary of state") and not a.abstained, a.text
    assert "said Russia brought nothing new" in a.text and a.text == "No: " + cite._marked(a.citations[0].quote, [a.citations[0].n])
    # a question that names the speaker sets who says it: the claim is left as the model wrote it
    a = read_whole(toy_config, ["Russia brought nothing new to the talks."], "What did Sherman say Russia brought to the talks?")[0][-1]
    assert a.text.startswith("Russia brought nothing new to the talks ["), a.text
