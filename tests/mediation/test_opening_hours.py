"""Opening hours in plain French, and "open now / opens Tuesday at 9 h" in Paris time."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from mediation import opening_hours

PARIS = ZoneInfo("Europe/Paris")


def at(text):
    """An aware datetime in Paris: at("2026-06-01 10:00") is Monday 1 June 2026, 10 h."""
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.mark.parametrize(
    ("expression", "lines"),
    [
        (
            "Mo-Fr 09:00-12:00,14:00-17:00",
            ["Du lundi au vendredi : 9 h – 12 h et 14 h – 17 h"],
        ),
        (
            "Mo-Fr 09:00-12:00,13:30-17:00; PH off",
            ["Du lundi au vendredi : 9 h – 12 h et 13 h 30 – 17 h", "Fermé les jours fériés"],
        ),
        (
            # A later rule replaces an earlier one for the same day, as in OpenStreetMap.
            "Tu-Fr 14:00-18:00; We 10:00-12:00,14:00-18:00",
            ["Mardi, jeudi et vendredi : 14 h – 18 h", "Mercredi : 10 h – 12 h et 14 h – 18 h"],
        ),
        (
            "Mo,Tu,Th,Fr 09:00-12:00,14:00-17:00; We 09:00-12:00",
            [
                "Lundi, mardi, jeudi et vendredi : 9 h – 12 h et 14 h – 17 h",
                "Mercredi : 9 h – 12 h",
            ],
        ),
        ("Tu,Th 14:00-17:00", ["Mardi et jeudi : 14 h – 17 h"]),
        ("Th[2] 09:30-12:00", ["Le 2e jeudi du mois : 9 h 30 – 12 h"]),
        ("Tu[2,4] 14:00-17:00", ["Le 2e et le 4e mardi du mois : 14 h – 17 h"]),
        ("Sa[1] 09:00-12:00", ["Le 1er samedi du mois : 9 h – 12 h"]),
        ("Mo-Su 10:00-18:00", ["Tous les jours : 10 h – 18 h"]),
        ("24/7", ["Tous les jours, 24 heures sur 24"]),
        ("Mo-Fr 09:00-12:00; We off", ["Lundi, mardi, jeudi et vendredi : 9 h – 12 h"]),
        ("", []),
        ("pas des horaires", []),
    ],
)
def test_described_in_plain_french(expression, lines):
    assert opening_hours.describe(expression) == lines


def test_expressions_too_rich_to_summarise_list_the_coming_openings():
    lines = opening_hours.describe("Mo-Fr 09:00-12:00; Jul-Aug off")
    assert lines, "a valid expression is never left undescribed"
    assert all(" : " in line and " h" in line for line in lines)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Monday 1 June 2026
        ("2026-06-01 10:00", "Ouvert maintenant — ferme à 12 h"),
        ("2026-06-01 12:30", "Fermé — ouvre à 14 h"),
        ("2026-06-01 18:00", "Fermé — ouvre demain à 9 h"),
        # Friday evening: next opening on Monday
        ("2026-06-05 17:30", "Fermé — ouvre lundi à 9 h"),
        # Saturday
        ("2026-06-06 11:00", "Fermé — ouvre lundi à 9 h"),
    ],
)
def test_open_now_and_next_opening(now, expected):
    status = opening_hours.status("Mo-Fr 09:00-12:00,14:00-17:00", at(now))
    assert str(status) == expected


def test_opens_tuesday_at_9():
    # Sunday 7 June 2026, for a place open on Tuesdays only
    status = opening_hours.status("Tu 09:00-12:00", at("2026-06-07 15:00"))
    assert status.is_open is False
    assert str(status) == "Fermé — ouvre mardi à 9 h"


def test_far_next_opening_gives_the_date():
    # Friday 12 June 2026: the 2nd Thursday of June has passed, the next is 9 July.
    status = opening_hours.status("Th[2] 09:30-12:00", at("2026-06-12 10:00"))
    assert str(status) == "Fermé — ouvre jeudi 9 juillet à 9 h 30"


def test_public_holidays_are_french():
    # 14 July 2026 is a Tuesday and a public holiday.
    status = opening_hours.status("Mo-Fr 09:00-17:00; PH off", at("2026-07-14 10:00"))
    assert status.is_open is False
    assert status.detail == "ouvre demain à 9 h"


def test_paris_time_is_used_whatever_the_timezone_of_now():
    utc = datetime(2026, 6, 1, 7, 30, tzinfo=ZoneInfo("UTC"))  # 9 h 30 in Paris (summer)
    assert opening_hours.is_open("Mo-Fr 09:00-12:00", utc)
    assert not opening_hours.is_open("Mo-Fr 10:00-12:00", utc)


def test_unknown_hours():
    assert opening_hours.status("").label == "Horaires non renseignés"
    assert opening_hours.status("").is_open is None
    assert opening_hours.is_open("", at("2026-06-01 10:00")) is False


@pytest.mark.parametrize(
    ("expression", "saturday"),
    [
        ("Tu-Sa 10:00-12:00", True),
        ("Sa[1] 09:00-12:00", True),  # the first Saturday of the month counts
        ("Mo-Fr 09:00-17:00", False),
        ("", False),
    ],
)
def test_opens_on_saturday(expression, saturday):
    assert opening_hours.opens_on_saturday(expression, at("2026-06-01 10:00")) is saturday
