"""French free-text hours → OpenStreetMap, or nothing when not fully understood."""

import pytest

from mediation.importers.hours import census_days, to_osm

WEEKDAYS = census_days("{Lundi,Mardi,Mercredi,Jeudi,Vendredi}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Du lundi au vendredi de 9h à 12h et de 14h à 17h", "Mo-Fr 09:00-12:00,14:00-17:00"),
        (
            "Du lundi au jeudi : 9h-12h 14h-17h Le vendredi : 9h-12h 14h-16h",
            "Mo-Th 09:00-12:00,14:00-17:00; Fr 09:00-12:00,14:00-16:00",
        ),
        (
            "Mardi : 10h-12h/14h-17h\nSamedi : 9 h 30 12 h",
            "Tu 10:00-12:00,14:00-17:00; Sa 09:30-12:00",
        ),
        ("mar-mer-jeu-ven 10h-12h et le sam 10h-12h30", "Tu-Fr 10:00-12:00; Sa 10:00-12:30"),
        ("Lundi : FERME  Mardi : 9h - 12h30", "Tu 09:00-12:30"),
        ("lundi :\t09:00–11:45, 13:30–16:30", "Mo 09:00-11:45,13:30-16:30"),
    ],
)
def test_schedules_with_days_are_converted(text, expected):
    assert to_osm(text) == expected


def test_times_without_days_take_the_census_days():
    assert (
        to_osm("9h à  12h /  14h à  17h", default_days=WEEKDAYS) == "Mo-Fr 09:00-12:00,14:00-17:00"
    )
    assert to_osm("9h à 12h") is None  # no day anywhere: nothing to say


@pytest.mark.parametrize(
    "text",
    [
        "2ème Jeudi du mois de 14h à 17h",
        "Du lundi au vendredi de 9h à 12h30, fermé les mardi après-midi",
        "En période scolaire : mercredi de 13h à 18h",
        "Sur RDV : 02.19.55.62.93",
        "Mercredi : 10H-12H ; 14H-16H (semaine paire) ou 16H-18H (semaine impaire)",
        "Lundi 25h-26h",
    ],
)
def test_anything_not_understood_is_left_as_text(text):
    assert to_osm(text, default_days=WEEKDAYS) is None
