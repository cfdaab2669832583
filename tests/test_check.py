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
