"""The national standard: 1.0.x (CSV, JSON), the 0.x shape, and bad files."""

import csv
import json

import pytest
from django.core.management import CommandError, call_command

from mediation import choices
from mediation.importers import ImportFileError, Outcome, run_import
from mediation.models import Structure

pytestmark = pytest.mark.django_db

HEADER = (
    "id,pivot,nom,commune,code_postal,code_insee,adresse,complement_adresse,latitude,longitude,"
    "typologie,telephone,courriels,site_web,horaires,presentation_resume,presentation_detail,"
    "source,itinerance,structure_parente,date_maj,services,publics_specifiquement_adresses,"
    "prise_en_charge_specifique,frais_a_charge,dispositif_programmes_nationaux,formations_labels,"
    "autres_formations_labels,modalites_acces,modalites_accompagnement,fiche_acces_libre,prise_rdv"
)


def write_csv(path, rows):
    columns = HEADER.split(",")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def place(**overrides):
    return {
        "id": "lieu-1",
        "pivot": "21360044000011",
        "nom": "Médiathèque Équinoxe",
        "commune": "Châteauroux",
        "code_postal": "36000",
        "adresse": "1 place de la Mairie",
        "latitude": "46.81",
        "longitude": "1.69",
        "telephone": "02 54 00 00 00",
        "courriels": "contact@exemple.fr|accueil@exemple.fr",
        "horaires": "Tu-Sa 10:00-12:00,14:00-18:00",
        "source": "Hub régional",
        "date_maj": "2024-03-01",
        "services": "Accès internet et matériel informatique|Aide aux démarches administratives",
        "frais_a_charge": "Gratuit",
        "formations_labels": "Étapes numériques(La Poste)",
        "dispositif_programmes_nationaux": "France Services",
        **overrides,
    }


def test_standard_csv_rows_are_mapped_to_the_model(tmp_path):
    path = write_csv(tmp_path / "lieux.csv", [place()])
    report = run_import(path)
    assert report.format == "standard"
    assert report.count(Outcome.CREATED) == 1
    structure = Structure.objects.get()
    assert structure.uid == "lieu-1"
    assert structure.commune.code_insee == "36044"
    assert structure.phone == "+33254000000"
    assert structure.emails == ["contact@exemple.fr", "accueil@exemple.fr"]
    assert structure.services == [
        "Accès internet et matériel informatique",
        "Aide aux démarches administratives",
    ]
    # The schema's spelling of the La Poste label is read as the documented one.
    assert structure.labels == [choices.FormationLabel.ETAPES_NUMERIQUES.value]
    assert [k.slug for k in structure.kinds.all()] == ["france-services"]
    assert structure.information_updated_at.date().isoformat() == "2024-03-01"
    assert structure.verified_at is None
    assert structure.is_published


def test_a_bad_row_never_stops_the_good_ones_nor_leaves_half_a_structure(tmp_path):
    rows = [
        place(id="bon"),
        place(id="sans-code-postal", code_postal="ABCDE"),
        place(id="hors-region", commune="Reims", code_postal="51100", code_insee="51454"),
        place(id="nom-trop-long", nom="x" * 300),
    ]
    report = run_import(write_csv(tmp_path / "lieux.csv", rows))
    outcomes = {r.source_id or r.line: (r.outcome, r.messages) for r in report.results}
    assert report.count(Outcome.CREATED) == 1
    assert report.count(Outcome.REJECTED) == 3
    assert all(r.messages for r in report.results if r.outcome == Outcome.REJECTED)
    assert "hors de la région" in outcomes["hors-region"][1][0]
    assert list(Structure.objects.values_list("uid", flat=True)) == ["bon"]
    assert set(Structure.history.values_list("uid", flat=True)) == {"bon"}


def test_a_point_far_from_its_commune_is_set_aside_and_kept_in_the_note(tmp_path):
    # Châteauroux's place, with a point near Bayonne (the source's geocoding error).
    path = write_csv(tmp_path / "lieux.csv", [place(latitude="43.317", longitude="-1.026")])
    report = run_import(path)
    structure = Structure.objects.get()
    chateauroux = structure.commune
    assert (structure.latitude, structure.longitude) == (
        chateauroux.latitude,
        chateauroux.longitude,
    )
    assert "Position d’origine, écartée : 43.317, -1.026" in structure.import_note
    messages = " ; ".join(report.results[0].messages)
    assert "position à 443 km de Châteauroux, écartée" in messages
    assert "point de la commune, à vérifier" in messages
    # The same file again changes nothing.
    assert run_import(path).count(Outcome.UNCHANGED) == 1


def test_content_that_fits_no_field_is_kept_in_the_note(tmp_path):
    path = tmp_path / "lieux.json"
    path.write_text(
        json.dumps(
            [
                place(
                    horaires="le mardi matin",
                    services="Aide aux démarches administratives|Jardinage",
                    extra="à garder",
                )
            ]
        )
    )
    report = run_import(path)
    structure = Structure.objects.get()
    assert structure.opening_hours == ""
    assert structure.opening_hours_note == "le mardi matin"
    assert "Jardinage" in structure.import_note
    assert "extra : à garder" in structure.import_note
    assert any("horaires" in m for m in report.results[0].messages)


def test_legacy_export_is_imported_with_its_old_vocabulary(conseillers_path):
    report = run_import(conseillers_path)
    assert report.format == "standard-0.x"
    assert report.accepted / len(report.results) >= 0.95
    poste = Structure.objects.get(uid="626f8b23cc2a0205c7bef0f9")
    assert poste.services == [
        "Maîtrise des outils numériques du quotidien",
        "Compréhension du monde numérique",
    ]
    assert poste.fees == ["Gratuit"]
    assert poste.national_programmes == ["Conseillers numériques"]
    assert "structureId : 619791e5838083d339e1ea6d" in poste.import_note
    assert poste.source == "conseiller-numerique"
    again = run_import(conseillers_path)
    assert again.count(Outcome.UNCHANGED) == report.accepted


def test_the_standards_own_example_is_outside_the_region(example_csv_path):
    report = run_import(example_csv_path)
    assert report.format == "standard"
    (result,) = report.results
    assert result.outcome == Outcome.REJECTED
    assert "Aucune commune de la région" in result.messages[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "vide"),
        ("[{", "pas un JSON valide"),
        ('{"a": 1}', "liste de lieux"),
        ("nom;adresse\nA;B\n", "Format non reconnu"),
        ('[{"c_nom": "A"}]', "Colonnes obligatoires absentes"),
    ],
)
def test_a_file_with_a_wrong_structure_is_refused_as_a_whole(tmp_path, content, message):
    path = tmp_path / "fichier.json"
    path.write_text(content)
    with pytest.raises(ImportFileError, match=message):
        run_import(path)
    with pytest.raises(CommandError, match="Fichier refusé"):
        call_command("import_structures", str(path))
    assert not Structure.objects.exists()


def test_command_prints_a_report_and_writes_it_as_csv(tmp_path, capsys):
    path = write_csv(tmp_path / "lieux.csv", [place(), place(id="x", code_postal="")])
    report_path = tmp_path / "rapport.csv"
    call_command("import_structures", str(path), "--report", str(report_path))
    out = capsys.readouterr().out
    assert "1 créée" in out and "1 rejetée" in out
    rows = list(csv.DictReader(report_path.open(encoding="utf-8")))
    assert [r["résultat"] for r in rows] == ["créée", "rejetée"]
    assert rows[1]["détails"]
    call_command("import_structures", str(path), "--dry-run")
    assert "Simulation" in capsys.readouterr().out
