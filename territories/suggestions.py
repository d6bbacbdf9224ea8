"""Commune suggestions for what people type: "chateauroux", "st amand", "36000", "chateauroux".

Names are compared in their normalized form (`normalize_search`: no accents,
case, hyphens; "st" = "saint"). Prefixes come first, then, for a mistyped
name, the closest names by edit distance (rapidfuzz). The 1,754 normalized
names are held in memory per process and refreshed every few minutes.
"""

import time
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from territories.models import Commune, normalize_search

INDEX_TTL = 300  # seconds: an admin's renaming shows up within five minutes
FUZZY_CUTOFF = 72


@dataclass(frozen=True)
class Entry:
    code_insee: str
    name: str
    normalized: str
    postal_codes: tuple
    department: str
    population: int

    @property
    def postal_code(self):
        return self.postal_codes[0] if self.postal_codes else ""

    @property
    def label(self):
        return f"{self.name} ({self.postal_code or self.department})"


_index = {"built": 0.0, "entries": []}


def entries():
    """Every commune, normalized, most populous first (cached in the process)."""
    if not _index["entries"] or time.monotonic() - _index["built"] > INDEX_TTL:
        rows = Commune.objects.values_list(
            "code_insee", "name", "postal_codes", "department_id", "population"
        )
        built = [
            Entry(code, name, normalize_search(name), tuple(codes or ()), dep, population or 0)
            for code, name, codes, dep, population in rows
        ]
        built.sort(key=lambda e: (-e.population, e.normalized))
        _index.update(built=time.monotonic(), entries=built)
    return _index["entries"]


def forget():
    """Drop the in-memory index (tests, or after loading new territories)."""
    _index.update(built=0.0, entries=[])


def _typo_score(needle, choice, **kwargs):
    # Whole name, or the start of it as long as what was typed: "chatearo" ~ "chateauroux".
    return max(
        fuzz.ratio(needle, choice, **kwargs),
        fuzz.ratio(needle, choice[: len(needle)], **kwargs) - 5,
    )


@dataclass(frozen=True)
class Suggestion:
    entry: Entry
    score: float  # 100 for a name or postal code that starts like the text
    fuzzy: bool  # found by spelling distance, not as a prefix

    @property
    def exact(self):
        return self.score >= 100 and not self.fuzzy


def suggest(text, *, limit=8):
    """`Suggestion`s for `text`, best first: exact name or postal code, prefixes of a
    name or of a word in it, then — only when nothing starts like it — close spellings."""
    needle = normalize_search(text)
    if not needle:
        return []
    index = entries()
    digits = needle.replace(" ", "")
    if digits.isdigit():
        exact = [e for e in index if digits in e.postal_codes]
        prefix = [
            e
            for e in index
            if e not in exact and any(code.startswith(digits) for code in e.postal_codes)
        ]
        return [Suggestion(e, 100 if e in exact else 90, False) for e in exact + prefix][:limit]
    exact = [e for e in index if e.normalized == needle]
    prefix = [e for e in index if e.normalized.startswith(needle) and e not in exact]
    word = [
        e
        for e in index
        if f" {needle}" in e.normalized and e not in exact and not e.normalized.startswith(needle)
    ]
    found = [Suggestion(e, 100, False) for e in exact]
    found += [Suggestion(e, 90, False) for e in prefix + word]
    if found or len(needle) < 3:
        return found[:limit]
    names = [e.normalized for e in index]
    matches = process.extract(
        needle, names, scorer=_typo_score, score_cutoff=FUZZY_CUTOFF, limit=limit
    )
    return [
        Suggestion(index[position], score, True)
        for _name, score, position in sorted(matches, key=lambda m: (-m[1], m[2]))
    ]
