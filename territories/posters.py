"""Printable posters for town halls, for the many who will never open the site.

Per commune, one A4 page "Besoin d'aide avec le numérique ? Près de chez vous":
the nearest published places with their phone numbers in large type and their
opening days, the itinerant stops that pass in the commune, and a QR code to the
commune's search on the site. Per bassin, a booklet with one block per place.

Written for the site's publics: body text at 14 pt or more, black on white,
plain French. Drawn with reportlab (pure Python); the QR code is drawn as
vector squares from segno's matrix, so it stays sharp at any print size.
Both are cached, keyed by the directory's data version, until places change.
"""

import io
from xml.sax.saxutils import escape

import segno
from django.core.cache import cache
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from mediation import french, opening_hours, validators
from mediation.models import Stop, Structure
from mediation.versioning import structures_version

NAVY = colors.HexColor("#000091")
CACHE_TTL = 24 * 3600
MOST_PLACES, FEWEST_PLACES = 5, 3


def _encodable(value):
    """Text for reportlab's standard fonts (Windows-1252): other characters are replaced."""
    value = str(value or "").replace("\u202f", " ").replace("\u2009", " ")
    return value.encode("cp1252", "replace").decode("cp1252")


def _text(value):
    """`_encodable` text escaped for a Paragraph's markup."""
    return escape(_encodable(value))


def _style(name, size, *, bold=False, color=colors.black, leading=None, space_after=0):
    return ParagraphStyle(
        name,
        fontName="Helvetica-Bold" if bold else "Helvetica",
        fontSize=size,
        leading=leading or size * 1.25,
        textColor=color,
        alignment=TA_LEFT,
        spaceAfter=space_after,
    )


TITLE = _style("title", 28, bold=True, color=NAVY, space_after=4 * mm)
SUBTITLE = _style("subtitle", 18, space_after=5 * mm)
NAME = _style("name", 17, bold=True)
BODY = _style("body", 14)
PHONE = _style("phone", 22, bold=True, leading=26)
SMALL = _style("small", 14, color=colors.HexColor("#3a3a3a"))


class QRCode(Flowable):
    """A QR code drawn as vector squares."""

    def __init__(self, data, size):
        super().__init__()
        self.matrix = [list(row) for row in segno.make(data, error="m").matrix]
        self.size = size
        self.width = self.height = size

    def draw(self):
        count = len(self.matrix) + 8  # four modules of quiet zone on each side
        module = self.size / count
        canvas = self.canv
        canvas.setFillColor(colors.black)
        for y, row in enumerate(self.matrix):
            for x, dark in enumerate(row):
                if dark:
                    canvas.rect(
                        (x + 4) * module,
                        self.size - (y + 5) * module,
                        module,
                        module,
                        stroke=0,
                        fill=1,
                    )


def opening_days(value, note=""):
    """Plain-French lines of the days and hours, never a time-dependent status."""
    lines = opening_hours.describe(value)
    if lines:
        return lines
    if note:
        return [f"Horaires (tels que communiqués par le lieu) : {note.strip()[:200]}"]
    return ["Horaires non connus : appelez avant de venir."]


def place_block(structure, *, distance_km=None, commune=None):
    """The flowables of one place: name, where, phone in large type, days."""
    where = structure.address
    city = structure.commune.name if structure.commune_id else structure.city
    if city:
        where = f"{where}, {city}" if where else city
    if distance_km is not None and commune is not None and distance_km >= 1:
        where += f" — à {round(distance_km):d} km de {commune.name}"
    parts = [Paragraph(_text(structure.name), NAME), Paragraph(_text(where), BODY)]
    if structure.phone:
        parts.append(Paragraph(_text(validators.display_phone(structure.phone)), PHONE))
    else:
        parts.append(Paragraph("Pas de téléphone : venez sur place.", BODY))
    days = opening_days(structure.opening_hours, structure.opening_hours_note)
    parts.append(Paragraph(_text(" ; ".join(days[:3])), BODY))
    parts.append(Spacer(1, 3 * mm))
    return KeepTogether(parts)


def _footer(canvas, doc):
    canvas.saveState()
    canvas.setFont("Helvetica", 11)
    canvas.setFillColor(colors.HexColor("#3a3a3a"))
    canvas.drawString(
        18 * mm,
        10 * mm,
        _encodable(
            f"Médiation numérique Centre-Val de Loire — affiche à jour le "
            f"{timezone.localdate():%d/%m/%Y}. Page {doc.page}."
        ),
    )
    canvas.restoreState()


def _build(story, *, title):
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=title,
        author="Médiation numérique Centre-Val de Loire",
    )
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue(), doc.page


def nearest_places(commune, count=MOST_PLACES):
    """The published places nearest to the commune's point, with `distance_km`."""
    return list(
        Structure.objects.published()
        .near(commune.latitude, commune.longitude)
        .select_related("commune")[:count]
    )


def _closing(url, text):
    return Table(
        [[Paragraph(_text(text), BODY), QRCode(url, 38 * mm)]],
        colWidths=[130 * mm, 42 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BOX", (0, 0), (-1, -1), 1.5, NAVY),
                ("LEFTPADDING", (0, 0), (-1, -1), 4 * mm),
            ]
        ),
    )


def commune_poster(commune, *, search_url):
    """The A4 poster of `commune` as PDF bytes (one page)."""
    stops = list(
        Stop.objects.of_published()
        .filter(commune=commune)
        .select_related("structure")
        .order_by("place")
    )
    places = nearest_places(commune)
    for count in range(len(places), FEWEST_PLACES - 1, -1):
        story = [
            Paragraph("Besoin d’aide avec le numérique\u00a0?", TITLE),
            Paragraph(
                _text(
                    f"Près de chez vous, {french.pres_de(commune.name)}, des personnes vous "
                    "aident : utiliser un ordinateur ou un téléphone, faire une démarche en "
                    "ligne, imprimer un document. Appelez-les ou passez les voir."
                ),
                SUBTITLE,
            ),
        ]
        for stop in stops:
            hours = opening_days(stop.opening_hours, stop.note)
            story.append(
                KeepTogether(
                    [
                        Paragraph(_text(f"{stop.structure.name} passe à {commune.name}"), NAME),
                        Paragraph(_text(f"{stop.place} — {'; '.join(hours[:2])}"), BODY),
                        *(
                            [
                                Paragraph(
                                    _text(validators.display_phone(stop.structure.phone)), PHONE
                                )
                            ]
                            if stop.structure.phone
                            else []
                        ),
                        Spacer(1, 3 * mm),
                    ]
                )
            )
        for place in places[:count]:
            story.append(place_block(place, distance_km=place.distance_km, commune=commune))
        story.append(
            _closing(
                search_url,
                f"Tous les lieux près de {commune.name}, avec leurs horaires à jour : "
                f"scannez ce code avec votre téléphone, ou demandez à la mairie. "
                f"Adresse du site : {search_url}",
            )
        )
        pdf, pages = _build(story, title=f"Besoin d’aide avec le numérique ? — {commune.name}")
        if pages == 1 or count == FEWEST_PLACES or not places:
            return pdf
    return pdf


def bassin_booklet(bassin, *, page_url):
    """A booklet of every published place of `bassin`, one block each, as PDF bytes."""
    places = (
        Structure.objects.published()
        .in_bassin(bassin)
        .select_related("commune")
        .order_by("commune__name", "name")
    )
    story = [
        Paragraph("Besoin d’aide avec le numérique\u00a0?", TITLE),
        Paragraph(
            _text(
                f"Les lieux de médiation numérique du {french.bassin_de_vie(bassin.name)}, "
                "commune par commune. Appelez avant de vous déplacer."
            ),
            SUBTITLE,
        ),
        _closing(page_url, f"Ce livret en ligne, à jour : {page_url}"),
        Spacer(1, 6 * mm),
    ]
    for place in places:
        story.append(place_block(place))
    pdf, _pages = _build(story, title=f"Livret du {french.bassin_de_vie(bassin.name)}")
    return pdf


def cached_pdf(kind, key, build):
    """`build()`'s bytes, cached until the directory's data change."""
    stamp, _modified = structures_version()
    cache_key = f"poster:{kind}:{key}:{stamp}"
    pdf = cache.get(cache_key)
    if pdf is None:
        pdf = build()
        cache.set(cache_key, pdf, CACHE_TTL)
    return pdf
