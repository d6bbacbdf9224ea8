"""Cleaning of phones, postal codes, e-mails, URLs found in source files."""

from mediation.importers import values


def test_phones_become_international():
    assert values.phone("02 54 00 00 00") == "+33254000000"
    assert values.phone("02.54.00.00.00") == "+33254000000"
    assert values.phone("+33 2 54 00 00 00") == "+33254000000"
    assert values.phone(254000000) == "+33254000000"  # an integer that lost its 0
    assert values.phone("-") == ""
    assert values.phone("Sur RDV") == ""


def test_postal_codes_get_their_five_digits():
    assert values.postal_code(36000) == "36000"
    assert values.postal_code(1000) == "01000"
    assert values.postal_code("#N/D") == ""


def test_emails_are_found_anywhere_and_deduplicated():
    assert values.emails("a@exemple.fr, b@exemple.fr / a@exemple.fr") == [
        "a@exemple.fr",
        "b@exemple.fr",
    ]
    assert values.emails("Public") == []


def test_urls_get_a_scheme_or_are_refused():
    assert values.url("www.exemple.fr") == "https://www.exemple.fr"
    assert values.url("facebook :  juliemsap") == ""


def test_siren_zero_means_unknown():
    assert values.siren_or_siret("000000000") == ""
    assert values.siren_or_siret(34806402) == "034806402"
    assert values.siren_or_siret("213702616") == "213702616"
