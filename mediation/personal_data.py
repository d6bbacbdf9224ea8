"""Personal data that must not slip into the public directory.

- A natural person's name in INSEE's SIRENE format ("NOM*NOM D’USAGE/PRÉNOMS /"),
  as the census copies sole traders' names into `structure_parente`: never
  published (imports drop it, a migration cleared the stored ones).
- E-mails on consumer domains (gmail.com, orange.fr, wanadoo.fr…) and mobile
  numbers (06, 07) are likely someone's own contact rather than the place's:
  flagged "contact personnel ?" in the admin and counted by `data_quality`,
  until a coordinator confirms it is the place's public contact.
"""

import re

# NOM*[NOM D'USAGE]/PRÉNOMS / — the star and the slashes never occur in a
# body's name as SIRENE writes it.
INSEE_PERSON_NAME = re.compile(r"^\s*[^*/]+\*[^*/]*/[^*/]*/\s*$")

CONSUMER_EMAIL_DOMAINS = (
    "gmail.com",
    "googlemail.com",
    "yahoo.fr",
    "yahoo.com",
    "hotmail.fr",
    "hotmail.com",
    "outlook.fr",
    "outlook.com",
    "live.fr",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "sfr.fr",
    "neuf.fr",
    "bbox.fr",
    "laposte.net",
    "club-internet.fr",
    "numericable.fr",
    "voila.fr",
    "gmx.fr",
    "protonmail.com",
    "proton.me",
)
# French mobile numbers in E.164 (+336…, +337…), as phones are stored.
MOBILE_PREFIXES = ("+336", "+337")

# For `emails` stored as "|a@b.fr|c@d.fr|": a consumer domain ends an item.
CONSUMER_EMAIL_REGEX = r"@(" + "|".join(re.escape(d) for d in CONSUMER_EMAIL_DOMAINS) + r")\|"


def is_person_name(value):
    """True for a natural person's name in INSEE's format ("DUPONT*/JEAN /")."""
    return bool(INSEE_PERSON_NAME.match(value or ""))


def is_consumer_email(address):
    return (address or "").rsplit("@", 1)[-1].lower() in CONSUMER_EMAIL_DOMAINS


def is_mobile(phone):
    return (phone or "").startswith(MOBILE_PREFIXES)


def personal_contact_reasons(*, phone, emails):
    """Why a place's contact looks personal, in French (empty: nothing to check)."""
    reasons = [f"adresse d’un service grand public ({e})" for e in emails if is_consumer_email(e)]
    if is_mobile(phone):
        reasons.append("numéro de mobile")
    return reasons
