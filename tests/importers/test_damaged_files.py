"""The importer survives damaged files (issue 15.5), on SQLite and PostgreSQL."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from mediation.importers import ImportFileError, Outcome, run_import
from mediation.importers.runner import CELL_MAX
from mediation.models import Structure
from territories.models import Commune
from tests.factories import StructureFactory
from tests.importers.test_standard import HEADER, place, write_csv

pytestmark = pytest.mark.django_db

CHATEAUROUX = ("36044",)


def only_result(report):
    (result,) = report.results
    return result


def test_a_truncated_csv_is_refused_whole_with_its_line(tmp_path):
    detail = "Une présentation, longue, que le transfert a coupée"
    path = write_csv(
        tmp_path / "lieux.csv", [place(), place(id="lieu-2", presentation_detail=detail)]
    )
    content = path.read_text(encoding="utf-8")
    cut = content.rindex(detail) + 20  # the file ends inside a quoted cell
    path.write_text(content[:cut], encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"ligne 3 .*tronqué"):
        run_import(path)
    assert not Structure.objects.exists()


def test_a_truncated_json_is_refused_whole_with_its_line(tmp_path):
    path = tmp_path / "lieux.json"
    path.write_text(json.dumps([place(), place(id="lieu-2")], indent=1)[:-40])
    with pytest.raises(ImportFileError, match=r"ligne \d+"):
        run_import(path)
    assert not Structure.objects.exists()


@pytest.mark.parametrize("latitude", ["inf", "-Infinity", "NaN", "1e999", "146.8"])
def test_a_non_finite_or_out_of_range_coordinate_becomes_a_remark_and_the_communes_point(
    tmp_path, latitude
):
    path = write_csv(tmp_path / "lieux.csv", [place(latitude=latitude)])
    result = only_result(run_import(path))
    assert result.outcome == Outcome.CREATED
    assert any(m.startswith("latitude ") and "écartée" in m for m in result.messages)
    structure = Structure.objects.get()
    commune = Commune.objects.get(pk="36044")
    assert (structure.latitude, structure.longitude) == (commune.latitude, commune.longitude)
    assert latitude in structure.import_note


def test_json_nan_and_infinity_literals_too(tmp_path):
    path = tmp_path / "lieux.json"
    path.write_text(
        '[{"id": "a", "nom": "Lieu", "adresse": "1 rue", "code_postal": "36000", '
        '"commune": "Châteauroux", "source": "S", "latitude": NaN, '
        '"longitude": Infinity}]'
    )
    result = only_result(run_import(path))
    assert result.outcome == Outcome.CREATED
    assert Structure.objects.get().latitude == Commune.objects.get(pk="36044").latitude


def test_a_lone_latitude_is_kept_as_a_remark(tmp_path):
    path = write_csv(tmp_path / "lieux.csv", [place(longitude="")])
    result = only_result(run_import(path))
    assert result.outcome == Outcome.CREATED
    assert any("position incomplète (latitude 46.81)" in m for m in result.messages)
    assert "latitude 46.81" in Structure.objects.get().import_note


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_a_value_longer_than_its_field_rejects_the_row_with_the_reason(tmp_path, suffix):
    rows = [
        place(nom="N" * 201),
        place(id="lieu-2", adresse="A" * 256),
        # Over csv's default 131,072 characters: still only this row is refused.
        place(id="lieu-3", presentation_detail="y" * 140_000),
        place(id="lieu-4"),
    ]
    path = tmp_path / f"lieux.{suffix}"
    if suffix == "csv":
        write_csv(path, rows)
    else:
        path.write_text(json.dumps(rows))
    report = run_import(path)
    assert [r.outcome for r in report.results] == [Outcome.REJECTED] * 3 + [Outcome.CREATED]
    assert report.results[0].messages == ["Nom : 201 caractères, au plus 200."]
    assert report.results[1].messages == ["Adresse : 256 caractères, au plus 255."]
    assert report.results[2].messages == [
        f"Colonne « presentation_detail » : 140000 caractères, au plus {CELL_MAX}."
    ]
    assert Structure.objects.count() == 1


def test_a_five_megabyte_cell_is_rejected_not_stored(tmp_path):
    path = tmp_path / "lieux.json"
    path.write_text(json.dumps([place(colonne_inconnue="y" * 5_000_000)]))
    result = only_result(run_import(path))
    assert result.outcome == Outcome.REJECTED
    assert result.messages == [
        f"Colonne « colonne_inconnue » : 5000000 caractères, au plus {CELL_MAX}."
    ]


def test_nul_and_control_characters_are_removed(tmp_path):
    path = write_csv(tmp_path / "lieux.csv", [place(nom="Média\x00thèque\x07 Équinoxe")])
    (created,) = run_import(path).results
    assert created.outcome == Outcome.CREATED
    assert any("caractères de contrôle retirés (nom)" in m for m in created.messages)
    assert Structure.objects.get().name == "Médiathèque Équinoxe"


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "lieux.csv"
    path.write_text("id,nom,adresse\nlieu-1,Médiathèque,1 place de la Mairie\n")
    with pytest.raises(ImportFileError, match="il manque les colonnes : commune, code_postal"):
        run_import(path)


def test_a_tab_separated_file_is_read(tmp_path):
    path = write_csv(tmp_path / "lieux.csv", [place()])
    rows = [line.split(",") for line in path.read_text().splitlines()[:1]]
    header = "\t".join(rows[0])
    values = [place().get(c, "") for c in HEADER.split(",")]
    path.write_text(header + "\n" + "\t".join(values) + "\n")
    assert only_result(run_import(path)).outcome == Outcome.CREATED
    assert Structure.objects.get().name == "Médiathèque Équinoxe"


def test_a_non_finite_position_cannot_be_saved_so_no_page_says_nan_km():
    structure = StructureFactory.build(latitude=float("nan"))
    with pytest.raises(ValidationError, match="nombre fini"):
        structure.save()


@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_whatever_the_site_exports_it_imports_even_the_largest_values(tmp_path, file_format):
    longest = {
        name: Structure._meta.get_field(name).max_length
        for name in ("name", "address", "address_complement", "parent_structure", "summary")
    }
    StructureFactory(
        **{name: ("é" * (size - 1)) + "x" for name, size in longest.items()},
        description=("Une présentation très longue. " * (10_000 // 30)).strip(),
        opening_hours_note="n" * 2000,
    )
    first = tmp_path / f"premier.{file_format}"
    call_command("export_structures", "--format", file_format, "--output", str(first))
    Structure.objects.all().delete()
    report = run_import(first)
    assert report.count(Outcome.CREATED) == 1, report.results[0].messages
    second = tmp_path / f"second.{file_format}"
    call_command("export_structures", "--format", file_format, "--output", str(second))
    assert second.read_bytes() == first.read_bytes()
