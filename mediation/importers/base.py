"""What every source format turns a row into, and the errors it may raise."""

from dataclasses import dataclass, field


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, wrong columns…)."""


class DemoWorkError(ImportFileError):
    """Importing would delete demo structures people have worked on."""

    def __init__(self, lost):
        self.lost = lost
        super().__init__(
            f"{len(lost)} structure{'s' if len(lost) > 1 else ''} de démonstration "
            "portent le travail de personnes, qu’un import supprimerait : "
            + " ; ".join(lost)
            + ". Relancez avec --replace-demo pour les supprimer quand même."
        )


class RowError(Exception):
    """This row cannot be imported; the message says why, in French."""


@dataclass
class RowData:
    """A source row mapped to the model, before it touches the database.

    `fields` holds model attributes and their values; `kinds` ServiceType
    slugs (`replace_kinds` False means "add to the kinds already set", for
    formats that carry no kind); `notes` is content that fits no field and is
    kept in `import_note`; `remarks` only go to the report.
    """

    line: int
    source: str
    source_id: str
    fields: dict
    kinds: list = field(default_factory=list)
    replace_kinds: bool = True
    uid: str = ""
    notes: list = field(default_factory=list)
    remarks: list = field(default_factory=list)
    # Census bassin name, checked against the commune's bassin.
    bassin_name: str = ""
    # Fields where a person's value met a different value of the file.
    conflicts: int = 0
    # The file's position was unusable (non-finite, out of range, incomplete):
    # the place takes its commune's point.
    position_rejected: bool = False
    # Digest of the record as read, and of what else decides its result
    # (`ImportBatch.fingerprint()`).
    fingerprint: str = ""


def note_line(label, value):
    """ "Label : value" for the import note (lists joined)."""
    if isinstance(value, list | tuple):
        value = " | ".join(str(v) for v in value)
    return f"{label} : {value}"


def set_coordinates(row, latitude, longitude):
    """Latitude and longitude of a row from its two cells; a bad one is noted and reported."""
    from mediation.importers import values

    for name, cell, bound in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        number, problem = values.coordinate(cell, bound)
        row.fields[name] = number
        if problem:
            row.position_rejected = True
            row.notes.append(note_line(f"{name.capitalize()} d’origine, écartée", cell))
            row.remarks.append(f"{name} {problem}, écartée (gardée en note)")
