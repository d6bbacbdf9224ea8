"""Kind sanity: a place whose name contradicts its kinds ("type à vérifier").

A name is what a visitor reads first. "MSAP Ligueil" listed only as a
Promeneur du Net, or "Médiathèque de Vierzon" listed only as a coworking space,
tells the visitor one thing and the filters another. Nothing is changed
automatically (a médiathèque may host the town's EPN and be listed as that
only on purpose): the place is flagged in the import report, in the admin
(filter and column "type à vérifier") and counted by `manage.py data_quality`.

`NAME_KINDS` is the one table: which words of a name imply which kind. The
same table gives the Python check (`kinds_to_check`, over the name as the
search normalises it) and the SQL one (`StructureQuerySet.kind_to_check()`,
over the stored name: accents and case are spelled out as character classes
so that SQLite's and PostgreSQL's regular expressions agree).
"""

import re

from territories.models import normalize_search

# (kind slug, words of a normalised name that imply it, label for the report).
# Words are plain lower-case ASCII: the Python check runs on
# `normalize_search(name)`, the SQL check on the name with accents spelled out.
NAME_KINDS = (
    ("france-services", ("msap", "france services", "france service", "maison de services")),
    ("mediatheque", ("mediatheque", "bibliotheque")),
    ("fablab-makerspace", ("fablab", "fab lab", "makerspace")),
    ("coworking", ("coworking", "co working")),
)

_ACCENTS = {
    "a": "aàâäAÀÂÄ",
    "e": "eéèêëEÉÈÊË",
    "i": "iîïIÎÏ",
    "o": "oôöOÔÖ",
    "u": "uùûüUÙÛÜ",
    "c": "cçCÇ",
}


def _python_pattern(words):
    return re.compile(r"(?:^| )(?:" + "|".join(re.escape(w) for w in words) + r")(?: |$)")


_PATTERNS = {slug: _python_pattern(words) for slug, words in NAME_KINDS}


def implied_kinds(name):
    """Kinds (slugs) that the words of `name` imply, in table order."""
    text = normalize_search(name)
    return [slug for slug, pattern in _PATTERNS.items() if pattern.search(text)]


def kinds_to_check(name, kinds):
    """Kinds the name implies but the place does not have ([] when consistent)."""
    kinds = set(kinds)
    return [slug for slug in implied_kinds(name) if slug not in kinds]


def sql_pattern(words):
    """A regular expression matching any of `words` in a raw name, on SQLite and PostgreSQL.

    Accented letters, either case, and the separators `normalize_search`
    turns into spaces (hyphen, apostrophe…) are spelled out; no `\\b`, which
    PostgreSQL reads differently.
    """
    separator = "[^A-Za-z0-9ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜàâäçéèêëîïôöùûü]"
    alternatives = []
    for word in words:
        letters = []
        for char in word:
            if char == " ":
                letters.append(separator + "+")
            elif char in _ACCENTS:
                letters.append(f"[{_ACCENTS[char]}]")
            else:
                letters.append(f"[{char}{char.upper()}]" if char.isalpha() else re.escape(char))
        alternatives.append("".join(letters))
    return f"(^|{separator})({'|'.join(alternatives)})({separator}|$)"


SQL_PATTERNS = {slug: sql_pattern(words) for slug, words in NAME_KINDS}


def kind_label(slug):
    """The French name of a kind for messages ("France Services (ex-MSAP)")."""
    from mediation.models import ServiceType

    return ServiceType.objects.filter(slug=slug).values_list("name", flat=True).first() or slug
