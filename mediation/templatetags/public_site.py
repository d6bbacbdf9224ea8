"""Template filters and tags of the public pages."""

import functools
import hashlib

import phonenumbers
from django import template
from django.conf import settings
from django.core.cache import cache
from django.utils.safestring import mark_safe

from mediation import french, needs, validators

register = template.Library()


@register.filter
def phone_display(value):
    """ "+33254000000" → "02 54 00 00 00" (French national format); unchanged if unreadable."""
    return validators.display_phone(value)


@register.filter
@functools.lru_cache(maxsize=4096)  # a results page links 20 numbers, the same ones often
def phone_uri(value):
    """A `tel:` link target in the international format ("tel:+33254000000")."""
    if not value:
        return ""
    number = validators.parse_phone(value)
    if number is None:
        return "tel:" + "".join(c for c in value if c.isdigit() or c == "+")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.RFC3966)


@register.filter
def web_label(url):
    """ "https://www.exemple.fr/page/" → "www.exemple.fr/page" for link text."""
    text = str(url).split("://", 1)[-1]
    return text.rstrip("/")


@register.filter(name="de")
def de_filter(name):
    """ "Issoudun" → "d’Issoudun", "Le Blanc" → "du Blanc" (mediation/french.py)."""
    return french.de(str(name))


@register.filter(name="a")
def a_filter(name):
    """ "Le Blanc" → "au Blanc", "Issoudun" → "à Issoudun"."""
    return french.a(str(name))


@register.filter(name="dans")
def dans_filter(department):
    """ "Indre" → "dans l’Indre", "Cher" → "dans le Cher"."""
    return french.dans(str(department))


@register.filter(name="thousands")
def thousands_filter(number):
    """12345 → "12 345"."""
    return french.thousands(number or 0)


@register.filter
def bassin_de_vie(name):
    """ "Issoudun" → "bassin de vie d’Issoudun"."""
    return french.bassin_de_vie(str(name))


@register.filter
def lowerfirst(text):
    """ "Le 1er mardi du mois : 9 h – 12 h" → "le 1er mardi du mois : 9 h – 12 h"."""
    text = str(text)
    return text[:1].lower() + text[1:]


ICONS_DIR = settings.BASE_DIR / "node_modules" / "lucide-static" / "icons"


@functools.cache
def _icon_svg(name):
    try:
        text = (ICONS_DIR / f"{name}.svg").read_text()
    except OSError:
        return ""  # a missing pictogram leaves its label alone, never an error
    svg = text[text.index("<svg") :]
    return svg.replace("<svg", '<svg aria-hidden="true" focusable="false"', 1)


@register.simple_tag
def icon(name):
    """An inline pictogram of the Lucide set (installed by npm), hidden from screen readers."""
    return mark_safe(_icon_svg(name))  # a file of the installed icon set


@register.filter
def plain(value):
    """A standard value as a citizen reads it ("Seniors" → "Personnes âgées")."""
    return needs.plain(value)


@register.filter
def plain_list(values):
    """Standard values said plainly, joined by commas."""
    return ", ".join(needs.plain(value) for value in values or ())


@register.simple_tag
def need_icon(slug):
    """The pictogram of a need of the home page (mediation/needs.py)."""
    need = needs.NEEDS_BY_SLUG.get(slug)
    return icon(need.icon) if need else ""


FRAGMENT_TTL = 600  # seconds; the key changes with the data anyway


@register.tag
def per_version(parser, token):
    """`{% per_version "name" version value… %}…{% endper_version %}`: the block rendered
    once per data version (`versioning.structures_version()`'s stamp) and values, then
    served from the cache. Every value the block shows must be in its key. With
    `version` None (changes not yet committed: the version has not moved), rendered
    each time."""
    bits = token.split_contents()[1:]
    if len(bits) < 2:
        raise template.TemplateSyntaxError("per_version needs a name and a version")
    nodelist = parser.parse(("endper_version",))
    parser.delete_first_token()
    return PerVersionNode(nodelist, [parser.compile_filter(bit) for bit in bits])


class PerVersionNode(template.Node):
    def __init__(self, nodelist, key):
        self.nodelist = nodelist
        self.key = key

    def render(self, context):
        name, version, *values = (part.resolve(context) for part in self.key)
        if version is None:
            return self.nodelist.render(context)
        digest = hashlib.sha1(repr((version, values)).encode()).hexdigest()[:20]
        key = f"mediation:fragment:{name}:{digest}"
        html = cache.get(key)
        if html is None:
            html = self.nodelist.render(context)
            cache.set(key, html, FRAGMENT_TTL)
        return html
