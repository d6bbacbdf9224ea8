"""French wording: elision and contracted prepositions before a place's name.

"de" + "Issoudun" → "d’Issoudun"; "de" + "Le Blanc" → "du Blanc"; "à" + "Les
Aix-d’Angillon" → "aux Aix-d’Angillon"; "dans" + "Indre" → "dans l’Indre".
Every page that puts a preposition before a commune, a bassin or a department
goes through these functions (template filters in `public_site`).
"""

import unicodedata

APOSTROPHE = "’"
VOWELS = set("aeiouyh")  # h: nearly all h of French place names are mute (Huismes, Herry)
# Names whose h is aspirated: no elision ("de Hérouville").
ASPIRATED = {"hambach", "hazebrouck", "herouville", "hondschoote", "houdan"}


def _plain(word):
    return "".join(
        c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c)
    ).lower()


def starts_with_vowel(name):
    """True when `name` takes an elided article or preposition ("d’", "l’")."""
    plain = _plain(name.strip())
    if not plain or plain[0] not in VOWELS:
        return False
    first_word = plain.replace("-", " ").split()[0]
    return first_word not in ASPIRATED


def _split_article(name):
    """ "Le Blanc" → ("le", "Blanc"); "Issoudun" → (None, "Issoudun")."""
    for article in ("Le ", "Les ", "La ", "L'", "L’"):
        if name.startswith(article):
            return article.strip().lower().rstrip("'’"), name[len(article) :]
    return None, name


def de(name):
    """ "d’Issoudun", "de Bourges", "du Blanc", "des Aix-d’Angillon", "de La Châtre"."""
    name = name.strip()
    article, rest = _split_article(name)
    if article == "le":
        return f"du {rest}"
    if article == "les":
        return f"des {rest}"
    if article is None and starts_with_vowel(name):
        return f"d{APOSTROPHE}{name}"
    return f"de {name}"


def a(name):
    """ "à Issoudun", "au Blanc", "aux Aix-d’Angillon", "à La Châtre"."""
    name = name.strip()
    article, rest = _split_article(name)
    if article == "le":
        return f"au {rest}"
    if article == "les":
        return f"aux {rest}"
    return f"à {name}"


def pres_de(name):
    """ "près d’Issoudun", "près du Blanc"."""
    return f"près {de(name)}"


def dans(department):
    """A department with its article: "dans l’Indre", "dans le Cher", "dans le Loiret"."""
    name = department.strip()
    if starts_with_vowel(name):
        return f"dans l{APOSTROPHE}{name}"
    return f"dans le {name}"


def bassin_de_vie(name):
    """ "bassin de vie d’Issoudun", "bassin de vie du Blanc"."""
    return f"bassin de vie {de(name)}"


def thousands(number):
    """12345 → "12 345", with the narrow no-break space French typography uses."""
    return f"{int(number):,}".replace(",", "\u202f")
