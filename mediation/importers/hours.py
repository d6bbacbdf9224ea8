"""French free-text opening hours → OpenStreetMap `opening_hours`.

Census rows say "Du lundi au jeudi : 9h-12h 14h-17h Le vendredi : 9h-12h" or
"9h à 12h / 14h à 17h" with the days in another column. `to_osm()` converts
what it fully understands and returns None otherwise: a word it does not know
("sauf", "matin", "vacances", "1er", "rendez-vous"…) may change the meaning,
so such a text is kept as text (and reported) rather than half-converted.
"""

import re
import unicodedata

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
# Census column `c_jours_semaine` ("{Lundi,Mardi}").
CENSUS_DAYS = {
    "Lundi": 0,
    "Mardi": 1,
    "Mercredi": 2,
    "Jeudi": 3,
    "Vendredi": 4,
    "Samedi": 5,
    "Dimanche": 6,
}
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
    "jours",
    "heures",
    "accueil",
    "public",
    "journee",  # "(journée continue)": no lunch break, already in the times
    "continue",
}
RANGE_WORDS = {"au", "a"}  # "du lundi au vendredi", "lundi à jeudi"
CLOSED_WORDS = {"ferme", "fermee"}

TOKEN = re.compile(
    r"(?P<colon>(?<!\d)(\d{1,2}):(\d{2})(?!\d))"
    r"|(?P<hour>(?<!\d)(\d{1,2})\s*(?:heures?|h)(?:\s*(\d{2})(?!\s*h))?)"
    r"|(?P<number>(?<!\d)\d+(?!\d))"
    r"|(?P<word>[a-z]+)"
    r"|(?P<punct>\S)"
)


def _normalize(text):
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return text.replace("–", "-").replace("—", "-").replace("’", "'")


def _tokens(text):
    """(kind, value) pairs; None when the text holds something not understood."""
    tokens = []
    for match in TOKEN.finditer(_normalize(text)):
        if match.group("colon"):
            tokens.append(("time", (int(match.group(2)), int(match.group(3)))))
        elif match.group("hour"):
            tokens.append(("time", (int(match.group(5)), int(match.group(6) or 0))))
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
            elif word in FILLER:
                continue
            else:
                return None
        # Punctuation (":", "/", "-", ",", ";", ".") only separates.
    return tokens


def _valid_time(hour, minute):
    return 0 <= hour <= 24 and 0 <= minute < 60 and not (hour == 24 and minute)


def _groups(tokens):
    """[(days, [times…], closed)] from the token list, or None."""
    groups = []
    days, times, closed = [], [], False
    previous = None
    for kind, value in tokens:
        if kind == "day":
            if times or closed:
                groups.append((days, times, closed))
                days, times, closed = [], [], False
            if previous == "to" and days:
                start = days[-1]
                if value <= start:
                    return None
                days.extend(range(start + 1, value + 1))
            else:
                days.append(value)
        elif kind == "time":
            times.append(value)
        elif kind == "number":
            # "9h-17": a bare hour after a time of the same range.
            if previous != "time" or len(times) % 2 == 0:
                return None
            times.append((value, 0))
            kind = "time"
        elif kind == "closed":
            if times:
                return None
            closed = True
        elif kind == "to" and previous not in ("day", "time"):
            return None
        previous = kind
    groups.append((days, times, closed))
    return groups


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


def census_days(value):
    """Day numbers of a census `c_jours_semaine` value ("{Lundi,Mardi}")."""
    names = (value or "").strip().strip("{}").split(",")
    return sorted({CENSUS_DAYS[name.strip()] for name in names if name.strip() in CENSUS_DAYS})


def to_osm(text, *, default_days=()):
    """The OpenStreetMap form of a French schedule, or None if not fully understood.

    `default_days` applies to times given without any day ("9h-12h / 14h-17h").
    """
    if not text or not text.strip():
        return None
    tokens = _tokens(text)
    if not tokens:
        return None
    groups = _groups(tokens)
    if groups is None:
        return None
    schedule = {}  # day → list of (start, end)
    for days, times, closed in groups:
        if not days:
            days = list(default_days)
        if not days or (not times and not closed) or len(times) % 2:
            return None
        if closed:
            continue
        ranges = []
        for start, end in zip(times[::2], times[1::2], strict=True):
            if not (_valid_time(*start) and _valid_time(*end)) or end <= start:
                return None
            ranges.append((start, end))
        for day in days:
            schedule.setdefault(day, []).extend(ranges)
    if not schedule:
        return None
    by_ranges = {}
    for day, ranges in sorted(schedule.items()):
        key = tuple(sorted(set(ranges)))
        by_ranges.setdefault(key, []).append(day)
    rules = []
    for ranges, days in sorted(by_ranges.items(), key=lambda item: min(item[1])):
        times = ",".join(f"{s[0]:02d}:{s[1]:02d}-{e[0]:02d}:{e[1]:02d}" for s, e in ranges)
        rules.append(f"{_format_days(days)} {times}")
    value = "; ".join(rules)
    return value if parse(value) is not None else None
