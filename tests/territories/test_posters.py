"""Posters for town halls: read back as a person would (the text of the PDF) and as a
phone would (the QR code, decoded from the printed page)."""

import shutil
import subprocess

import pytest

from mediation import choices, validators
from mediation.models import Structure
from tests.factories import StopFactory, StructureFactory, commune

pytestmark = pytest.mark.django_db

TOOLS = ("pdftotext", "pdftoppm", "zbarimg")


@pytest.fixture(autouse=True)
def tools():
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    # make test installs them (poppler-utils, zbar-tools): missing means a broken machine.
    assert not missing, f"Outils manquants : {missing} (apt-get install poppler-utils zbar-tools)"


def pdf_text(pdf, tmp_path):
    path = tmp_path / "affiche.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_pages(pdf, tmp_path):
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(
        next(line for line in info.stdout.splitlines() if line.startswith("Pages:")).split()[-1]
    )


def qr_codes(pdf, tmp_path):
    path = tmp_path / "qr.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
        check=True,
    )
    image = next(tmp_path.glob("page*.png"))
    found = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True
    )
    return found.stdout.split()


@pytest.fixture
def issoudun_places():
    return [
        StructureFactory(
            name="Médiathèque d’Issoudun",
            commune=commune("36088"),
            phone="+33254210101",
            opening_hours="Tu,Fr 14:00-18:00; Sa 10:00-17:00",
        ),
        StructureFactory(
            name="France Services de Vatan", commune=commune("36230"), phone="+33254490202"
        ),
        StructureFactory(name="EPN de Reuilly", commune=commune("36171"), phone="+33254030303"),
        StructureFactory(name="Club de Chârost", commune=commune("18052"), phone="+33248260404"),
        StructureFactory(
            name="Lieu en brouillon", commune=commune("36088"), status=choices.Status.DRAFT
        ),
    ]


def test_commune_poster_lists_the_nearest_places_with_phones_and_a_qr_code(
    client, issoudun_places, tmp_path
):
    StopFactory(
        structure__name="Bus numérique du Berry",
        structure__phone="+33254770505",
        commune=commune("36088"),
        place="Place du 10 juin",
        opening_hours="Tu[1] 09:00-12:00",
    )
    response = client.get("/territoires/communes/36088/affiche.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert len(pdf) <= 300 * 1024
    assert pdf_pages(pdf, tmp_path) == 1
    text = pdf_text(pdf, tmp_path)
    assert "Besoin d’aide avec le numérique" in text
    assert "près d’Issoudun" in text
    assert "Médiathèque d’Issoudun" in text and "02 54 21 01 01" in text
    assert "Mardi et vendredi : 14 h – 18 h" in text
    # The nearest places first, at least three, each with its phone in large type.
    nearest = list(Structure.objects.published().near(46.94401, 2.00152)[:3])
    for place in nearest:
        assert place.name in text
        assert validators.display_phone(place.phone) in text
    assert "Bus numérique du Berry passe à Issoudun" in text
    assert "1er mardi du mois" in text
    assert "Lieu en brouillon" not in text
    assert qr_codes(pdf, tmp_path) == ["http://testserver/?q=Issoudun"]


def test_bassin_booklet_has_one_block_per_place(client, issoudun_places, tmp_path):
    bassin = commune("36088").bassin
    response = client.get(f"/territoires/bassins/{bassin.slug}/livret.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content, tmp_path)
    for place in issoudun_places[:3]:  # those of the Issoudun bassin
        assert place.name in text
    assert "Lieu en brouillon" not in text
    assert qr_codes(response.content, tmp_path) == [f"http://testserver{bassin.get_absolute_url()}"]


def test_poster_is_cached_until_places_change(
    client, issoudun_places, tmp_path, django_capture_on_commit_callbacks
):
    first = client.get("/territoires/communes/36088/affiche.pdf").content
    assert client.get("/territoires/communes/36088/affiche.pdf").content == first
    with django_capture_on_commit_callbacks(execute=True):  # as the commit of an edit
        issoudun_places[0].phone = "+33254219999"
        issoudun_places[0].save()
    text = pdf_text(client.get("/territoires/communes/36088/affiche.pdf").content, tmp_path)
    assert "02 54 21 99 99" in text


def test_poster_links_from_the_commune_search_and_the_bassin_page(client, issoudun_places):
    page = client.get("/?q=Issoudun").content.decode()
    assert 'href="/territoires/communes/36088/affiche.pdf"' in page
    bassin = commune("36088").bassin
    page = client.get(bassin.get_absolute_url()).content.decode()
    assert f'href="/territoires/bassins/{bassin.slug}/livret.pdf"' in page
    assert client.get("/territoires/communes/99999/affiche.pdf").status_code == 404
