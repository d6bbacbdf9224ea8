"""The rules of a place's values, and their one normalisation.

Every path that writes a place — edit page, proposal, API, admin, import,
restore — reaches these through the model (`Structure.full_clean()` and
`Structure.save()`), so the same fault gets the same French message
everywhere. Normalisers never refuse: they turn an acceptable value into its
stored form ("02 54 12 34 57" → "+33254123457", "www.x.fr" → "https://www.x.fr")
and leave anything else as it is, for the validators to refuse.
"""

import functools
import math
import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    URLValidator,
    validate_email,
)

# Phones ---------------------------------------------------------------------


def parse_phone(value):
    """The `PhoneNumber` of a French number typed any usual way, or None.

    Accepts "02 54 12 34 57", "02.54.12.34.57", "+33 2 54…", "0033 2 54…" and
    a number that lost its leading 0 in a spreadsheet (254123457). "Possible"
    (right length) rather than "valid" (allocated range): new ranges and the
    census's anonymised numbers must not be refused. The answer is shared
    between calls with the same text (an import parses each number several
    times): read it, never change it.
    """
    return _parse_phone(str(value or "").strip())


@functools.lru_cache(maxsize=4096)
def _parse_phone(value):
    if not value:
        return None
    digits = re.sub(r"\D", "", value)
    if not value.startswith("+") and len(digits) == 9 and digits[0] in "123456789":
        value = "0" + digits
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def normalize_phone(value):
    """ "+33254123457" for any French way of writing it; anything else unchanged."""
    number = parse_phone(value)
    if number is None:
        return str(value or "").strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=4096)  # a results page formats 20 numbers, the same ones often
def display_phone(value):
    """ "02 54 12 34 57": how a French number is read and typed."""
    number = parse_phone(value)
    if number is None:
        return value or ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def validate_phone(value):
    if value and parse_phone(value) is None:
        raise ValidationError(
            "« %(value)s » n’est pas un numéro de téléphone valide (exemple : 02 54 12 34 57).",
            code="phone",
            params={"value": value},
        )


# Web addresses and e-mail addresses -----------------------------------------

# "www.exemple.fr/page": a host name with a dot, no scheme. "javascript:…" and
# "data:…" do not match and are left as they are, to be refused.
BARE_HOST = re.compile(r"^[\w-]+(\.[\w-]+)+(:\d+)?([/?#]\S*)?$")
_url_validator = URLValidator(schemes=["http", "https"])


def normalize_web_address(value):
    """ "https://www.exemple.fr" for "www.exemple.fr"; anything else unchanged."""
    value = str(value or "").strip()
    if value and BARE_HOST.match(value):
        return "https://" + value
    return value


@functools.lru_cache(maxsize=4096)
def _is_web_address(value):
    try:
        _url_validator(value)
    except ValidationError:
        return False
    return True


def validate_web_address(value):
    if not _is_web_address(str(value)):
        raise ValidationError(
            "« %(value)s » n’est pas une adresse web valide : elle commence par https:// "
            "ou http:// (exemple : https://www.exemple.fr).",
            code="web_address",
            params={"value": value[:200]},
        )


def validate_web_addresses(values):
    for value in values:
        validate_web_address(value)


def validate_email_address(value):
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(
            "« %(value)s » n’est pas une adresse e-mail valide (exemple : prenom.nom@exemple.fr).",
            code="email",
            params={"value": value[:200]},
        ) from None


def validate_email_addresses(values):
    for value in values:
        validate_email_address(value)


# Text -------------------------------------------------------------------------

SINGLE_LINE_MESSAGE = (
    "Ce champ tient sur une ligne : retirez les retours à la ligne, tabulations "
    "et caractères invisibles."
)
TEXT_MESSAGE = "Ce texte contient des caractères invisibles interdits : retirez-les."


# Unicode's "Cc" category: C0 controls, DEL and C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def has_control_characters(value, *, allowed=""):
    return any(char not in allowed for char in CONTROL_CHARACTERS.findall(str(value)))


def validate_single_line(value):
    """No control character at all (CR and LF included): mail headers, CSV, one-line display."""
    values = value if isinstance(value, list | tuple) else [value]
    if any(has_control_characters(item) for item in values):
        raise ValidationError(SINGLE_LINE_MESSAGE, code="control_characters")


def validate_text(value):
    """Line breaks and tabulations, but no other control character (NUL…)."""
    if has_control_characters(value, allowed="\n\r\t"):
        raise ValidationError(TEXT_MESSAGE, code="control_characters")


# Position ----------------------------------------------------------------------

# The region with a margin: every commune's reference point is inside
# (46.39–48.92 N, 0.07–3.07 E), and so is any point within 20 km of one.
REGION_BOUNDS = {"south": 46.15, "north": 49.15, "west": -0.25, "east": 3.4}
OUTSIDE_REGION = (
    "Ce point est en dehors de la région Centre-Val de Loire : "
    "vérifiez la position (placez le repère sur la carte)."
)


def validate_finite(value):
    """NaN and infinities pass the range validators below (every comparison is false)."""
    if value is not None and not math.isfinite(value):
        raise ValidationError("Une coordonnée doit être un nombre fini.", code="not_finite")


validate_latitude = [
    validate_finite,
    MinValueValidator(REGION_BOUNDS["south"], OUTSIDE_REGION),
    MaxValueValidator(REGION_BOUNDS["north"], OUTSIDE_REGION),
]
validate_longitude = [
    validate_finite,
    MinValueValidator(REGION_BOUNDS["west"], OUTSIDE_REGION),
    MaxValueValidator(REGION_BOUNDS["east"], OUTSIDE_REGION),
]
