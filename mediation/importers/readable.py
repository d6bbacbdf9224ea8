"""Names and addresses people can read: "MSAP DE BOULLERET" → "MSAP de Boulleret".

Sources type many names and addresses in capitals ("RUE DE TOUS LES
DIABLES", "MAISON FRANCE SERVICES DE BOULLERET"), which are hard to read for
the people the site is for. Words in capitals become French title case:
- known acronyms stay in capitals (`ACRONYMS`), a few words keep their own
  spelling (`SPECIAL`: FabLab), common words get their accents back
  (`ACCENTS`: "MEDIATHEQUE" → "Médiathèque");
- small words are in lower case except first ("de", "la", "sur"…), also
  inside compound names ("SAINT-JEAN-DE-BRAYE" → "Saint-Jean-de-Braye");
- a word that looks like an unknown acronym (no vowel, three consonants in a
  row: "AJCV", "UDTL") stays in capitals, and so does a name of one word
  ("OTDIF", "MELI"): it is completed on the page (`Structure.display_name`);
- words already in mixed case are left as typed ("MEDIATHEQUE La Pléiade").
Addresses also lose trailing punctuation ("place du marché.." → "Place du
Marché"), street types are in lower case after a number ("2 rue de la
Poste") and common abbreviations are spelled out ("PL" → "place").

The importers store the readable form and keep the source's spelling in the
note when it differs; matching (duplicates, search) ignores case and accents,
so it is unaffected.
"""

import functools
import re
import unicodedata

ACRONYMS = {
    "ADIL", "ADMR", "ADSEA", "AFPA", "AMO", "APTIC", "BGE", "BIJ", "BP", "CA", "CAF",
    "CC", "CCAS", "CCI", "CDC", "CEDEX", "CFA", "CIAS", "CIDFF", "CMA", "CPAM", "CRIJ",
    "CS", "CSC", "DLA", "EHPAD", "EPN", "ESS", "FJT", "GRETA", "IUT", "MFR", "MFS", "MJC",
    "MSA", "MSAP", "PIJ", "PIX", "PME", "PMN", "RD", "RN", "RSA", "SIVOM", "SNCF", "TPE",
    "UDAF", "UFR", "UNRPA", "ZA", "ZAC", "ZI", "APF", "CSE", "ESP", "IES", "PAEJ", "PRIJ",
    "RIJ", "RERS", "APEB", "AIJAM", "ASELQO", "IMEP", "CIMAS", "ASCA", "ADAPEI", "EPIDE",
    "ECW", "HUB", "UDTL", "ODARPA", "SOS", "BTS", "PASEJ", "FED", "VAN", "HQ",
}  # fmt: skip
SPECIAL = {"FABLAB": "FabLab", "FABLABS": "FabLabs", "ST": "St", "STE": "Ste"}
SMALL_WORDS = {
    "à", "au", "aux", "d", "dans", "de", "des", "du", "en", "et", "l", "la", "le", "les",
    "lès", "ou", "par", "pour", "sous", "sur", "un", "une",
}  # fmt: skip
# Short words in capitals that are words, not acronyms.
SHORT_WORDS = {"art", "arts", "box", "bus", "lab", "net", "web", "bis", "ter", "val", "mer"}
# A preposition before an article keeps it small ("Bibliothèque de la Châtre");
# elsewhere an article starts a name ("Coworking La Loupe", "Bibliothèque Le Patio").
ARTICLES = {"le", "la", "les", "l"}
PREPOSITIONS = SMALL_WORDS - ARTICLES
ACCENTS = {
    "a": "à", "acces": "accès", "activites": "activités", "allee": "allée",
    "bibliotheque": "bibliothèque", "bibliotheques": "bibliothèques", "chateau": "château",
    "chaussee": "chaussée", "cite": "cité", "cohesion": "cohésion", "college": "collège",
    "communaute": "communauté", "cooperative": "coopérative", "creation": "création",
    "departement": "département", "departemental": "départemental",
    "departementale": "départementale", "deportes": "déportés", "ecole": "école",
    "ecoles": "écoles", "eglise": "église", "elysee": "élysée", "entree": "entrée",
    "epicerie": "épicerie", "espace": "espace", "etage": "étage", "etudiants": "étudiants",
    "federation": "fédération", "francais": "français", "francaise": "française",
    "general": "général", "generation": "génération", "hotel": "hôtel", "laique": "laïque",
    "liberte": "liberté", "ludotheque": "ludothèque", "lycee": "lycée", "marche": "marché",
    "marechal": "maréchal", "mediatheque": "médiathèque", "mediatheques": "médiathèques",
    "numerique": "numérique", "numeriques": "numériques", "oeuvre": "œuvre", "pole": "pôle",
    "prefecture": "préfecture", "regional": "régional", "regionale": "régionale",
    "republique": "république", "reseau": "réseau", "residence": "résidence",
    "securite": "sécurité", "solidarite": "solidarité", "theatre": "théâtre",
    "congres": "congrès", "multimedia": "multimédia", "sante": "santé",
    "parentalite": "parentalité", "vallee": "vallée", "vallees": "vallées",
    "deleguee": "déléguée", "solidarites": "solidarités", "citoyennete": "citoyenneté",
    "agglomeration": "agglomération", "proximite": "proximité", "itinerant": "itinérant",
    "prevention": "prévention", "specialisee": "spécialisée", "forets": "forêts",
    "foret": "forêt", "education": "éducation", "europeen": "européen", "metiers": "métiers",
    "emeraude": "émeraude", "etoile": "étoile", "fraternite": "fraternité", "egalite": "égalité",
    "pres": "près", "maitrise": "maîtrise", "interet": "intérêt", "ecluse": "écluse",
    "cloitre": "cloître", "eugene": "eugène", "andre": "andré", "etienne": "étienne",
    "leon": "léon", "helene": "hélène", "therese": "thérèse", "gerard": "gérard",
    "frederic": "frédéric", "rene": "rené", "jerome": "jérôme", "fevrier": "février",
    "aout": "août", "decembre": "décembre", "aerodrome": "aérodrome",
}  # fmt: skip
STREET_ABBREVIATIONS = {
    "av": "avenue", "ave": "avenue", "bd": "boulevard", "bld": "boulevard", "bvd": "boulevard",
    "che": "chemin", "chem": "chemin", "fg": "faubourg", "imp": "impasse", "pl": "place",
    "rte": "route", "sq": "square", "res": "résidence", "all": "allée", "mal": "maréchal",
    "gal": "général", "ld": "lieu-dit", "pass": "passage", "crs": "cours",
}  # fmt: skip
MONTHS = {
    "janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre",
    "octobre", "novembre", "decembre",
}  # fmt: skip
STREET_TYPES = {
    "allée", "avenue", "boulevard", "chemin", "cours", "faubourg", "impasse", "passage",
    "place", "quai", "route", "rue", "ruelle", "square", "voie", "chaussée", "résidence",
    "sentier", "cité", "mail", "promenade", "esplanade", "parvis", "rond-point",
}  # fmt: skip
VOWELS = set("AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŸ")
# Letters and the apostrophes inside a word ("D'HERBAULT", "PEP'IT").
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
TRAILING = re.compile(r"[\s.,;:–—-]+$")


def _is_capitals(word):
    letters = [c for c in word if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


def _plain(word):
    """Lower case without accents ("MÉDIATHEQUE" → "mediatheque")."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _looks_like_acronym(word):
    """A known acronym, a word without vowel ("FJT"), or four letters with three
    consonants in a row ("AJCV", "UDTL"); an elided word is judged on its word."""
    upper = re.split(r"['’]", word.upper())[-1]
    if upper in ACRONYMS:
        return True
    plain = _plain(upper)
    if plain in SMALL_WORDS or plain in SHORT_WORDS or plain in ACCENTS:
        return False
    if len(upper) > 1 and not VOWELS & set(upper):
        return True
    if re.fullmatch(r"[IVX]{2,5}", upper):  # "LOUIS XIII"
        return True
    return len(upper) == 4 and bool(re.search(r"[^AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŸ]{3}", upper))


def _title_word(word, *, first):
    """One word (letters, maybe an elision) in capitals → its readable form."""
    if "'" in word or "’" in word:
        quote = "'" if "'" in word else "’"
        head, _, tail = word.partition(quote)
        if head.lower() in ("l", "d", "qu", "j", "n", "s", "c"):
            head_text = head.lower() if not first else head.capitalize()
            return head_text + quote + _title_word(tail, first=True)
        return _title_word(head, first=first) + quote + tail.lower()
    upper, lower = word.upper(), word.lower()
    if upper in SPECIAL:
        return SPECIAL[upper]
    if upper in ACRONYMS:
        return upper
    plain = _plain(word)
    lower = ACCENTS.get(plain) or commune_accents().get(plain) or lower
    if (lower in SMALL_WORDS or plain in MONTHS) and not first:
        return lower
    return lower[:1].upper() + lower[1:]


@functools.cache
def commune_accents():
    """{"lignieres": "lignières"…}: accents of the words of the region's commune names.

    Sources drop accents in capitals ("PIJ CHATEAUROUX"); the communes table
    has them. A word whose unaccented form is also a word of some commune
    name ("pres" and "près") is left out: it cannot be decided.
    """
    from territories.models import Commune

    accented, plain_words = {}, set()
    for name in Commune.objects.values_list("name", flat=True):
        for word in re.split(r"[\s\-'’]+", name.lower()):
            plain = _plain(word)
            if plain == word:
                plain_words.add(word)
            elif accented.get(plain, word) == word:
                accented[plain] = word
            else:
                accented[plain] = None  # two spellings: undecided
    return {k: v for k, v in accented.items() if v and k not in plain_words}


def _title(text, *, capital_articles=True):
    """Words in capitals of `text` in title case; other words as typed.

    With `capital_articles`, "le", "la"… start a name unless a preposition
    precedes ("Coworking La Loupe", "Bibliothèque de la Châtre")."""
    # "L EUROPE", "D ALSACE": an elision whose apostrophe was lost.
    text = re.sub(r"\b([LD]) (?=[AEIOUYÉÈH][A-ZÉÈ])", r"\1'", text)
    result, position, first, previous = [], 0, True, ""
    for match in WORD.finditer(text):
        word = match.group()
        gap = text[position : match.start()]
        result.append(gap)
        # Glued to the previous word by "(", ")", "&"… ("PLURIEL(LE)S", "ESPACE&CO").
        inside = position > 0 and gap != "" and not re.search(r"[\s\-/:'’]", gap)
        # A new part of the name: at the start, after "(", ":", " - ", "/"…
        starts = first or bool(re.search(r"[(«\"/:]\s*$|\s[-–—]\s+$", text[: match.start()]))
        article = (
            capital_articles
            and _plain(word) in ARTICLES
            and "-" not in gap
            and previous not in PREPOSITIONS
        )
        if inside and word.isupper() and _is_capitals(text[:position].split()[-1] + word):
            result.append(word.lower())  # "PLURIEL(LE)S" → "Pluriel(le)s"
        elif not _is_capitals(word) or (_looks_like_acronym(word) and word.upper() not in SPECIAL):
            result.append(word)
        else:
            # Inside a compound ("SAINT-JEAN-DE-BRAYE") small words stay small too.
            result.append(_title_word(word, first=starts or article))
        position, first, previous = match.end(), False, _plain(word)
    result.append(text[position:])
    return "".join(result)


def readable_name(name):
    """A place's name as people read it ("MSAP DE BOULLERET" → "MSAP de Boulleret")."""
    # Whitespace is left as it is: a line break in a name is for the place's rules
    # to refuse, not for this module to hide.
    name = (name or "").strip(" ")
    words = WORD.findall(name)
    if len(words) == 1 and _plain(words[0]) not in ACCENTS:
        return name  # a bare acronym or brand: completed on the page, not guessed
    return _title(name)


def readable_address(address):
    """An address as people read it: title case, street types, no trailing punctuation."""
    address = TRAILING.sub("", (address or "").strip(" "))
    if not any(_is_capitals(word) for word in WORD.findall(address)):
        return address
    words = []
    for word in address.split(" "):
        key = word.lower().rstrip(".")
        if _is_capitals(word) and key in STREET_ABBREVIATIONS:
            word = STREET_ABBREVIATIONS[key].upper()
        words.append(word)
    text = _title(" ".join(words), capital_articles=False)
    # "2 Rue de la Poste" → "2 rue de la Poste": a street type after a number.
    return re.sub(
        r"(\d\s*(?:bis|ter|quater)?,?\s+)(\w+)",
        lambda m: (
            m.group(1) + (m.group(2).lower() if m.group(2).lower() in STREET_TYPES else m.group(2))
        ),
        text,
    )


def tidy(row):
    """Make a `RowData`'s name, address and city readable; the source's name stays in the note."""
    from mediation.importers.base import note_line

    fields = row.fields
    source_name = fields["name"]
    fields["name"] = readable_name(source_name)
    if fields["name"] != source_name:
        row.notes.append(note_line("Nom dans la source", source_name))
    fields["address"] = readable_address(fields["address"])
    if fields.get("city"):
        fields["city"] = _title(fields["city"])
