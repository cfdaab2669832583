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
