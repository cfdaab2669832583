from qa import check
from qa.types import Citation

def test_check_context_is_the_whole_sentences_holding_the_quotes_each_once(tmp_path):
    doc = tmp_path / "d.txt"
    text = "First one here. The Normans, a people, fought in Italy. Last one."
    doc.write_text(text)
    s = text.index("The Normans")
    cites = (Citation(1, "c", str(doc), s, s + 11, "The Normans"),
             Citation(2, "c", str(doc), text.index("fought"), text.index(" in Italy"), "fought"),
             Citation(3, "c", str(doc), text.index("Last"), len(text), "Last one."))
    read = lambda d: text
    assert check.context(cites, read) == "The Normans, a people, fought in Italy. Last one."


def test_a_sentence_opening_with_a_pronoun_brings_the_one_before(tmp_path):
    text = "Liz Truss spoke first. She condemned the build-up. It was late. Nato met."
    s = text.index("She")
    cites = (Citation(1, "c", "d", s, s + 9, "She conde"),
             Citation(2, "c", "d", text.index("It was"), text.index(" Nato"), "It was late."))
    assert check.context(cites, lambda d: text) == (
        "Liz Truss spoke first. She condemned the build-up. It was late.")


def _cite(text: str, quote: str) -> Citation:
    s = text.index(quote)
    return Citation(1, "c", "d", s, s + len(quote), quote)


def test_the_check_reads_the_sentence_after_a_quote_where_it_carries_the_quote_on():
    """ "What year did the storm hit Richard's fleet?" answered from "In April 1191 …": the storm is in the
    sentence after (corpus dev: P(yes) 0.43 without it, 0.68 with it)."""
    text = ("In April 1191 Richard left Messina with a large fleet. But a storm dispersed the fleet. Richard "
            "took Limassol.\nThese are other matters.")
    cite = _cite(text, "April 1191")
    assert check.context((cite,), lambda d: text) == "In April 1191 Richard left Messina with a large fleet."
    assert check.context((cite,), lambda d: text, ahead=True) == (
        "In April 1191 Richard left Messina with a large fleet. But a storm dispersed the fleet.")
    # a sentence that does not open by carrying the quote on, or one in the next paragraph, is not read
    took = _cite(text, "took Limassol")
    assert check.context((_cite(text, "a storm"),), lambda d: text, ahead=True) == (
        "But a storm dispersed the fleet.")
    assert check.context((took,), lambda d: text, ahead=True) == "Richard took Limassol."


def test_support_asks_of_the_sentences_with_the_one_that_carries_them_on():
    text = "Camp backed new rules for the 1906 season. These included legalizing the forward pass. Yale lost."
    asked = []

    class Judge:
        def yes_probability(self, messages):
            asked.append(messages[-1]["content"])
            return 0.8

    assert check.support(Judge(), "When was the forward pass legalised?", (_cite(text, "1906"),),
                         lambda d: text) == 0.8
    assert "These included legalizing the forward pass." in asked[0] and "Yale" not in asked[0]
