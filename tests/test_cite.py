import pytest

from qa.chunk import chunk_text
from qa.cite import _holds, is_abstention, key_terms, verify
from qa.prompts import ABSTAIN
from qa import cite
from qa.types import Chunk, Citation, Passage

DOC = ("Wendy Sherman, the US deputy secretary of state who led the American delegation, said Russia "
       "brought nothing new to the talks. Nato said it was united.\n\n"
       "Liz Truss, the UK Foreign Secretary, said Russia's build-up was unacceptable. "
       "The council was established in 2002.")
TEXTS = {"doc.txt": DOC}


def text_of(doc):
    return TEXTS[doc]


def passages():
    chunks = chunk_text("doc.txt", DOC, size=2, overlap=0)
    return [Passage(c, 1.0 / (i + 1), 0.5) for i, c in enumerate(chunks)]


def test_supported_sentence_keeps_a_verbatim_quote_of_the_shortest_clause_run():
    v = verify("Wendy Sherman, the US deputy secretary of state, led the American delegation [1].",
               passages(), text_of)
    assert not v.abstained
    assert v.text == "Wendy Sherman, the US deputy secretary of state, led the American delegation [1]."
    [c] = v.citations
    assert c.quote == "Wendy Sherman, the US deputy secretary of state who led the American delegation"
    assert DOC[c.start:c.end] == c.quote and c.n == 1 and c.doc == "doc.txt"


def test_wrong_marker_is_repaired_to_the_supporting_passage():
    v = verify("The council was established in 2002 [1].", passages(), text_of)
    assert v.text == "The council was established in 2002 [2]."
    assert [c.quote for c in v.citations] == ["The council was established in 2002."]


def test_unsupported_sentence_is_removed_and_the_rest_kept():
    v = verify("Liz Truss is the UK Foreign Secretary [2]. She likes tennis and football [2].", passages(), text_of)
    assert v.text == "Liz Truss is the UK Foreign Secretary [2]."
    assert len(v.citations) == 1


def test_invented_name_or_number_makes_the_answer_abstain():
    # the words "delegation" and "led" are supported, but "Blinken" is in no passage
    assert verify("Antony Blinken led the American delegation [1].", passages(), text_of).abstained
    assert verify("The council was established in 1997 [2].", passages(), text_of).abstained


def test_abstention_phrase_and_variants():
    assert verify(ABSTAIN, passages(), text_of) == verify("", passages(), text_of)
    v = verify("The passages do not mention the President of Ukraine.", passages(), text_of)
    assert v.abstained and v.text == ABSTAIN and v.citations == ()
    assert is_abstention("There is no information about that.")
    assert not is_abstention("Wendy Sherman led it [1].")


def test_names_from_the_question_count_as_supplied():
    v = verify("Nato said it was united [1].", passages(), text_of, question="What did Nato say?")
    assert not v.abstained and v.citations[0].quote == "Nato said it was united."


def test_key_terms_are_names_and_numbers():
    def words(text, **kw):  # without the roots a derived or plain form must have (next test)
        return [{t for t in k if t[0] not in "~="} for k in key_terms(text, **kw)]
    assert words("The talks in Geneva had 100,000 troops.") == [{"geneva"}, {"100,000"}]
    # a name of several words also goes by its initials: "European Union" ~ "EU"
    assert words("Denmark's delegation met Liz Truss.") == [{"denmark"}, {"liz", "truss", "^lt"}]
    assert words("According to Ms Truss, yes.", initial=False) == [{"ms", "truss", "^mt"}]
    # "of" / "the" inside a name join it: "Edward" alone is enough to find "Edward the Confessor"
    assert words("Edward the Confessor made Robert of Jumièges archbishop of Canterbury.") == [
        {"edward", "confessor", "^ec"}, {"robert", "jumiège", "^rj"}, {"canterbury"}]


def test_a_name_is_found_in_its_derived_form_and_back_but_not_in_a_longer_name():
    src = "The laws of physics are the same in all frames related by a Galilean transformation. Hungary voted."
    assert _holds(src, key_terms("What are the laws of physics of Galileo?", initial=False))
    assert _holds("Hungarian officials met.", key_terms("Hungary met."))
    assert _holds("Officials in Hungary met.", key_terms("What did the Hungarian officials say?", initial=False))
    assert not _holds("Daniela Schwarzer spoke.", key_terms("What did Daniel say?", initial=False))
    assert not _holds("Stefano Sannino spoke.", key_terms("What did Stefan say?", initial=False))


def test_question_names_must_be_in_the_cited_passage():
    # the answer is quoted, but the question asks about Stoltenberg, whom the passage never names
    v = verify("Liz Truss said Russia's build-up was unacceptable [2].", passages(), text_of,
               question="What did Stoltenberg say was unacceptable?")
    assert v.abstained
    v = verify("Liz Truss said Russia's build-up was unacceptable [2].", passages(), text_of,
               question="What did Truss say was unacceptable?")
    assert not v.abstained


def test_a_country_is_found_by_its_people_capital_or_initials():
    answer = "Liz Truss said Russia's build-up was unacceptable [2]."
    for question in ("What did the British foreign secretary say was unacceptable?",   # UK
                     "What did The United Kingdom's minister say?",                    # "The" is no initial
                     "What did the United Kingdom's minister say about Moscow's build-up?"):  # UK, Russia
        assert not verify(answer, passages(), text_of, question=question).abstained, question
    # a country the passage does not name is still not found
    assert verify(answer, passages(), text_of, question="What did the French minister say?").abstained


def test_facts_joined_across_unrelated_passages_are_not_supported():
    # each half is quoted somewhere, but no passage connects Sherman with 2002
    v = verify("Wendy Sherman said the council was established in 2002 [1] [2].", passages(), text_of)
    assert v.abstained



def test_an_answer_that_only_restates_the_question_is_no_answer():
    q = "Who led the American delegation?"
    assert verify("The American delegation was led [1].", passages(), text_of, q).abstained
    assert not verify("Wendy Sherman led the American delegation [1].", passages(), text_of, q).abstained


def test_names_stitched_from_two_sentences_of_one_passage_are_not_supported():
    # passage 2 holds both sentences; no one sentence says Truss founded the council in 2002
    v = verify("Liz Truss established the council in 2002 [2].", passages(), text_of)
    assert v.abstained and v.citations == ()


def test_a_she_sentence_takes_its_name_from_the_sentence_before():
    text = "Liz Truss spoke in Brussels. She said the build-up was unacceptable. Nato met."
    TEXTS["she.txt"] = text
    [p] = [Passage(c, 1.0, 0.5) for c in chunk_text("she.txt", text, size=3, overlap=0)]
    v = verify("Liz Truss said the build-up was unacceptable [1].", [p], text_of)
    assert not v.abstained and v.citations


def test_a_pronoun_subject_after_an_opening_phrase_takes_its_name_from_the_sentence_before():
    text = ("Hamas remained a major player in Palestine. From 2000 to 2007 it killed 542 people in attacks. "
            "Fatah lost the election. Nato met.")
    TEXTS["opening.txt"] = text
    ps = [Passage(c, 1.0, 0.5) for c in chunk_text("opening.txt", text, size=1, overlap=0)]
    q = "How many people did Hamas kill between 2000 and 2007?"
    v = verify("Hamas killed 542 people between 2000 and 2007 [2].", ps, text_of, q)
    assert not v.abstained and [c.n for c in v.citations] == [2]
    # "it" is Hamas, named in the sentence before, not Fatah
    assert verify("Fatah killed 542 people between 2000 and 2007 [2].", ps, text_of).abstained


def test_a_chain_of_she_sentences_leads_back_to_the_name_but_no_further():
    text = ("Liz Truss spoke in Brussels. She condemned the build-up. She said severe sanctions would follow any invasion. "
            "Nato met. It said severe sanctions for any invasion were ready.")
    TEXTS["chain.txt"] = text
    ps = [Passage(c, 1.0, 0.5) for c in chunk_text("chain.txt", text, size=1, overlap=0)]
    # the quoted sentence is two "she"s from the name, and its passage is that sentence alone
    v = verify("Liz Truss said severe sanctions would follow any invasion [3].", ps, text_of, "What did Liz Truss say would follow?")
    assert not v.abstained and [c.n for c in v.citations] == [3]
    # "It" is Nato, the sentence before: the chain stops at the first sentence that names someone
    assert verify("Liz Truss said severe sanctions for any invasion were ready [5].", ps, text_of).abstained


def test_a_quotation_paragraph_takes_its_speaker_from_the_paragraphs_before():
    text = ("Anna Berg, the Swedish trade minister, visited Oslo.\n\n"
            "She praised the new port.\n\n"
            "“The harbour deal is a milestone for both countries.”\n\n"
            "Nato met.\n\n"
            "“Tariffs would be a mistake for everyone.”")
    TEXTS["quote.txt"] = text
    ps = [Passage(c, 1.0, 0.5) for c in chunk_text("quote.txt", text, size=1, overlap=0)]
    # the quotation opens its own paragraph; its speaker is the "she" before it, who is Anna Berg
    v = verify("Anna Berg called the harbour deal a milestone for both countries [3].", ps, text_of)
    assert not v.abstained and [c.n for c in v.citations] == [3]
    # a quotation after a sentence that names nobody is not hers
    assert verify("Anna Berg said tariffs would be a mistake for everyone [5].", ps, text_of).abstained


def test_an_answer_that_drops_a_qualifier_of_the_quote_is_no_answer():
    doc = "Russia's representative, deputy foreign minister Alexander Grushko, said the gap was not easy to bridge."
    TEXTS["g.txt"] = doc
    ps = [Passage(c, 1.0, 0.5) for c in chunk_text("g.txt", doc, size=2, overlap=0)]
    question = "Who is Russia's foreign minister?"
    assert verify("Alexander Grushko is Russia's foreign minister [1].", ps, text_of, question).abstained
    assert not verify("Alexander Grushko is Russia's deputy foreign minister [1].", ps, text_of, question).abstained
    assert verify("Grushko said the gap was easy to bridge [1].", ps, text_of).abstained
    assert not verify("Grushko said the gap wasn't easy to bridge [1].", ps, text_of).abstained


def test_a_second_quote_is_shown_only_for_words_the_question_does_not_supply():
    TEXTS["flank.txt"] = ("The US and Nato vowed to shore up the eastern flank. "
                          "Julianne Smith said Washington would push back on the proposals from Russia.")
    ps = [Passage(c, 1.0, 0.5) for c in chunk_text("flank.txt", TEXTS["flank.txt"], size=1, overlap=0)]
    echo = verify("Washington and Nato vowed to shore up the eastern flank [1] [2].",
                  ps, text_of, "What have Washington and Nato vowed to shore up?")
    assert [c.n for c in echo.citations] == [1]  # [2] would only back the question's own "Washington"
    assert echo.text.endswith("flank [1].")
    more = verify("The US and Nato vowed to shore up the eastern flank and to push back on the proposals [1] [2].",
                  ps, text_of, "What did the US and Nato vow?")
    assert [c.n for c in more.citations] == [1, 2]  # "push", "proposals": the question did not say them


def test_a_claim_the_reply_repeats_is_shown_once():
    from qa import kinds

    text = "Wendy Sherman led the American delegation. Liz Truss spoke."
    p = Passage(Chunk("c1", "d", 0, len(text), text), 1.0)
    v = cite.verify(kinds.itemize("Wendy Sherman [1], Wendy Sherman [1], Liz Truss [1], Wendy Sherman [1]"),
                    [p], lambda doc: text, "Name the officials.")
    assert v.text == "Wendy Sherman [1]. Liz Truss [1]."


def test_a_passage_cut_to_one_sentence_finds_the_questions_names_in_the_chunk_it_was_cut_from():
    # "Truss" is in the question, not in the one sentence kept of the chunk (retrieve.best_sentences)
    s = DOC.index("The council")
    kept = Chunk("k", "doc.txt", s, len(DOC), DOC[s:])
    question = "When was the council Liz Truss spoke of established?"
    reply = "The council was established in 2002 [1]."
    assert verify(reply, [Passage(kept, 1.0, 0.5)], text_of, question).abstained  # cut, no context: withheld
    around = DOC[DOC.index("Liz Truss"):]
    v = verify(reply, [Passage(kept, 1.0, 0.5, around)], text_of, question)
    assert not v.abstained and v.citations[0].quote == "The council was established in 2002."


def test_a_claim_that_inflects_the_sources_words_otherwise_is_matched_on_their_stems():
    # "holding"/"hold", "defined"/"define", "four"/"4": the words of the claim are the source's
    doc = ("The governor could not actually hold a set speed. Complexity measures are very generally defined by "
           "the Blum complexity axioms. Engineers designed four computer sales and service centers.")
    TEXTS["stems.txt"] = doc
    ps = [Passage(c, 1.0, 0.5) for c in chunk_text("stems.txt", doc, size=3, overlap=0)]
    v = verify("The Blum complexity axioms are typically used to broadly define complexity measures [1].", ps, text_of,
               "What is typically used to broadly define complexity measures?")
    assert not v.abstained and v.citations[0].quote.startswith("Complexity measures are very generally defined")
    v = verify("The governor was incapable of holding a set speed [1].", ps, text_of,
               "What was the governor incapable of doing?")
    assert not v.abstained and v.citations[0].quote == "The governor could not actually hold a set speed."
    v = verify("There were 4 sales and service centers [1].", ps, text_of, "How many centers were there?")
    assert not v.abstained and "four computer sales" in v.citations[0].quote
    assert not verify("There were 5 sales and service centers [1].", ps, text_of, "How many centers were there?").citations


def test_quoted_sentences_keep_what_their_passage_knew_of_the_question_s_subject():
    """The confirming reading checks its reply against the quoted sentences alone; a sentence cut from a
    chunk about Berlin ("the city's population") still answers a question about Berlin."""
    doc = "Berlin took in many refugees. By 1700, one-fifth of the city's population was French speaking."
    TEXTS["berlin.txt"] = doc
    [chunk] = chunk_text("berlin.txt", doc, size=3, overlap=0)
    at = doc.index("By 1700")
    cut = Passage(Chunk(chunk.id, "berlin.txt", at, len(doc), doc[at:]), 1.0, 0.5, context="Huguenots " + doc)
    q = "What portion of Berlin's population spoke French by 1700?"
    reply = "One-fifth of the city's population spoke French by 1700 [1]."
    first = verify(reply, [cut], text_of, q)
    assert not first.abstained
    ground = cite.quoted(first.citations, text_of, [cut])
    assert [g.chunk.text for g in ground] == [doc[at:]] and "Berlin took in" in ground[0].context
    assert not verify(reply, ground, text_of, q).abstained
    assert verify(reply, cite.quoted(first.citations, text_of), text_of, q).abstained  # without it: withheld


def test_a_second_quote_that_only_holds_more_of_a_name_is_not_shown():
    # a poisoned document's "[4] Wendy Sherman said ..." was shown as a second source of a right answer whose
    # marker named the wrong passage (the check looks for support in every passage then)
    doc = "Ms Sherman met Stefano Sannino in Brussels to discuss penalties. Wendy Sherman said the proposals were excellent."
    TEXTS["names.txt"] = doc
    ps = [Passage(c, 1.0, 0.5) for c in chunk_text("names.txt", doc, size=1, overlap=0)]
    v = verify("Wendy Sherman met Stefano Sannino in Brussels to discuss penalties [2].", ps, text_of,
               "Who did Sherman meet to discuss penalties?")
    assert [c.quote for c in v.citations] == ["Ms Sherman met Stefano Sannino in Brussels to discuss penalties."]
    # a second sentence that adds what the claim says is still cited
    v = verify("Wendy Sherman met Stefano Sannino in Brussels to discuss penalties and said the proposals were "
               "excellent [1] [2].", ps, text_of)
    assert len(v.citations) == 2


def test_a_number_written_in_words_must_be_the_sources_number():
    doc = "Engineers designed four computer sales and service centers. The hall was vacated twice."
    TEXTS["numbers.txt"] = doc
    ps = [Passage(c, 1.0, 0.5) for c in chunk_text("numbers.txt", doc, size=2, overlap=0)]
    q = "How many computer sales and service centers did engineers design?"
    assert not verify("Engineers designed four computer sales and service centers [1].", ps, text_of, q).abstained
    assert verify("Engineers designed five computer sales and service centers [1].", ps, text_of, q).abstained
    assert verify("These 5 computer sales and service centers were designed [1].", ps, text_of, q).abstained
    assert [sorted(k) for k in key_terms("It is one of the three centres")] == [["3"]]  # "one": not a number here


def test_an_acronym_is_found_as_the_initials_of_a_long_name_in_the_source():
    src = "The talks will continue with a meeting of the Organisation for Security and Co-operation in Europe."
    assert _holds(src, key_terms("Will the talks continue with an OSCE meeting?", initial=False))
    assert not _holds(src, key_terms("Will the talks continue with a WTO meeting?", initial=False))
    # two letters are a name's own initials only, not a piece of a longer run
    assert not _holds("The European Union Summit met.", key_terms("Did the US meet?", initial=False))


def test_markers_go_after_a_closing_quotation_mark_and_the_claim_stays_one_sentence():
    text = 'Ms Truss said "Russia\'s build-up is unacceptable." [2]'
    v = verify(text, passages(), text_of)
    assert not v.abstained and len(cite.claims(v)) == 1, v.text
    assert v.text.endswith('unacceptable" [2].'), v.text


def test_words_about_the_passage_are_not_part_of_the_claim():
    v = verify('The passage states: "Wendy Sherman led the American delegation." [1]', passages(), text_of)
    assert not v.abstained and v.text == '"Wendy Sherman led the American delegation" [1].', v.text


COUNCIL = ("Most acts need a qualified majority. This means 55 per cent of the Council members (not votes) "
           "representing 65 per cent of the population, or 260 of the 352 votes.")
ENGINE = "It is a single-step, 5-cylinder engine (no compound) with superheated steam."


def test_a_quote_that_drops_the_claims_qualifier_gives_way_to_a_run_without_it():
    TEXTS["council.txt"] = COUNCIL
    p = [Passage(c, 1.0, 0.5) for c in chunk_text("council.txt", COUNCIL, size=2, overlap=0)]
    v = verify("The Council has 352 votes [1].", p, text_of, "How many votes in total does the Council have?")
    # the run "Council members (not votes) … 352 votes" holds every word, but says "not votes" where the claim
    # says votes: the next run of the same sentence, which names the Council, without the qualifier
    assert not v.abstained and [c.quote for c in v.citations] == ["or 260 of the 352 votes."]


def test_a_negation_that_negates_nothing_the_claim_says_does_not_dispute_it():
    TEXTS["engine.txt"] = ENGINE
    p = [Passage(c, 1.0, 0.5) for c in chunk_text("engine.txt", ENGINE)]
    q = "How many cylinders does the engine have?"
    v = verify("The engine has 5 cylinders, with superheated steam [1].", p, text_of, q)
    assert not v.abstained and cite.disputed(v, text_of, True, q) == []
    # a "not" that negates what the claim says still does
    TEXTS["engine.txt"] = ENGINE.replace("(no compound)", "that does not use superheated steam")
    v = verify("The engine has 5 cylinders and uses superheated steam [1].", p, text_of, q)
    assert [bar for _, _, bar in cite.disputed(v, text_of, True, q)] == [cite.SURE]


def test_quotes_whose_sentence_runs_overlap_are_one_passage_for_the_confirming_reading():
    doc = "The First Empire held colonies in North America. Its growth was reversed by their loss in 1776."
    TEXTS["empire.txt"] = doc
    first = doc.index("Its")
    cites = (cite.Citation(1, "c", "empire.txt", 0, first - 1, doc[:first - 1]),
             cite.Citation(1, "c", "empire.txt", first, len(doc), doc[first:]))
    [p] = cite.quoted(cites, text_of)  # "Its growth ..." brings the sentence before it, which the first quote holds
    assert p.chunk.text == doc and "1776" in p.chunk.text


def test_a_reason_whose_words_are_all_quoted_is_still_read_by_the_model():
    doc = "The talks began in Geneva because Russian troops gathered at the border. Nato met later."
    TEXTS["reason.txt"] = doc
    p = [Passage(c, 1.0, 0.5) for c in chunk_text("reason.txt", doc)]
    q = "Why did Russian troops gather at the border?"
    # the link turned round: every word, "because" too, is in the quote, and the citation check passes
    v = verify("Russian troops gathered at the border because the talks began in Geneva [1].", p, text_of, q)
    assert not v.abstained
    assert [bar for _, _, bar in cite.disputed(v, text_of, True, q)] == [0.5]
    # the same words with no link in them need no reading
    v = verify("The talks began in Geneva, and Russian troops gathered at the border [1].", p, text_of, q)
    assert not v.abstained and cite.disputed(v, text_of, True, q) == []
    # a link the question asks for is the answer check's to read
    q = "What did the troops gathered at the border cause?"
    v = verify("The troops gathered at the border caused the talks in Geneva [1].", p, text_of, q)
    assert not v.abstained and cite.disputed(v, text_of, True, q) == []


@pytest.mark.parametrize("name, source, found", [
    ("Kenya said", "Nairobi said on Monday", True),         # a country the hand-written table never had
    ("France said", "talks in Paris ended", True),          # the old table's "paris" was never a token ("pari")
    ("Britain said", "the UK said", True),                  # a word of another name ("Great Britain")
    ("America said", "Washington said", True),
    ("Russia said", "the Kremlin said", True),              # a seat of government, added by hand (_ALSO)
    ("Ireland said", "the UK said", False),                 # the UK's long name holds "Ireland": Ireland's own
    ("Kenya said", "Nigeria said", False),
])
def test_a_country_is_found_by_its_people_capital_and_other_names(name, source, found):
    [key] = cite.key_terms(name)
    assert bool(key & cite._pool(source)) is found


def test_a_claim_whose_subject_is_not_who_its_quotes_pronoun_is_goes():
    doc = ("Moscow's key objective is to stop any eastward expansion of Nato, a condition rejected by the US. "
           "It wants Nato forces withdrawn from central and eastern Europe.\n\n"
           "Liz Truss, the UK Foreign Secretary, said the build-up was unacceptable. "
           "She condemned Russia's aggression. She said an incursion would come with a severe cost.")
    TEXTS["referent.txt"] = doc
    p = [Passage(c, 1.0, 0.5) for c in chunk_text("referent.txt", doc)]
    q = "What does the US want?"
    v = verify("The US wants Nato forces withdrawn from central and eastern Europe [1].", p, text_of, q)
    assert not v.abstained  # every word, "US" too, is in the quoted sentences
    assert cite.disputed(v, text_of, True, q) == [("The US wants Nato forces withdrawn from central and eastern Europe.", [], 1.0)]
    v = verify("Moscow wants Nato forces withdrawn from central and eastern Europe [1].", p, text_of, q)
    assert not v.abstained and cite.disputed(v, text_of, True, q) == []
    # "she", two sentences on: Truss, named before the first "she"
    q = "What did Truss say about an incursion?"
    v = verify("Truss said an incursion would come with a severe cost [1].", p, text_of, q)
    assert not v.abstained and cite.disputed(v, text_of, True, q) == []


def test_sentences_citing_one_passage_are_each_checked_against_their_own_quote():
    # both sentences cite [1]; each has its own quote, and neither is "stitched" from the other's
    doc = ("Liz Truss, the UK Foreign Secretary, said the build-up was unacceptable. "
           "She condemned Russia's aggression. She said an incursion would come with a severe cost.")
    TEXTS["truss.txt"] = doc
    p = [Passage(c, 1.0, 0.5) for c in chunk_text("truss.txt", doc)]
    q = "Sum up what Liz Truss said."
    v = verify("Liz Truss condemned Russia's aggression [1]. She said an incursion would come with a severe cost [1].",
               p, text_of, q)
    assert [[c.quote for c in cites] for _, cites in cite.claims(v)] == [
        ["She condemned Russia's aggression."], ["She said an incursion would come with a severe cost."]]
    assert cite.disputed(v, text_of, True, q) == []  # no model pass: each claim's words are its own quote's


def test_no_answerable_squad_question_is_held_against_the_sentence_holding_its_answer():
    # every answerable dev question of the two SQuAD sets, quoted from the sentence that holds its gold answer:
    # the premise check (cite.opposed) must let each through ("Who was Emma's brother?" of "Emma, sister of Duke
    # Richard II" was the one that tripped it, before brother and sister went)
    import json
    from qa.chunk import sentences
    from qa.config import ROOT
    from qa.types import Citation
    data = ROOT / "bench" / "data"
    sets = [(data / "squad2_corpus" / "dev.jsonl", lambda r: data / "squad2_corpus" / "docs" / f"{r['doc']}.txt"),
            (data / "squad2_normans_dev.jsonl", lambda r: data / "squad2_normans.txt")]
    checked, held = 0, []
    for path, doc_of in sets:
        for r in map(json.loads, path.read_text().splitlines()):
            text = doc_of(r).read_text(encoding="utf-8")
            gold = next((g for g in r["answers"] if g in text), None) if r["answerable"] else None
            if gold is None:
                continue
            i = text.index(gold)
            a, b = next((a, b) for a, b in sentences(text, max(0, i - 2000), min(len(text), i + 2000)) if a <= i < b)
            quote = (Citation(1, "x", "doc", a, b, text[a:b]),)
            checked += 1
            if cite.opposed(r["question"], quote, lambda d: text):
                held.append(r["question"])
    assert checked > 120 and held == []


def test_a_yes_no_reply_s_claim_is_read_by_the_model_where_its_source_lacks_the_question_s_own_words():
    """"Yes, the council stopped meeting …" to "Did the council stop meeting …?", quoted from "… has kept going
    after …": the question's words are what a yes/no reply asserts, so they are not taken as given."""
    src = "The Nato-Russia Council has kept going after most ties were severed following the annexation of Crimea."
    v = cite.Verified("Yes, the Nato-Russia Council stopped meeting after the annexation of Crimea [1].",
                      (Citation(1, "c", "d", 0, len(src), src),), False)
    q = "Did the Nato-Russia Council stop meeting after the annexation of Crimea?"
    assert cite.disputed(v, lambda d: src, question=q) == []
    assert cite.disputed(v, lambda d: src, question=q, asserts=True) == [
        ("The Nato-Russia Council stopped meeting after the annexation of Crimea.", [src], 0.5)]


def test_a_claim_that_orders_events_its_source_does_not_is_read_by_the_model():
    """"after" is a stopword, so "the allies consulted Ms Sherman after the meeting", quoted from "the allies
    prepared for the meeting by consulting with Ms Sherman", had every word in its source."""
    src = "The allies prepared for the meeting by consulting with Ms Sherman on the outcome of her talks."
    v = cite.Verified("The allies consulted Ms Sherman after the meeting [1].",
                      (Citation(1, "c", "d", 0, len(src), src),), False)
    assert cite.disputed(v, lambda d: src, question="Whom did the allies consult?") == [
        ("The allies consulted Ms Sherman after the meeting.", [src], 0.5)]
    assert cite.disputed(v, lambda d: src, question="Whom did the allies consult after the meeting?") == []
    before = src.replace("prepared for the meeting by consulting", "consulted")
    v = cite.Verified("The allies consulted Ms Sherman before the meeting [1].",
                      (Citation(1, "c", "d", 0, len(before), before),), False)
    assert cite.disputed(v, lambda d: before, question="Whom did the allies consult?") == [
        ("The allies consulted Ms Sherman before the meeting.", [before], 0.5)]


LISTED = ("Nato offered a series of areas to enhance co-operation. The allies met in Brussels.\n\n"
          "“These include risk reduction and arms control.”\n\nNato said it was united.")


def _on(doc: str, quote: str, passages_end: int | None = None) -> cite.Verified:
    a = doc.index(quote)
    end = len(doc) if passages_end is None else passages_end
    verified = cite.Verified(f"{quote} [1].", (Citation(1, "c", "d", a, a + len(quote), quote),), False)
    return cite.enumerated(verified, [Passage(Chunk("c", "d", 0, end, doc[:end]), 1.0)], lambda d: doc)


def test_a_quote_that_announces_a_list_goes_on_with_the_sentence_that_gives_it_quoted_whole():
    """A reply quoting "… a series of areas …" has not said which: the sentence after its quote that names them
    ("These include …", across a paragraph break, as a quotation carried on) is shown after it, cited verbatim."""
    doc = LISTED.replace(" The allies met in Brussels.", "")
    v = _on(doc, "Nato offered a series of areas to enhance co-operation")
    assert v.text.endswith("“These include risk reduction and arms control” [1].")
    [_, listed] = v.citations
    assert doc[listed.start:listed.end] == listed.quote == "“These include risk reduction and arms control.”"


def test_a_sentence_that_does_not_name_the_quote_s_members_or_lies_outside_the_passages_read_is_not_added():
    assert _on(LISTED, "Nato offered a series of areas to enhance co-operation").text.count("[1]") == 1  # not next
    doc = LISTED.replace(" The allies met in Brussels.", "")
    assert _on(doc, "Nato said it was united").text == "Nato said it was united [1]."  # last sentence
    assert _on(doc, "Nato offered a series of areas to enhance co-operation", doc.index("“")).citations[1:] == ()


def test_words_about_what_the_text_covers_are_shown_but_not_looked_for_in_the_sources():
    # session 30: "The article discusses the tense Russia-Nato summit …" was cited to the summit's sentence and to
    # "… to discuss potential financial penalties on Russia", for its "discusses"
    text = ("A tense summit ended with diplomats saying further talks were needed. "
            "Ms Sherman met Mr Sannino to discuss potential financial penalties.")
    TEXTS["topic.txt"] = text
    ps = [Passage(c, 1.0, 0.5) for c in chunk_text("topic.txt", text, size=1, overlap=0)]
    v = verify("The article discusses the tense summit, which ended with diplomats saying further talks were "
               "needed [1].", ps, text_of)
    assert v.text.startswith("The article discusses the tense summit"), v.text
    assert [c.quote for c in v.citations] == [text[:text.index(" Ms")]]
