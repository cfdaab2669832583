"""Writes qa/places.tsv, the names a country also goes by in news text (its people, its capital, its
other names and initials), from the GeoNames-derived data of the `countryinfo` package (MIT):

    pip install countryinfo==1.0.1 && python tools/make_places.py

The citation check (qa/cite.py) reads the table, not the package: qa itself does not depend on it.
Forms are single words (a multi-word name gives its initials and its own words: "Great Britain" -> "britain"),
folded as `retrieve.tokens` folds words ("Paris" -> "pari"); a form several countries share goes to the one
whose own form it is, then to the most populous.
"""
from __future__ import annotations

import json
import re
import sys
from importlib import metadata, resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from qa.retrieve import tokens  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "qa" / "places.tsv"
_ONE_WORD = re.compile(r"[A-Za-z][a-z]{3,}")  # a plain Latin-alphabet word, capitalised or not
_SMALL = {"of", "the", "and", "da", "de", "du", "la", "le", "del"}


# words of a multi-word name that do not name the country ("Republic of", "United", "South")
_GENERIC = {"republic", "kingdom", "united", "states", "state", "federal", "federation", "democratic", "islands",
            "island", "north", "south", "east", "west", "central", "northern", "southern", "great", "saint", "union",
            "commonwealth", "socialist", "islamic", "arab", "principality", "grand", "duchy", "independent",
            "territory", "territories", "plurinational", "bolivarian", "sultanate", "emirates", "people's", "coast"}


def forms(country: dict) -> tuple[set[str], set[str]]:
    """The country's own forms (its one-word name, people, capital, its name's initials) and the forms taken
    from its other names ("Great Britain" -> "britain", "United States of America" -> "america", "^usa")."""
    iso = {v for v in country.get("ISO", {}).values() if isinstance(v, str)}
    capitals = country.get("capital") or []  # a name, or a list of them (South Africa's three)
    capitals = [re.sub(r"\s+(?:City|D\.C\.)$|^(?:City of|New)\s+", "", c)
                for c in ([capitals] if isinstance(capitals, str) else capitals)]
    own = {t for w in [country.get("name", ""), country.get("demonym") or "", *capitals]
           if _ONE_WORD.fullmatch(w) for t in tokens(w)}
    names = [a for a in country.get("altSpellings", ()) if a.isascii()]
    other = {t for a in names if _ONE_WORD.fullmatch(a) for t in tokens(a)}
    # an all-capitals other name that is not the ISO code: "UK", "USA" (never "IN" or "IT", which a sentence opens with)
    other |= {"^" + a.lower() for a in names if re.fullmatch(r"[A-Z]{2,4}", a) and a not in iso}
    for i, full in enumerate([country.get("name", ""), *names]):
        words = [w for w in full.split() if w.lower() not in _SMALL and w[:1].isupper()]
        if len(words) < 2:
            continue
        # initials, as cite._initials reads a name in a text: "United Kingdom" -> "^uk"; of another name, three
        # letters at least ("People's Republic of China" -> "^prc")
        if i == 0 or len(words) > 2:
            (own if i == 0 else other).add("^" + "".join(w[0] for w in words).lower())
        other |= {t for w in words if _ONE_WORD.fullmatch(w) and w.lower() not in _GENERIC for t in tokens(w)}
    return own, other - own


def main() -> None:
    root = resources.files("countryinfo")
    countries = [json.loads(f.read_text(encoding="utf-8")) for d in ("data", "data_no_iso")
                 for f in (root / d).iterdir() if f.name.endswith(".json")]
    # a place of fewer than 10,000 people (an atoll, a research station) is left out: its names are noise
    found = {c["name"]: (forms(c), c.get("population") or 0) for c in countries
             if c.get("name") and (c.get("population") or 0) >= 10_000}
    # a form several countries share is the one whose own form it is ("ireland" is Ireland's, not the UK's, whose
    # long name holds it), then the most populous one's ("French" is France's, not Martinique's)
    owner = {}
    for tier in (0, 1):
        for name in sorted(found, key=lambda n: -found[n][1]):
            for t in found[name][0][tier]:
                owner.setdefault(t, name)
    groups = {name: set().union(*f) for name, (f, _) in found.items()}
    rows = sorted((name, sorted(t for t in g if owner[t] == name)) for name, g in groups.items())
    head = (f"# country\tthe forms it also goes by (tools/make_places.py, from countryinfo "
            f"{metadata.version('countryinfo')}, MIT; do not edit by hand)\n")
    OUT.write_text(head + "".join(f"{n}\t{' '.join(ts)}\n" for n, ts in rows if len(ts) > 1), encoding="utf-8")
    print(f"{OUT}: {sum(len(ts) > 1 for _, ts in rows)} countries")


if __name__ == "__main__":
    main()
