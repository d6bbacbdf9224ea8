"""Opening hours in the OpenStreetMap `opening_hours` syntax.

Parsing and evaluation are done by `opening-hours-py`; this module turns them
into what the site needs: a validator with a French message, a description in
plain French, and "open now / opens Tuesday at 9 h" in Europe/Paris time.
"""

import functools
import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from opening_hours import OpeningHours, ParserError, State


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


# --- Plain French -------------------------------------------------------------

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
DAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTH_NAMES = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
SATURDAY = 5

_TIME = r"\d{1,2}:\d{2}-\d{1,2}:\d{2}"
_RULE = re.compile(
    rf"^(?:(?P<days>[A-Za-z\[\]\d,\- ]+?)\s+)?(?P<times>off|closed|{_TIME}(?:\s*,\s*{_TIME})*)$"
)
_DAY_ITEM = re.compile(r"^(?P<start>Mo|Tu|We|Th|Fr|Sa|Su)(?:-(?P<end>Mo|Tu|We|Th|Fr|Sa|Su))?$")
_NTH_ITEM = re.compile(r"^(?P<day>Mo|Tu|We|Th|Fr|Sa|Su)\[(?P<nths>-?\d(?:,-?\d)*)\]$")


@functools.lru_cache(maxsize=512)
def _parsed(value):
    """The expression, evaluated with French public holidays (cached: a few dozen distinct)."""
    try:
        return OpeningHours(value, country="FR")
    except (ParserError, ValueError):
        return None


def format_time(text):
    """ "09:00" → "9 h", "13:30" → "13 h 30"."""
    hours, minutes = text.split(":")
    hours = int(hours)
    if hours == 24:
        hours = 0 if minutes != "00" else 24
    return f"{hours} h" if minutes == "00" else f"{hours} h {minutes}"


def _format_moment(moment):
    return format_time(f"{moment.hour}:{moment.minute:02d}")


def join_words(words):
    """["a", "b", "c"] → "a, b et c"."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " et " + words[-1]


def _times_text(times):
    return join_words(f"{format_time(a)} – {format_time(b)}" for a, b in times)


def _days_text(days):
    """Sorted weekday indexes → "Du lundi au vendredi", "Mardi et jeudi", …"""
    if len(days) == 7:
        return "Tous les jours"
    runs, run = [], [days[0]]
    for day in days[1:]:
        if day == run[-1] + 1:
            run.append(day)
        else:
            runs.append(run)
            run = [day]
    runs.append(run)
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"du {DAY_NAMES[run[0]]} au {DAY_NAMES[run[-1]]}")
        else:
            parts.extend(DAY_NAMES[day] for day in run)
    text = join_words(parts)
    return text[:1].upper() + text[1:]


def _ordinal(n):
    if n == -1:
        return "dernier"
    return "1er" if n == 1 else f"{n}e"


def _parse_days(selector):
    """(weekday indexes, {weekday: nths}) of a selector such as "Mo-We,Fr" or "Th[2]"."""
    plain, nth = set(), {}
    for item in re.split(r",(?![^\[]*\])", selector.replace(" ", "")):
        if match := _DAY_ITEM.match(item):
            start = DAYS.index(match["start"])
            end = DAYS.index(match["end"] or match["start"])
            span = range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)]
            plain.update(span)
        elif match := _NTH_ITEM.match(item):
            nths = tuple(int(n) for n in match["nths"].split(","))
            nth[DAYS.index(match["day"])] = nths
        else:
            raise ValueError(item)
    return plain, nth


def describe(value):
    """Lines in plain French for an `opening_hours` expression; [] when empty or unreadable.

    >>> describe("Mo-Fr 09:00-12:00,14:00-17:00")
    ['Du lundi au vendredi : 9 h – 12 h et 14 h – 17 h']
    """
    value = (value or "").strip()
    if not value or parse(value) is None:
        return []
    if value in {"24/7", "Mo-Su 00:00-24:00"}:
        return ["Tous les jours, 24 heures sur 24"]
    try:
        return _describe_rules(value)
    except ValueError:
        return _describe_upcoming(value)


def _describe_rules(value):
    weekly = {}  # weekday → times; a later rule replaces an earlier one, as in OSM
    monthly = {}  # (weekday, nths) → times
    holidays_closed = False
    for rule in (part.strip() for part in value.split(";")):
        if not rule:
            continue
        if rule in {"PH off", "PH closed"}:
            holidays_closed = True
            continue
        match = _RULE.match(rule)
        if not match:
            raise ValueError(rule)
        times = None
        if match["times"] not in {"off", "closed"}:
            times = tuple(tuple(span.strip().split("-")) for span in match["times"].split(","))
        plain, nth = _parse_days(match["days"]) if match["days"] else (set(range(7)), {})
        for day in plain:
            weekly[day] = times
            for key in [key for key in monthly if key[0] == day]:
                del monthly[key]
        for day, nths in nth.items():
            monthly[(day, nths)] = times
    lines = []
    groups = {}
    for day in sorted(weekly):
        if weekly[day]:
            groups.setdefault(weekly[day], []).append(day)
    for times, days in sorted(groups.items(), key=lambda item: item[1][0]):
        lines.append(f"{_days_text(days)} : {_times_text(times)}")
    for (day, nths), times in sorted(monthly.items()):
        if times:
            which = join_words(f"le {_ordinal(n)}" for n in nths)
            text = f"{which} {DAY_NAMES[day]} du mois : {_times_text(times)}"
            lines.append(text[:1].upper() + text[1:])
    if holidays_closed:
        lines.append("Fermé les jours fériés")
    return lines


def _describe_upcoming(value, days=14):
    """For expressions too rich to summarise: the openings of the next two weeks."""
    start = local_now().replace(hour=0, minute=0, second=0, microsecond=0)
    by_date = {}
    for begin, end, state, _comment in _parsed(value).intervals(start, start + timedelta(days)):
        if state == State.OPEN:
            by_date.setdefault(begin.date(), []).append(
                f"{_format_moment(begin)} – {_format_moment(end)}"
            )
    return [
        f"{_date_text(date).capitalize()} : {join_words(spans)}" for date, spans in by_date.items()
    ]


# --- Open now -----------------------------------------------------------------


def local_now(now=None):
    """`now` (aware, default: the current time) as a naive Europe/Paris datetime."""
    return timezone.localtime(now or timezone.now(), PARIS).replace(tzinfo=None)


PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class OpeningStatus:
    is_open: bool | None  # None: not known
    label: str  # "Ouvert maintenant", "Fermé"
    detail: str = ""  # "ferme à 12 h", "ouvre mardi à 9 h"

    def __str__(self):
        return f"{self.label} — {self.detail}" if self.detail else self.label


def _date_text(date):
    return f"{DAY_NAMES[date.weekday()]} {date.day}{'er' if date.day == 1 else ''} {MONTH_NAMES[date.month - 1]}"


def _when(moment, now):
    """ "à 14 h", "demain à 9 h", "mardi à 9 h", "jeudi 12 juin à 9 h"."""
    days = (moment.date() - now.date()).days
    at = f"à {_format_moment(moment)}"
    if days == 0:
        return at
    if days == 1:
        return f"demain {at}"
    if days < 7:
        return f"{DAY_NAMES[moment.weekday()]} {at}"
    return f"{_date_text(moment.date())} {at}"


def status(value, now=None, *, note=""):
    """Whether the place is open at `now` (Europe/Paris), and when that changes.

    `note`: the hours as the place gave them in text; when `value` is empty
    the status then points to that text rather than saying "non renseignés".
    """
    oh = _parsed((value or "").strip()) if value and value.strip() else None
    if oh is None:
        if note and note.strip():
            return OpeningStatus(None, "Horaires communiqués par le lieu", "voir la fiche")
        return OpeningStatus(None, "Horaires non renseignés")
    moment = local_now(now)
    state, _comment = oh.state(moment)
    following = oh.next_change(moment)
    if state == State.OPEN:
        detail = f"ferme {_when(following, moment)}" if following else ""
        return OpeningStatus(True, "Ouvert maintenant", detail)
    if state == State.CLOSED:
        if following is None or following - moment > timedelta(days=366):
            return OpeningStatus(False, "Fermé")
        return OpeningStatus(False, "Fermé", f"ouvre {_when(following, moment)}")
    return OpeningStatus(None, "Horaires à confirmer")


def is_open(value, now=None):
    """True when `value` says open at `now`; False when closed or unknown."""
    oh = _parsed(value.strip()) if value and value.strip() else None
    return bool(oh) and oh.state(local_now(now))[0] == State.OPEN


def opens_on_saturday(value, now=None):
    """True when the place opens on at least one Saturday of the coming five weeks."""
    if not value or not value.strip():
        return False
    return _opens_on_saturday(value.strip(), local_now(now).date())


@functools.lru_cache(maxsize=1024)
def _opens_on_saturday(value, today):
    oh = _parsed(value)
    if oh is None:
        return False
    start = datetime.combine(today, time())
    for begin, end, state, _comment in oh.intervals(start, start + timedelta(days=35)):
        if state != State.OPEN:
            continue
        day = begin
        while day < end:
            if day.weekday() == SATURDAY:
                return True
            day = datetime.combine(day.date() + timedelta(days=1), time())
    return False
