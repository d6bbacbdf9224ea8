"""Opening hours as the sources give them → OpenStreetMap `opening_hours`.

Three inputs, one output (`Conversion`: the OSM value and the text to keep):

- the census's structured columns (`c_jours_semaine` "{Lundi,Mardi}",
  `c_heure_debut_matin`, `c_heure_fin_matin`, `c_heure_debut_aprem`,
  `c_heure_fin_aprem`) → `from_census_fields()`;
- free French text ("Du lundi au vendredi de 9h à 12h et de 14h à 17h",
  "mardi et jeudi 14h-18h", "le samedi matin 9h30-12h", "fermé le mercredi",
  "sauf jours fériés", "le 1er mardi du mois", "sur rendez-vous") →
  `convert()`;
- a value already in OSM syntax (the national standard's `horaires`).

Wrong hours are worse than none: a word the parser does not know ("vacances",
"semaine paire", "planification", "pas ouvert tous les samedis"…) may change
the meaning, so such a text gives no OSM value and is kept whole as text. Two
kinds of words are understood without being expressible in OSM ("sur
rendez-vous", "accueil libre"), and sentences that say nothing about time
("De nombreux services offerts.") are left aside: in both cases the schedule
is converted and the source's text is kept beside it, word for word.
Every value produced is checked by the OSM parser (opening-hours-py).
"""

import itertools
import re
import unicodedata
from dataclasses import dataclass, field

from mediation.opening_hours import parse

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
DAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
DAY_WORDS = {
    "lundi": 0,
    "lun": 0,
    "mardi": 1,
    "mar": 1,
    "mercredi": 2,
    "mer": 2,
    "jeudi": 3,
    "jeu": 3,
    "vendredi": 4,
    "ven": 4,
    "samedi": 5,
    "sam": 5,
    "dimanche": 6,
    "dim": 6,
}
# Census column `c_jours_semaine` ("{Lundi,Mardi}"); "Inconnu" says nothing.
CENSUS_DAYS = {name.capitalize(): number for number, name in enumerate(DAYS_FR)}
# Words that carry no meaning for the schedule.
FILLER = {
    "de",
    "du",
    "le",
    "les",
    "l",
    "la",
    "et",
    "puis",
    "h",
    "horaires",
    "horaire",
    "d",
    "ouverture",
    "ouvertures",
    "ouvert",
    "ouverte",
    "jours",
    "jour",
    "heures",
    "journee",  # "(journée continue)": no lunch break, already in the times
    "continue",
}
# Understood, but OSM cannot say it: the schedule is converted and the text kept.
KEPT_AS_TEXT = {"sur", "sans", "rdv", "rendez", "vous", "accueil", "libre", "en"}
RANGE_WORDS = {"au", "a"}  # "du lundi au vendredi", "lundi à jeudi"
CLOSED_WORDS = {"ferme", "fermee", "fermes", "fermees", "fermeture"}
HOLIDAY_WORDS = {"ferie", "feries"}
MORNING_WORDS = {"matin", "matins", "matinee"}
EACH_WORDS = {"chaque", "tous"}  # only before an ordinal: "tous les 1er vendredis"
# A sentence with none of these says nothing about when the place is open.
TIME_SIGNAL = re.compile(
    r"\d|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|ferm|sauf|feri|vacance|scolaire"
    r"|periode|semaine|mois|janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre"
    r"|octobre|novembre|decembre|ete|hiver|matin|midi|soir|rdv|rendez|horaire|ouvert"
)

TOKEN = re.compile(
    r"(?P<colon>(?<!\d)(?P<ch>\d{1,2}):(?P<cm>\d{2})(?!\d))"
    r"|(?P<ordinal>(?<!\d)(?P<n>[1-5])\s*(?:er|ere|re|eme|e|nd|nde)(?![a-z]))"
    # "15h18h" is two times, but "09h30h" (no hour 30) is half past nine.
    r"|(?P<hour>(?<!\d)(?P<hh>\d{1,2})\s*(?:heures?|h)"
    r"(?:\s*(?:(?P<hm>\d{2})(?!\s*h)|(?P<hm2>2[5-9]|[3-5]\d)\s*h(?![a-z])))?)"
    r"|(?P<number>(?<!\d)\d+(?!\d))"
    r"|(?P<word>[a-z]+)"
    r"|(?P<punct>\S)"
)
NOON = 12 * 60
MORNING, AFTERNOON = "am", "pm"


@dataclass(frozen=True)
class Conversion:
    """`opening_hours`: the OSM value ("" when not understood); `note`: text to keep."""

    opening_hours: str = ""
    note: str = ""


def _normalize(text):
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("–", "-").replace("—", "-").replace("’", "'")
    # "Fermé au public" / "accueil du public": "au" here is not a range of days.
    text = re.sub(r"\b(?:au|du)\s+public\b", " ", text)
    text = re.sub(r"\bapres[\s-]*midis?\b|\baprem\b", " apresmidi ", text)
    return _DAY_CHAIN.sub(_day_chain, text)


_DAY = r"\b(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lun|mar|mer|jeu|ven|sam|dim)s?\b"
_DAY_CHAIN = re.compile(rf"{_DAY}(?:\s*-\s*{_DAY})+")


def _day_chain(match):
    """ "lundi-vendredi" is a range; "lundi - mardi - jeudi" a list."""
    days = re.split(r"\s*-\s*", match.group(0))
    return f" {days[0]} au {days[1]} " if len(days) == 2 else " , ".join(days)


def _tokens(text):
    """(kind, value) pairs, and whether words OSM cannot say were met; None if not understood."""
    tokens, kept = [], False
    for match in TOKEN.finditer(_normalize(text)):
        if match.group("colon"):
            tokens.append(("time", (int(match["ch"]), int(match["cm"]))))
        elif match.group("ordinal"):
            tokens.append(("ordinal", int(match["n"])))
        elif match.group("hour"):
            tokens.append(("time", (int(match["hh"]), int(match["hm"] or match["hm2"] or 0))))
        elif match.group("number"):
            tokens.append(("number", int(match.group("number"))))
        elif match.group("word"):
            word = match.group("word")
            if word in DAY_WORDS or word.rstrip("s") in DAY_WORDS:
                tokens.append(("day", DAY_WORDS.get(word, DAY_WORDS.get(word.rstrip("s")))))
            elif word in RANGE_WORDS:
                tokens.append(("to", word))
            elif word in CLOSED_WORDS:
                tokens.append(("closed", word))
            elif word == "sauf":
                tokens.append(("except", word))
            elif word in HOLIDAY_WORDS:
                tokens.append(("holidays", word))
            elif word in MORNING_WORDS:
                tokens.append(("part", MORNING))
            elif word == "apresmidi":
                tokens.append(("part", AFTERNOON))
            elif word == "midi":
                tokens.append(("time", (12, 0)))
            elif word == "mois":
                tokens.append(("month", word))
            elif word in EACH_WORDS:
                tokens.append(("each", word))
            elif word in KEPT_AS_TEXT:
                kept = True
            elif word in FILLER:
                continue
            else:
                return None, kept
        # Punctuation (":", "/", "-", ",", ";", ".", "(") only separates.
    return tokens, kept


@dataclass
class _Group:
    """Days (weekday, nths or None), times, and how they apply."""

    days: list = field(default_factory=list)
    times: list = field(default_factory=list)
    closed: bool = False
    exception: bool = False  # after "sauf": replaces what was said for these days
    part: str | None = None  # "matin" / "après-midi"
    closed_after_days: bool = False  # "Lundi : fermé" rather than "fermé le lundi"
    holidays: bool = False  # "sauf jours fériés", "fermé les jours fériés"

    def is_empty(self):
        if self.holidays and not (self.days or self.times):
            return True  # said all it had to say: PH off
        return not (self.days or self.times or self.closed or self.exception or self.part)


def _groups(tokens):
    """([_Group…], holidays_off) from the token list, or None when it cannot be read."""
    groups = [_Group()]
    holidays_off = False
    nths = []  # ordinals waiting for their day ("le 1er et 3e lundi")
    previous = None
    for position, (kind, value) in enumerate(tokens):
        group = groups[-1]
        if kind == "day":
            # "Lundi : fermé  Mardi : 9h-12h" starts a new group at "Mardi";
            # "fermé le mercredi et le jeudi" does not.
            if group.times or (group.closed and group.closed_after_days):
                group = _Group()
                groups.append(group)
            if previous == "to" and group.days:
                start, start_nths = group.days[-1]
                if value <= start or start_nths or nths:
                    return None
                group.days.extend((day, None) for day in range(start + 1, value + 1))
            else:
                group.days.append((value, tuple(nths) if nths else None))
                nths = []
        elif kind == "time":
            if group.closed and not group.part:
                return None  # "fermé 9h-12h": open or closed?
            group.times.append(value)
        elif kind == "number":
            # "9h-17": a bare hour after a time of the same range.
            if previous != "time" or len(group.times) % 2 == 0:
                return None
            group.times.append((value, 0))
            kind = "time"
        elif kind == "closed":
            if group.times or group.closed or group.exception:
                group = _Group()
                groups.append(group)
            group.closed = True
            group.closed_after_days = bool(group.days)
        elif kind == "except":
            group = _Group(exception=True)
            groups.append(group)
        elif kind == "holidays":
            if not (group.closed or group.exception):
                return None  # "ouvert les jours fériés"?
            holidays_off = True
            group.holidays = True
        elif kind == "part":
            if group.part not in (None, value):
                return None
            group.part = value
        elif kind == "ordinal":
            nths.append(value)
        elif kind == "month":
            if nths:
                # "Samedi 10h-12h (2e et 4e du mois)": the ordinals follow the day.
                if not group.days or any(n for _day, n in group.days):
                    return None
                group.days = [(day, tuple(nths)) for day, _none in group.days]
                nths = []
            elif not any(n for _day, n in group.days):
                return None
        elif kind == "each":
            following = tokens[position + 1][0] if position + 1 < len(tokens) else None
            if following != "ordinal":
                return None
        elif kind == "to" and previous not in ("day", "time"):
            return None
        previous = kind
    if nths:
        return None
    return [g for g in groups if not g.is_empty()], holidays_off


def _minutes(time):
    return time[0] * 60 + time[1]


def _ranges(times, part):
    """[(start, end)] in minutes from a flat list of times, checked; None if impossible."""
    if len(times) % 2:
        return None
    ranges = []
    for start, end in zip(times[::2], times[1::2], strict=True):
        if not (_valid_time(*start) and _valid_time(*end)):
            return None
        start, end = _minutes(start), _minutes(end)
        if end <= start:
            return None
        ranges.append((start, end))
    # "le samedi matin 9h30-12h": the times must be those of the morning.
    if part == MORNING and any(end > 14 * 60 for _start, end in ranges):
        return None
    if part == AFTERNOON and any(start < 11 * 60 + 30 for start, _end in ranges):
        return None
    return ranges


def _valid_time(hour, minute):
    return 0 <= hour <= 24 and 0 <= minute < 60 and not (hour == 24 and minute)


def _without_part(ranges, part):
    """`ranges` closed for the morning or afternoon; None when a range spans both."""
    kept = []
    for start, end in ranges:
        in_morning = end <= 14 * 60
        in_afternoon = start >= NOON
        if not (in_morning or in_afternoon):
            return None  # "9h-17h, fermé le mardi matin": until when?
        if (part == MORNING and in_afternoon) or (part == AFTERNOON and in_morning):
            kept.append((start, end))
    return kept


def _schedule(groups, holidays_off, default_days):
    """{(weekday, nths): [(start, end)…]} from the groups, or None."""
    schedule = {}
    for index, group in enumerate(groups):
        days = group.days
        if not days:
            if index or not default_days:
                return None  # times with no day, other than at the very start
            days = [(day, None) for day in default_days]
        if (group.closed or group.exception) and group.part and len(days) > 1:
            return None  # "fermé le mercredi et vendredi matin": all of Wednesday?
        if group.closed and group.times:
            # "Mardi : fermé le matin / 13h45 – 17h30": the times are the rest of the day.
            other = AFTERNOON if group.part == MORNING else MORNING
            ranges = _ranges(group.times, other)
            if ranges is None:
                return None
            for day in days:
                schedule[day] = ranges
        elif group.closed or (group.exception and not group.times):
            for day in days:
                if group.part is None:
                    schedule[day] = []
                elif day in schedule:
                    kept = _without_part(schedule[day], group.part)
                    if kept is None:
                        return None
                    schedule[day] = kept
        else:
            ranges = _ranges(group.times, group.part)
            if not ranges:
                return None
            for day in days:
                if group.exception or day not in schedule:
                    schedule[day] = list(ranges)
                else:
                    schedule[day] = schedule[day] + ranges
    for ranges in schedule.values():
        ranges.sort()
        if any(a[1] > b[0] for a, b in itertools.pairwise(ranges)):
            return None  # overlapping times: "9h-17h … le mercredi 9h-12h" adds or replaces?
    weekdays_plain = {day for (day, nths), ranges in schedule.items() if not nths and ranges}
    if any(nths and day in weekdays_plain for day, nths in schedule):
        return None  # every Tuesday and the 1st Tuesday: which wins?
    if not any(schedule.values()):
        return None
    return schedule


def _format_days(days):
    """[0, 1, 2, 4] → "Mo-We,Fr"."""
    parts, run = [], []
    for day in sorted(set(days)):
        if run and day == run[-1] + 1:
            run.append(day)
            continue
        if run:
            parts.append(run)
        run = [day]
    if run:
        parts.append(run)
    return ",".join(
        DAYS[r[0]] if len(r) == 1 else f"{DAYS[r[0]]}{'-' if len(r) > 2 else ','}{DAYS[r[-1]]}"
        for r in parts
    )


def _format_ranges(ranges):
    return ",".join(
        f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in sorted(set(ranges))
    )


def _format(schedule, holidays_off):
    by_ranges = {}
    rules = []
    for (day, nths), ranges in sorted(schedule.items(), key=lambda item: (bool(item[0][1]),)):
        if not ranges:
            continue
        if nths:
            rules.append(f"{DAYS[day]}[{','.join(str(n) for n in nths)}] {_format_ranges(ranges)}")
        else:
            by_ranges.setdefault(tuple(sorted(set(ranges))), []).append(day)
    weekly = [
        f"{_format_days(days)} {_format_ranges(ranges)}"
        for ranges, days in sorted(by_ranges.items(), key=lambda item: min(item[1]))
    ]
    rules = weekly + rules
    if holidays_off:
        rules.append("PH off")
    return "; ".join(rules)


def _sentences(text):
    """The text split where a sentence ends (". Capital"), newlines kept inside."""
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý])", text.strip()) if s.strip()]


def convert(text, *, default_days=()):
    """The OSM form of a French schedule and the text to keep beside it.

    `default_days` applies to times given without any day ("9h-12h / 14h-17h"
    with the census's days in another column). When the text is not fully
    understood, `opening_hours` is "" and `note` is the whole text.
    """
    text = (text or "").strip()
    if not text:
        return Conversion()
    not_understood = Conversion("", text)
    about_time = [s for s in _sentences(text) if TIME_SIGNAL.search(_normalize(s))]
    aside = len(about_time) < len(_sentences(text))
    tokens, kept = _tokens(" ".join(about_time))
    if not tokens:
        return not_understood
    read = _groups(tokens)
    if read is None:
        return not_understood
    groups, holidays_off = read
    schedule = _schedule(groups, holidays_off, tuple(default_days))
    if schedule is None:
        return not_understood
    value = _format(schedule, holidays_off)
    if parse(value) is None:
        return not_understood
    return Conversion(value, text if (kept or aside) else "")


def to_osm(text, *, default_days=()):
    """The OpenStreetMap form of a French schedule, or None if not fully understood."""
    return convert(text, default_days=default_days).opening_hours or None


def census_days(value):
    """Day numbers of a census `c_jours_semaine` value ("{Lundi,Mardi}")."""
    names = (value or "").strip().strip("{}").split(",")
    return sorted({CENSUS_DAYS[name.strip()] for name in names if name.strip() in CENSUS_DAYS})


_CLOCK = re.compile(r"^\s*(\d{1,2})\s*(?:[:h]\s*(\d{2})?)?(?::\d{2}(?:\.\d+)?)?\s*$", re.IGNORECASE)


def _clock(value):
    """ "09:00", "9h30", "14:00:00", "9" → (hours, minutes); None when blank or unreadable."""
    match = _CLOCK.match(str(value or ""))
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    return (hour, minute) if _valid_time(hour, minute) else None


def from_census_fields(days, start_morning, end_morning, start_afternoon, end_afternoon):
    """OSM hours from the census's structured columns, or None when they are incomplete.

    A morning or afternoon needs both ends; a day with a start in the morning
    and an end in the afternoon only is a continuous day ("9h–17h").
    """
    days = census_days(days) if isinstance(days, str) else sorted(days)
    times = [_clock(v) for v in (start_morning, end_morning, start_afternoon, end_afternoon)]
    given = [
        v
        for v in (start_morning, end_morning, start_afternoon, end_afternoon)
        if str(v or "").strip()
    ]
    if not days or not given or len([t for t in times if t]) != len(given):
        return None  # no day, nothing given, or a time that cannot be read
    sm, em, sa, ea = times
    if sm and em and sa and ea:
        ranges = [(sm, em), (sa, ea)]
    elif sm and em and not (sa or ea):
        ranges = [(sm, em)]
    elif sa and ea and not (sm or em):
        ranges = [(sa, ea)]
    elif sm and ea and not (em or sa):
        ranges = [(sm, ea)]
    else:
        return None
    flat = [t for r in ranges for t in r]
    minutes = _ranges(flat, None)
    if minutes is None or any(a[1] > b[0] for a, b in itertools.pairwise(minutes)):
        return None
    value = f"{_format_days(days)} {_format_ranges(minutes)}"
    return value if parse(value) else None


def from_osm_or_text(value, *, default_days=()):
    """A source's hours column that should be OSM but may be French text (the standard's `horaires`)."""
    value = (value or "").strip()
    if not value:
        return Conversion()
    if parse(value) is not None:
        return Conversion(value, "")
    return convert(value, default_days=default_days)


def census_hours(get):
    """(Conversion, remark) from a census row; `get(column)` returns the column's text.

    Sources, best first: the free text `c_horaire_ouverture`, the structured
    columns, then hours typed by mistake in `c_public_cible`. Every source
    text not converted stays in the note, with `c_autres_horaires`; the days
    alone become a note line.
    """
    days = census_days(get("c_jours_semaine"))
    text = get("c_horaire_ouverture")
    if text in {"True", "False"}:  # a checkbox value stored in the text column
        text = ""
    public_text = get("c_public_cible") if looks_like_hours(get("c_public_cible")) else ""
    structured = from_census_fields(
        days,
        get("c_heure_debut_matin"),
        get("c_heure_fin_matin"),
        get("c_heure_debut_aprem"),
        get("c_heure_fin_aprem"),
    )
    candidates = [(text, convert(text, default_days=days))]
    if structured:
        candidates.append(("", Conversion(structured, "")))
    candidates.append((public_text, convert(public_text, default_days=days)))
    chosen_text, chosen = next(
        ((t, c) for t, c in candidates if c.opening_hours), ("", Conversion())
    )
    notes = []
    for source in (text, public_text):
        # Kept unless it was converted whole.
        if source and not (source == chosen_text and not chosen.note):
            notes.append(source)
    if get("c_autres_horaires"):  # "other hours" (holidays…): text only, never guessed
        notes.append(get("c_autres_horaires"))
    if not chosen.opening_hours and days and not (text or public_text):
        notes.append("Jours d’ouverture : " + ", ".join(DAYS_FR[d] for d in days))
    remark = ""
    if not chosen.opening_hours and (text or public_text):
        remark = "horaires non convertis en format OpenStreetMap, gardés en texte"
    return Conversion(chosen.opening_hours, "\n".join(notes)), remark


def looks_like_hours(text):
    """Whether a text of another column holds hours ("10h-18h")."""
    return bool(re.search(r"\d\s*h|\d:\d\d", text or "", re.IGNORECASE))
