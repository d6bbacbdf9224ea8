"""Cleaning of single values met in source files: phones, postal codes, e-mails, URLs.

Each function returns the clean value, or an empty value when the input holds
nothing usable; callers keep what could not be cleaned in the import note.
"""

import math
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from mediation import validators

# Placeholders meaning "nothing" in spreadsheets and exports.
PLACEHOLDERS = {"#n/d", "n/a", "na", "-", "--", "---", "none", "null", "nan", "true", "false"}

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)


def text(value):
    """A stripped string; placeholders (#N/D, "-", "True"…) become ""."""
    if value is None:
        return ""
    value = str(value).strip()
    return "" if value.lower() in PLACEHOLDERS else value


def phone(value):
    """A French phone number in +33 form ("+33254000000"), or "" if not a number.

    The model's own rule (`mediation.validators.parse_phone`): "02 54 00 00 00",
    "02.54.00.00.00", "+33 2 54…", and an integer that lost its leading 0.
    """
    value = text(value)
    return validators.normalize_phone(value) if validators.parse_phone(value) else ""


def postal_code(value):
    """Five digits ("18000"); integers get back their leading zero."""
    value = text(value)
    if re.fullmatch(r"\d{4,5}", value):
        return value.zfill(5)
    return ""


def siren_or_siret(value):
    """A SIREN (9 digits) or SIRET (14 digits), or "" (all zeros means unknown)."""
    value = re.sub(r"\s", "", text(value))
    if not value.isdigit() or not set(value) - {"0"}:
        return ""
    if len(value) in (8, 13):  # an integer that lost its leading zero
        value = "0" + value
    return value if len(value) in (9, 14) else ""


def emails(value):
    """Every valid e-mail address found in `value`, in order, without duplicates."""
    found = []
    for candidate in EMAIL.findall(text(value)):
        candidate = candidate.strip(".'")
        try:
            validate_email(candidate)
        except ValidationError:
            continue
        if candidate.lower() not in (f.lower() for f in found):
            found.append(candidate)
    return found


def url(value):
    """A URL with its scheme ("www.exemple.fr" → "https://www.exemple.fr"), or ""."""
    value = validators.normalize_web_address(text(value))
    try:
        validators.validate_web_address(value)
    except ValidationError:
        return ""
    return value


def split(value, separators="|"):
    """Values of a multi-valued cell ("a|b", "a;b"), stripped, empties removed."""
    value = text(value)
    if not value:
        return []
    pattern = "|".join(re.escape(s) for s in separators)
    return [part.strip() for part in re.split(pattern, value) if text(part)]


def coordinate(value, bound):
    """(number, problem): a finite number within ±`bound`, else None and why, in French.

    "NaN", "inf", 1e999 and out-of-range numbers are problems to report, not
    positions; an empty cell or a placeholder is simply no position.
    """
    raw = "" if value is None else str(value).strip()
    if not raw or (raw.lower() in PLACEHOLDERS and raw.lower() != "nan"):
        return None, ""
    try:
        number = float(raw.replace(",", "."))
    except ValueError:
        return None, f"illisible : « {raw} »"
    if not math.isfinite(number):
        return None, f"non finie : « {raw} »"
    if abs(number) > bound:
        return None, f"hors limites (entre -{bound} et {bound}) : « {raw} »"
    return number, ""
