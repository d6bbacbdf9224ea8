"""Structures out: the national data standard 1.0.2 (CSV and JSON) and GeoJSON.

The columns and the model attributes they come from are `mediation.standard`'s
table; `standard_record` adds what the file format asks for (the commune's
official name, the schema's spellings, fourteen zeros for an unknown pivot…).
Used by the API (`/api/v1/export.csv`, `/api/v1/structures.csv`…) and by
`python manage.py export_structures`. The standard is a Frictionless Table
Schema ("Standard de données des lieux de médiation numérique", LaMednum /
ANCT, Licence Ouverte 2.0); the tests validate what we write against it.
"""

import io
import itertools
import re

import orjson
from django.conf import settings
from django.utils import timezone

from mediation import choices, csvfiles, standard
from mediation.fields import SEPARATOR
from mediation.models import Structure

STANDARD_VERSION = standard.VERSION
# The 32 columns of the standard, in the schema's order (see `mediation.standard`).
STANDARD_FIELDS = standard.NAMES
# With `?colonnes=regionales`: the directory's own columns after them (both dates of
# the information among them). The default export stays exactly the schema's.
WITH_REGIONAL_FIELDS = (*standard.NAMES, *standard.REGIONAL_NAMES)

# The standard asks for a SIRET or RNA number and says to write fourteen zeros
# when the place has none (or it is unknown).
UNKNOWN_PIVOT = "00000000000000"

# The schema's own pattern for `telephone`: a number it rejects is left out
# rather than making the whole file invalid.
TELEPHONE_PATTERN = re.compile(
    r"^(\+33|\+590|\+594|\+262|\+596|\+269|\+687|\+689|\+508|\+681)(\d){6,9}$"
)

# Known defect of the 1.0.2 schema file (see ../shared/data/README.md): the
# standard documents the label "Étapes numériques (La Poste)" but the schema's
# `formations_labels` pattern only accepts "Étapes numériques(La Poste)", with
# no space. We store the documented wording and write the form the schema
# validates; the importer reads both.
SCHEMA_LABEL_SPELLING = {
    choices.FormationLabel.ETAPES_NUMERIQUES.value: "Étapes numériques(La Poste)",
}

# The region's kinds of place in the national vocabularies. `typologie` takes the
# codes of the national library of the standard (@gouvfr-anct/lieux-de-mediation-
# numerique, the data.inclusion structure typologies); `dispositif_programmes_
# nationaux` the standard's closed list. A kind with no code of its own (an EPN,
# a computer club, a Promeneur du Net's structure) adds none: its legal form is
# what `typologie` would say, and only a person or the source knows it.
#
#   kind (/api/v1/types/)      typologie      dispositif_programmes_nationaux
#   mediatheque                BIB            —
#   france-services            RFS            France Services
#   promeneur-du-net           —              Promeneurs du net
#   coworking                  TIERS_LIEUX    —
#   fablab-makerspace          TIERS_LIEUX    —
#   espace-public-numerique    —              —
#   club-informatique          —              —
KIND_TYPOLOGIE = {
    "mediatheque": "BIB",
    "france-services": "RFS",
    "coworking": "TIERS_LIEUX",
    "fablab-makerspace": "TIERS_LIEUX",
}
KIND_DISPOSITIF = {
    "france-services": choices.Dispositif.FRANCE_SERVICES.value,
    "promeneur-du-net": choices.Dispositif.PROMENEURS.value,
}


def with_kind_codes(values, kinds, table):
    """`values` (a list), then the codes that `table` gives the `kinds` (slugs), once each."""
    merged = list(values)
    for kind in kinds:
        code = table.get(kind)
        if code and code not in merged:
            merged.append(code)
    return merged


def add_kind_codes(row):
    """An API row (`types`, `typologie`, `dispositif_programmes_nationaux` as lists)
    completed with its kinds' national codes, as the standard export has them."""
    kinds = row["types"]
    row["typologie"] = with_kind_codes(row["typologie"], kinds, KIND_TYPOLOGIE)
    row["dispositif_programmes_nationaux"] = with_kind_codes(
        row["dispositif_programmes_nationaux"], kinds, KIND_DISPOSITIF
    )
    return row


def hours_with_note(hours, note):
    """`horaires` with its note as an OpenStreetMap comment, as the national tools read it.

    The comment ("…" after a rule) goes on every rule, so it qualifies the whole
    week; a note without hours becomes `unknown "…"` (a comment alone would mean
    "open 24/7"). Quotes, which would end the comment, become « ».
    """
    note = " ".join((note or "").split()).replace('"', "«", 1).replace('"', "»", 1)
    note = note.replace('"', "'")
    hours = (hours or "").strip()
    if not note:
        return hours
    if not hours:
        return f'unknown "{note}"'
    if '"' in hours:  # already commented: kept as it is
        return hours
    rules = re.split(r"(\s*;\s*|\s*\|\|\s*)", hours)
    return "".join(
        part if index % 2 else f'{part} "{note}"' for index, part in enumerate(rules) if part
    )


def export_queryset(queryset=None):
    """The published structures to export, in a stable order."""
    if queryset is None:
        queryset = Structure.objects.published()
    return queryset.select_related("commune").order_by("uid")


def date_maj(structure, *, zone=None):
    """The standard's `date_maj` of a structure (a `date`): see `Structure.date_maj`.

    The standard requires one; a place whose source gave no date and that no
    person has changed or confirmed since gets the day it entered the directory.
    `zone`: the current time zone, when the caller has already looked it up.
    """
    return structure.date_maj or timezone.localdate(structure.created_at, zone)


def _joined(values):
    return SEPARATOR.join(values)


def standard_record(structure, *, regional=False):
    """One structure as a dict of the standard's 32 columns (Python values), then, with
    `regional`, the directory's own columns (`standard.REGIONAL_COLUMNS`).

    Multi-valued columns are "|"-joined strings, `latitude`/`longitude` floats
    or None, `date_maj` a `date`, the regional dates aware datetimes (in France's
    time) or None, `accessible_fauteuil_roulant` a bool or None, every other
    column a string ("" when empty).
    """
    record = {}
    for column in standard.COLUMNS:
        if column.attribute is None:
            continue
        value = getattr(structure, column.attribute)
        if column.attribute in Structure.DEDUCIBLE_FIELDS:
            # Only what the source said or a person confirmed (see `Structure.deduced`).
            value = structure.stated_values(column.attribute)
        if column.multiple:
            value = _joined(value)
        elif value is None and column.name not in ("latitude", "longitude"):
            value = ""
        record[column.name] = value
    # The commune's official name when it is known (sources misspell it).
    if structure.commune_id:
        record["commune"] = structure.commune.name
    record["pivot"] = structure.pivot or UNKNOWN_PIVOT
    record["telephone"] = structure.phone if TELEPHONE_PATTERN.match(structure.phone or "") else ""
    record["formations_labels"] = _joined(
        SCHEMA_LABEL_SPELLING.get(label, label) for label in structure.labels
    )
    record["date_maj"] = date_maj(structure)
    kinds = [kind.slug for kind in structure.kinds.all()]
    record["typologie"] = _joined(with_kind_codes(structure.typologie, kinds, KIND_TYPOLOGIE))
    record["dispositif_programmes_nationaux"] = _joined(
        with_kind_codes(structure.national_programmes, kinds, KIND_DISPOSITIF)
    )
    record["horaires"] = hours_with_note(structure.opening_hours, structure.opening_hours_note)
    # A place entered here was collected by the directory itself; naming it
    # lets the file be imported again (places are keyed by source and id).
    record["source"] = structure.source or settings.SITE_NAME
    if not regional:
        return {column: record[column] for column in STANDARD_FIELDS}
    return {column: record[column] for column in STANDARD_FIELDS} | _regional(structure)


def _regional(structure):
    """The directory's own columns. None of them is deducible: nothing here is a value
    the source did not say or a person did not confirm (see `Structure.deduced`)."""
    record = {}
    for column in standard.REGIONAL_COLUMNS:
        value = getattr(structure, column.attribute)
        if column.multiple:
            value = _joined(value)
        elif hasattr(value, "tzinfo"):
            value = timezone.localtime(value)
        elif value is None and column.field.get_internal_type() != "BooleanField":
            value = ""
        record[column.name] = value
    return record


def standard_records(queryset=None, *, regional=False):
    """Standard records of the published structures (or of `queryset`), with the
    regional columns when `regional`."""
    structures = export_queryset(queryset).prefetch_related("kinds")
    return (standard_record(s, regional=regional) for s in structures.iterator(chunk_size=500))


# Validated columns whose legitimate values may start with "+" or "-": written
# exactly as the standard requires; every other text cell is made safe to open
# in a spreadsheet (see `mediation.csvfiles`).
CSV_EXACT_COLUMNS = {
    "telephone": TELEPHONE_PATTERN,
    "latitude": csvfiles.NUMBER,
    "longitude": csvfiles.NUMBER,
    "date_maj": csvfiles.DATE,
}


def batched(iterable, size):
    """Lists of `size` items (the last one shorter) from `iterable`, read lazily."""
    # itertools.batched() arrives with Python 3.12; the project supports 3.11.
    iterator = iter(iterable)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def standard_csv_chunks(records, *, columns=STANDARD_FIELDS, rows_per_chunk=500):
    """The standard's CSV piece by piece (str): its 32 columns in order (or `columns`),
    UTF-8, "," between cells. Holds `rows_per_chunk` rows at a time, whatever the count."""
    buffer = io.StringIO()
    writer = csvfiles.Writer(buffer, columns, exact=CSV_EXACT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for batch in batched(records, rows_per_chunk):
        writer.writerows(batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def standard_csv(records, *, columns=STANDARD_FIELDS):
    """The standard's CSV as one string (see `standard_csv_chunks()`)."""
    return "".join(standard_csv_chunks(records, columns=columns))


def _json_value(value):
    if value == "":
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def standard_json_chunks(records, *, columns=STANDARD_FIELDS, rows_per_chunk=500):
    """The standard as a JSON array of objects (its 32 columns, or `columns`), piece by
    piece (bytes), exactly as `orjson.dumps(rows, option=OPT_INDENT_2)` writes it whole;
    empty cells are null."""
    opened = False
    for batch in batched(records, rows_per_chunk):
        pieces = []
        for record in batch:
            row = {column: _json_value(record[column]) for column in columns}
            # One level deeper than the object alone; a raw newline only ever
            # separates tokens (newlines inside strings are escaped).
            item = orjson.dumps(row, option=orjson.OPT_INDENT_2).replace(b"\n", b"\n  ")
            pieces.append((b",\n  " if opened else b"[\n  ") + item)
            opened = True
        yield b"".join(pieces)
    yield b"\n]" if opened else b"[]"


def standard_json(records, *, columns=STANDARD_FIELDS):
    """The standard as a JSON array of objects (bytes); empty cells are null."""
    return b"".join(standard_json_chunks(records, columns=columns))


def stop_items(structures):
    """The itinerant stops of `structures`, as items for `feature_collection()`: each a
    point linked to its place by `etape_de` (the place's `id`)."""
    from mediation.models import Stop

    stops = (
        Stop.objects.filter(structure__in=structures.order_by().values("pk"))
        .select_related("structure", "commune")
        .order_by("structure_id", "pk")
    )
    return [
        {
            "latitude": stop.latitude,
            "longitude": stop.longitude,
            "etape_de": stop.structure.uid,
            "nom": f"{stop.structure.name} — {stop.place}",
            "lieu": stop.place,
            "adresse": stop.address,
            "commune": stop.commune.name,
            "code_insee": stop.commune_id,
            "horaires": stop.opening_hours,
            "precisions": stop.note,
        }
        for stop in stops
    ]


def feature(item):
    """One GeoJSON Feature of a dict holding `latitude` and `longitude` (see
    `feature_collection()`)."""
    properties = {k: v for k, v in item.items() if k not in ("latitude", "longitude")}
    latitude, longitude = item.get("latitude"), item.get("longitude")
    geometry = (
        {"type": "Point", "coordinates": [longitude, latitude]}
        if latitude is not None and longitude is not None
        else None
    )
    head = {"type": "Feature", "id": item["id"]} if "id" in item else {"type": "Feature"}
    return head | {"geometry": geometry, "properties": properties}


def feature_collection_chunks(item_batches, dumps):
    """A FeatureCollection encoded piece by piece (bytes) by `dumps`, from batches
    of items: the same bytes as `dumps(feature_collection(all items))`."""
    opened = False
    yield b'{"type":"FeatureCollection","features":['
    for batch in item_batches:
        encoded = [dumps(feature(item)) for item in batch]
        if encoded:
            yield (b"," if opened else b"") + b",".join(encoded)
            opened = True
    yield b"]}"


def feature_collection(items):
    """A GeoJSON FeatureCollection of dicts holding `latitude` and `longitude`.

    Every other key becomes a property, and `id` is also the feature's own id
    (RFC 7946 § 3.2), which map libraries use to follow a feature; a place
    without coordinates gets a null geometry rather than disappearing.
    """
    return {"type": "FeatureCollection", "features": [feature(item) for item in items]}
