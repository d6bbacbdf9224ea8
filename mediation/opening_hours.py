"""Opening hours in the OpenStreetMap `opening_hours` syntax.

Parsing and evaluation are done by `opening-hours-py`; this module turns them
into what the site needs: a validator with a French message, a description in
plain French, and "open now / opens Tuesday at 9 h" in Europe/Paris time.
"""

from django.core.exceptions import ValidationError
from opening_hours import OpeningHours, ParserError


def parse(value):
    """The parsed expression, or None when `value` is empty or invalid."""
    if not value or not value.strip():
        return None
    try:
        return OpeningHours(value.strip())
    except (ParserError, ValueError):
        return None


def validate_opening_hours(value):
    """Refuse a value that is not valid OpenStreetMap `opening_hours` syntax."""
    if not value or not value.strip():
        return
    try:
        OpeningHours(value.strip())
    except (ParserError, ValueError) as error:
        raise ValidationError(
            "Horaires illisibles : « %(value)s » ne respecte pas le format OpenStreetMap "
            "(exemple : « Mo-Fr 09:00-12:00,14:00-18:00; Sa 09:00-12:00 »).",
            code="invalid_opening_hours",
            params={"value": value},
        ) from error
