"""Paths of the real samples in ../shared/data (tests skip, with the reason, when absent)."""

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
HUB_LO = SHARED_DATA / "hub-lo" / "hub-lo.json"
CONSEILLERS = SHARED_DATA / "standard" / "conseillers-numeriques-cvl-2023-01.json"
EXAMPLE_CSV = SHARED_DATA / "standard" / "exemple-valide-1.0.2.csv"
SCHEMA_1_0_2 = SHARED_DATA / "standard" / "schema-lieux-mediation-numerique-1.0.2.json"


def shared_file(path):
    """`path`, or skip: the real samples are not part of a fresh clone (CI always has them)."""
    if not path.exists():
        pytest.skip(f"{path} absent : les échantillons réels de ../shared/data ne sont pas là.")
    return path


@pytest.fixture
def hub_lo_path():
    return shared_file(HUB_LO)


@pytest.fixture
def conseillers_path():
    return shared_file(CONSEILLERS)


@pytest.fixture
def example_csv_path():
    return shared_file(EXAMPLE_CSV)
