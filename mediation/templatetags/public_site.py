"""Template filters of the public pages."""

import phonenumbers
from django import template

register = template.Library()


@register.filter
def phone_display(value):
    """ "+33254000000" → "02 54 00 00 00" (French national format); unchanged if unreadable."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


@register.filter
def phone_uri(value):
    """A `tel:` link target in the international format ("tel:+33254000000")."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return "tel:" + "".join(c for c in value if c.isdigit() or c == "+")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.RFC3966)


@register.filter
def web_label(url):
    """ "https://www.exemple.fr/page/" → "www.exemple.fr/page" for link text."""
    text = str(url).split("://", 1)[-1]
    return text.rstrip("/")
