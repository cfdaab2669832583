"""Question kinds: the shape of answer a question asks for, and what follows from it.

A kind is recognised by the question's words (rules, no model pass: `kind_of` costs
microseconds) and carries, as data, the instruction sent with the question
(prompts.KIND_INSTRUCTIONS), how long the reply may be, how many passages a set not
read whole gives the model, and whether the reply's yes/no is checked against the
quoted sentences (api.Pipeline).

    >>> [kind_of(q).name for q in ("Who led the US delegation?", "Did Russia deny it?",
    ...  "Summarise the talks.", "List the officials quoted.", "Why did the talks fail?",
    ...  "Compare what Truss and Sherman said.", "Who is Peskov, and what did he repeat?",
    ...  "How many troops were there?", "Which countries are mentioned?")]
    ['fact', 'yesno', 'summary', 'list', 'why', 'compare', 'twopart', 'fact', 'list']
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from . import prompts


@dataclass(frozen=True)
class Kind:
    name: str
    max_tokens: int       # reply length cap, tokens (0 = config.max_tokens)
    top_k: int            # passages a set not read whole gives the model (0 = config.top_k)
    polarity: bool        # the reply opens with yes/no, checked against the quoted sentences
    one_source: bool = True  # a claim cited to several sentences must be stated by one (a list's items need not)
    items: bool = False      # the reply's items are verified one by one (itemize)
    partial: bool = False    # a reply of several claims keeps those the entailment step lets stand

    @property
    def instruction(self) -> str:
        return prompts.KIND_INSTRUCTIONS[self.name]

    @property
    def one_answer(self) -> bool:
        """A fact or a reason: one answer, not a yes/no and not several claims (a summary, list, comparison or
        two-part reply), which a second chance (api) and the shortest-answer reading (steps.agree) are for."""
        return not self.partial and not self.polarity


KINDS = {k.name: k for k in (
    Kind("fact", 0, 0, False),
    Kind("yesno", 0, 0, True),
    Kind("list", 160, 10, False, one_source=False, items=True, partial=True),
    Kind("summary", 160, 10, False, partial=True),
    Kind("why", 128, 0, False),
    Kind("compare", 160, 10, False, partial=True),
    Kind("twopart", 128, 10, False, partial=True),
)}

_AUX = r"(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|shall|may|might|must)"
# (kind, pattern): the first that matches names the kind; none -> fact. Tuned on tests/data/kinds_dev.jsonl
# (questions of every kind as readers write them); kinds_test.jsonl, the other half, only measures them.
# A list by its plural noun ("What financial penalties on Russia were discussed?", "What are Moscow's demands?")
# was tried in session 25 and dropped: the list path answered neither, and of the 4 corpus dev questions it took
# ("What kinds of growth did Kublai encourage?", "What are the Siouan-speaking tribes?") the 3 answerable went wrong.
RULES = (
    ("summary", re.compile(r"\b(?:summar(?:y|i[sz]e)|sum up|overview|in brief|briefly|in short|gist|in a nutshell"
                           r"|tl;?dr|recap|(?:main|key) (?:point|takeaway)s?|takeaways|highlights|in a few sentences"
                           r"|what (?:is|was) (?:the|this) (?:article|text|document|story) about)\b"
                           r"|^\s*(?:describe|tell me about)\b(?! how\b)|^\s*what happened (?:at|in|during) the\b",
                           re.I)),
    ("compare", re.compile(r"\b(?:compar(?:e[ds]?|ing|ison)|contrast(?:s|ed|ing)?|differ(?:s|ed|ing|ences?)?"
                           r"|different from|similar(?:it(?:y|ies) between| to)|alike|distinguish(?:es|ed)?"
                           r"|versus|vs\.?|the same)\b|\bmore \w+(?: \w+)?,? \w+ or \w+"
                           r"|^\s*which (?:is|was) \w+er\b.*\bor\b|^\s*how (?:is|are|was|were)\b.*\bsimilar\b", re.I)),
    ("twopart", re.compile(r"[,;]? and (?:\w+ )?(?:what|who|whom|when|where|which|why|how)\b", re.I)),
    ("yesno", re.compile(rf"^\s*{_AUX}\b", re.I)),
    ("list", re.compile(r"^\s*(?:list|name|enumerate)\b|\bthe names of\b|^\s*who (?:were|are) (?:the|all)\b"
                        r"|^\s*(?:which|what) (?:\w+ )?\w+s "
                        r"(?:are|were|did|does|do|have|had|could|would|might|may|will)\b"
                        r"|^\s*(?:which|what) (?:\w+ )?"
                        r"(?:countries|cities|people|officials|areas|measures|meetings|words)\b",
                        re.I)),
    ("why", re.compile(r"^\s*(?:why|how)\b(?! (?:many|much|long|old|far|often)\b)"
                       r"|^\s*explain\b|^\s*for what reason\b"
                       r"|^\s*what (?:is|was|were|are) the (?:reasons?|purpose)\b", re.I)),
)


def itemize(reply: str) -> str:
    r"""A list reply, one item a line, for the citation check to verify each item on its own: a sentence
    naming eleven officials shares too few words with any one source sentence to pass whole.

    >>> itemize("Jens Stoltenberg [1], Alexander Grushko [3] and Wendy Sherman [9].")
    'Jens Stoltenberg [1]\nAlexander Grushko [3]\nWendy Sherman [9].'
    >>> itemize("Risk reduction [1] Improved communication [2] Arms control [2]")
    'Risk reduction [1]\nImproved communication [2]\nArms control [2]'

    A marker inside one sentence, before the clause that goes on with it, is not an item's end: "Wendy Sherman,
    US deputy secretary of state [10], repeated US vows to exact a severe ongoing price …" was shown as the items
    "US deputy secretary of state [9]." and "repeated US vows …", its subject dropped by the item check.

    >>> itemize("Wendy Sherman, US deputy secretary of state [10], repeated US vows to exact a severe price [10].")
    'Wendy Sherman, US deputy secretary of state [10], repeated US vows to exact a severe price [10].'
    >>> itemize("risk reduction [13], improved communication and arms control [13].")
    'risk reduction [13]\nimproved communication and arms control [13].'
    """
    lines = re.sub(r"(\[\d+(?:\s*,\s*\d+)*\])(?:\s*(?:[,;]\s*(?:and\s+)?(?!\s*" + _CLAUSE + r")|and\s+)"
                   r"|[ \t]+(?=[A-Z]))", "\\1\n", reply)
    return "\n".join(_split_commas(line) for line in lines.split("\n"))


_SEGMENT = re.compile(r"\n|(?<=\])\s*[,;]?\s+|(?<=[.!?])\s+")
LOOPS = 3  # times one item or sentence is written before a reply is read as going round


def looping(reply: str) -> bool:
    """The reply, as it is being written, has written one item or sentence (its citation markers aside) `LOOPS`
    times: greedy decoding going round. To "Which cities are mentioned in the article?" the 1.5B wrote "Brussels [3],
    Geneva [20]", then "Brussels [3]" until its token cap, 30 times, which cost seconds and said nothing more.

    >>> looping("Brussels [3], Geneva [20], Brussels [3], Bru")
    False
    >>> looping("Brussels [3], Geneva [20], Brussels [3], Brussels [12], Brussels [3],")
    True
    >>> looping("Russia said no [1]. Nato said no [2]. Russia said no [3]. ")
    False

    Or has written a run of MARKERS citation markers and nothing else: to "Which officials spoke of costs or
    penalties for Russia?" the 1.5B wrote "… in Ukraine. [10] [10] [10]" until its token cap, and to "Which meetings
    took place this week?" "The meetings took place this week: [1], [2], [3], …, [23]".

    >>> looping("in Ukraine. [10] [10] [10] [10] [10] [10] [1"), looping("Sherman said so [9] [10] [12].")
    (True, False)
    >>> looping("The meetings took place this week: [1], [2], [3], [4], [5], [6")
    True
    """
    if _MARKER_RUN.search(reply):
        return True
    done = [re.sub(r"[\W_]+", " ", prompts.MARKER.sub("", x)).strip().lower() for x in _SEGMENT.split(reply)[:-1]]
    return any(n >= LOOPS for x, n in Counter(x for x in done if x).items())


MARKERS = 5
_MARKER_RUN = re.compile(rf"(?:[\s,;]*\[\d+(?:\s*,\s*\d+)*\]){{{MARKERS}}}")


_CONTRAST = re.compile(r",?\s+(?:while|whereas)\s+(?=\w)")
_QUOTE_MARKS = re.compile(r"[“”\"]")


def contrasted(reply: str) -> str:
    """A comparison's reply with each "A …, while B …" written as two sentences, for the citation check to verify
    each side against its own sentence: "Nato's view is that each country has the right to choose its own path,
    while Moscow wants Nato forces withdrawn …" takes its halves from two sentences of the article, and read
    whole against either it was withheld. Not inside a quotation.

    >>> contrasted("Nato says each nation may choose [3], while Moscow wants a say [5].")
    'Nato says each nation may choose [3]. Moscow wants a say [5].'
    >>> contrasted('She said “talks go on while troops mass” [2].')
    'She said “talks go on while troops mass” [2].'
    """
    out, pos = [], 0
    for m in _CONTRAST.finditer(reply):
        if len(_QUOTE_MARKS.findall(reply, 0, m.start())) % 2:
            continue  # inside a quotation
        head = reply[pos:m.start()]
        out.append(head + ("" if head.rstrip().endswith((".", "!", "?")) else "."))
        out.append(" " + reply[m.end()].upper())
        pos = m.end() + 1
    return "".join(out) + reply[pos:]


_SAYING = r"(?:said|says|described|describes|warned|warns|added|insisted|claimed|repeated|reiterated|condemned|" \
          r"called|urged|stressed|noted|argued|accused)"
# "X said A and said B": a subject of up to 6 words (no quotation, no comma) before the first saying verb; the
# second saying verb after " and " outside any quotation
_CONJOINED = re.compile(rf"(?P<subj>[A-Z][^,.;:“”\"\n\[]*?)\s+(?P<first>{_SAYING}\b.+?)\s*,?\s+and\s+(?:also\s+)?"
                        rf"(?P<second>{_SAYING}\b.+)", re.S)


def conjoined(reply: str) -> str:
    """A reply with each sentence "X said A and said B" (any two verbs of saying) written as "X said A. X said B",
    for the citation check to verify each statement against its own sentence: "Grushko described the talks as
    “a heart-to-heart” and said any further deterioration could lead to …" takes its halves from two sentences
    of the article, and a comparison's side is checked as one claim a sentence. Not where the second verb is
    inside a quotation, nor after a subject of more than 6 words.

    >>> conjoined("Grushko described the talks as “a heart-to-heart” and said any deterioration was dire [2].")
    'Grushko described the talks as “a heart-to-heart”. Grushko said any deterioration was dire [2].'
    >>> conjoined("Truss said the build-up was unacceptable [1], and warned of sanctions [2]. Nato met.")
    'Truss said the build-up was unacceptable [1]. Truss warned of sanctions [2]. Nato met.'
    >>> conjoined('She said “we talked and said nothing” [1].')
    'She said “we talked and said nothing” [1].'
    >>> conjoined("Russia and the US said talks went on [1].")
    'Russia and the US said talks went on [1].'
    """
    def split(sentence: str) -> str:
        m = _CONJOINED.fullmatch(sentence)
        if not m or len(m["subj"].split()) > 6 or len(_QUOTE_MARKS.findall(m["first"])) % 2:
            return sentence
        first = m["first"].rstrip(" ,")
        return (m["subj"] + " " + first + ("" if first.endswith((".", "!", "?")) else ".") + " " + m["subj"] + " "
                + m["second"])
    return _by_sentence(reply, split)


def _by_sentence(reply: str, fix) -> str:
    """The reply with each of its sentences put through `fix`, the space between them kept."""
    from .chunk import sentences

    out, pos = [], 0
    for a, b in sentences(reply):
        out.append(reply[pos:a] + fix(reply[a:b]))
        pos = b
    return "".join(out) + reply[pos:]


# ", and the US insisting …" after a finite clause: the source's "with Moscow demanding …, and the US insisting …"
# rewritten with only its first half made a sentence
_DANGLING_PARTICIPLE = re.compile(r",?\s+and\s+(?:the\s+)?(?:[A-Z][\w’'-]*\s+){1,3}"
                                  r"(?!(?:during|including|following|regarding|concerning|according|notwithstanding)\b)"
                                  r"(?:[a-z]+ing)\b[^.!?\n]*")
_WITH_PARTICIPLE = re.compile(r"\bwith\s+(?:the\s+)?(?:[A-Z][\w’'-]*\s+){1,3}[a-z]+ing\b")


def unhitched(reply: str) -> str:
    """A reply with each sentence's dangling ", and NAME -ing …" left out (its citation markers kept): "Moscow
    demands a say in the membership of Nato and the US insisting that any progress must include a withdrawal of
    Russian troops [3]" gives the US's condition as one of Moscow's demands, in words the citation check finds
    in one sentence of the source ("… with Moscow demanding a say … and the US insisting …"). Not where the
    sentence itself has "with NAME -ing", whose second half this is.

    >>> unhitched("Moscow demands a say in Nato and the US insisting on a withdrawal [3]. Nato met [4].")
    'Moscow demands a say in Nato [3]. Nato met [4].'
    >>> unhitched("Sherman met Russia and the US during the talks [2].")
    'Sherman met Russia and the US during the talks [2].'
    >>> unhitched("He said the gap was wide, with Moscow demanding a say and the US insisting on a withdrawal [3].")
    'He said the gap was wide, with Moscow demanding a say and the US insisting on a withdrawal [3].'
    """
    def cut(sentence: str) -> str:
        return sentence if _WITH_PARTICIPLE.search(sentence) else _DANGLING_PARTICIPLE.sub(
            lambda m: "".join(f" {x.group().strip()}" for x in prompts.MARKER.finditer(m.group())), sentence)
    return _by_sentence(reply, cut)


# a line that is a comma list of short names under one citation: "Russia, Ukraine, Nato [3]."
_COMMA_LIST = re.compile(r"^(?P<names>[^\[\]\n:]+?)\s*(?P<cite>(?:\[\d+(?:\s*,\s*\d+)*\]\s*)+)(?P<end>[.!;]?)\s*$")
_LIST_WORDS = 5  # words an item of such a list may have: more, and a segment is a clause, not a name
# a lower-case run of more than _LIST_WORDS words to the next marker or sentence end: the clause a sentence
# goes on with after an aside ("…, US deputy secretary of state [10], repeated US vows to …"), not a list's item
_CLAUSE = r"[a-z][^\[\n.!?;,]*?(?:\s+[^\s\[\n.!?;,]+){%d,}" % _LIST_WORDS
_DATE = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}\b")


def _split_commas(line: str) -> str:
    r"""A line listing several short names before one citation, one name a line, each with that citation:
    read whole, "Russia, Ukraine, Nato [3]" passed the item reading as one item though Nato is not a country.
    A sentence whose comma parts are not all short ("Talks ended, and Nato said more talks were needed [3]")
    is left whole.

    >>> print(_split_commas("Russia, Ukraine, Nato [3]."))
    Russia [3]
    Ukraine [3]
    Nato [3].
    >>> print(_split_commas("Poland, the Baltic states and Romania [2] [4]"))
    Poland [2] [4]
    the Baltic states [2] [4]
    Romania [2] [4]
    >>> _split_commas("The talks ended, and Nato said more talks were needed [3].")
    'The talks ended, and Nato said more talks were needed [3].'
    >>> _split_commas("Yes, Russia denied it [2].")
    'Yes, Russia denied it [2].'
    >>> print(_split_commas("January 12, 2022, 2002 and 2014 [3]."))
    January 12, 2022 [3]
    2002 [3]
    2014 [3].
    """
    m = _COMMA_LIST.match(line)
    if not m or "," not in m["names"]:
        return line
    held = _DATE.sub(lambda d: d.group().replace(",", "\0"), m["names"])  # "January 12, 2022" is one name
    *names, last = re.split(r"\s*,\s*(?:and\s+|or\s+)?", held)
    names = [x.strip().replace("\0", ",") for x in (*names, *re.split(r"\s+(?:and|or)\s+(?!.*\s(?:and|or)\s)", last))
             if x.strip()]
    if len(names) < 2 or any(len(x.split()) > _LIST_WORDS or x.lower() in {"yes", "no"} for x in names):
        return line
    cite = m["cite"].strip()
    return "\n".join(f"{x} {cite}" for x in names) + m["end"]


# plural nouns for kinds of thing a small model tells apart without the text ("Is Nato a country?" 0.11, "Is
# Russia a country?" 0.97; the article's 8 people 0.93-0.98 as persons, its organisations 0.04-0.43); for
# "officials" or "sanctions" its reading alone tells nothing apart (0.41-0.79)
_TYPED = re.compile(r"^\s*(?:which|what|list|name)\s+(?:all\s+)?(?:the\s+)?(?:(?P<which>[\w-]+)\s+)?"
                    r"(countries|nations|cities|towns|capitals|organi[sz]ations|companies|people|persons)\b", re.I)
# words before the noun that do not narrow the kind ("which two countries", "what other cities")
_UNQUALIFIED = {"other", "different", "main", "key", "specific", "individual", "named", "mentioned", "various",
                "several", "many", "some", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}


def item_type(question: str) -> str:
    """The kind of thing a list question asks for, singular, where it is one the model knows alone, else "";
    with the word that narrows it, if any: a country of the article is not an African one.

    >>> item_type("Which countries does the article mention?"), item_type("List the European cities named.")
    ('country', 'European city')
    >>> item_type("Which African countries are mentioned?"), item_type("Which two countries met on Monday?")
    ('African country', 'country')
    >>> item_type("Name the organisations at the talks."), item_type("List the officials quoted.")
    ('organisation', '')
    >>> item_type("List the people named in the article.")
    'person'
    """
    m = _TYPED.match(question)
    if not m:
        return ""
    noun = m[2].lower()
    noun = "person" if noun == "people" else noun[:-3] + "y" if noun.endswith("ies") else noun[:-1]
    which = m["which"] or ""
    return f"{which} {noun}" if which and which.lower() not in _UNQUALIFIED else noun


# A list question that asks only for what the text mentions: "Which countries are mentioned in the article?"
_MENTIONED = re.compile(r"\b(?:mention(?:s|ed)?|named|appear|referred\s+to)(?:\s+(?:in|by)\s+(?:the|this)\s+"
                        r"(?:article|text|documents?|passages?|story|report))?\s*[?.!]*\s*$", re.I)


def asks_mentioned(question: str) -> bool:
    """The question asks for the things the text mentions, with no other relation they must stand in.

    >>> asks_mentioned("Which countries are mentioned in the article?"), asks_mentioned("List the cities named.")
    (True, True)
    >>> asks_mentioned("Which countries are named as threats?"), asks_mentioned("Which countries border Ukraine?")
    (False, False)
    """
    return bool(_MENTIONED.search(question))


def mentioned_type(question: str) -> str:
    """The kind of thing (`item_type`) a list question asks for where it asks only which of them the text mentions
    (`asks_mentioned`), else "".

    >>> mentioned_type("Which countries are mentioned in the article?"), mentioned_type("Which border Ukraine?")
    ('country', '')
    """
    return item_type(question) if asks_mentioned(question) else ""


# the words of a request to sum up a whole document, and nothing it could be about
_WHOLE_DOC = re.compile(r"\b(?:the|this|that) (?:article|text|document|story|piece|report|page)\b", re.I)
_WHOLE_WORDS = set("""what what's whats is was it the this that a an of me us please can could would you give
provide write tell short shorter brief briefly in quick quickly summary summarise summarize sum up overview gist
about recap tl dr tldr main key points takeaways highlights few one two three sentence sentences words line lines
article text document story piece report page say says said""".split())


def whole_summary(question: str) -> bool:
    """A request to sum up the document itself, with no topic of its own: one the documents always answer.

    >>> whole_summary("Briefly summarise the article in two sentences."), whole_summary("What's the gist of this article?")
    (True, True)
    >>> whole_summary("Summarise what the article says about sanctions."), whole_summary("Summarise the talks.")
    (False, False)
    """
    words = re.findall(r"[a-z']+", question.lower().replace("’", "'"))
    return bool(_WHOLE_DOC.search(question)) and all(w in _WHOLE_WORDS for w in words)


def polarity_of(reply: str) -> str:
    """"yes" or "no" where a reply opens with it, else "".

    >>> polarity_of("No, Russia denied it [2]."), polarity_of("Yes."), polarity_of("Nato said no.")
    ('no', 'yes', '')
    """
    m = re.match(r"\W*(yes|no)\b", reply, re.I)
    return m.group(1).lower() if m else ""


def kind_of(question: str) -> Kind:
    for name, pattern in RULES:
        if pattern.search(question):
            return KINDS[name]
    return KINDS["fact"]


_WH = r"(?:what|who|whom|whose|when|where|which|why|how)"
_HALF = re.compile(rf"\s*[,;]?\s+and\s+(?=(?:\w+\s+)?{_WH}\b)", re.I)


def halves(question: str) -> tuple[str, str] | None:
    """A two-part question as its two questions (api.Pipeline._halves asks a part the answer left out on its
    own), or None where it does not split in two at ", and <wh-word>".

    >>> halves("Who is Peskov, and what did he deny?")
    ('Who is Peskov?', 'What did he deny?')
    >>> halves("Which organisation meets next, and on what day?")
    ('Which organisation meets next?', 'On what day?')
    >>> halves("Who founded the university and when?")
    ('Who founded the university?', 'When?')
    >>> halves("Compare Sherman and Truss.") is None, halves("What and when, and?") is None
    (True, True)
    """
    parts = _HALF.split(question.strip(), maxsplit=1)
    if len(parts) != 2:
        return None
    first, second = (x.strip(" ,;?") for x in parts)
    if len(first.split()) < 2 or not second:
        return None
    return f"{first[:1].upper()}{first[1:]}?", f"{second[:1].upper()}{second[1:]}?"


def elliptical(question: str) -> bool:
    """A question that needs the one before it to be read: one of fewer than four words, or one that does not
    open with its wh-word ("On what day?", "When?"); one with a pronoun is a follow-up already (api._FOLLOW_UP).

    >>> elliptical("On what day?"), elliptical("When?"), elliptical("Which pipeline is involved?")
    (True, True, False)
    """
    return len(question.split()) < 4 or not re.match(rf"\s*{_WH}\b", question, re.I)
