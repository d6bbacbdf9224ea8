"""An import file's columns and records, read without holding the file whole.

A CSV is read twice, row by row: a first pass checks the whole file (encoding,
quotes, columns, sources) before anything is written, so that a damaged file is
refused whole with its line, as before; the second pass gives the records to
the import, a chunk at a time. Memory stays that of a chunk, whatever the
file's length. A JSON file is parsed once by the standard library (its places
are small dicts), and each place is let go as soon as it has been handed over.
"""

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from mediation.importers import values
from mediation.importers.base import ImportFileError

# Python's csv module refuses a whole file at the first cell over 131,072
# characters; the limit follows the file instead, and the runner's
# `check_sizes()` rejects each row whose cell is longer than its field allows
# (as for JSON).
CSV_ERRORS = {
    "unexpected end of data": "le fichier se termine au milieu d’une cellule entre guillemets "
    "(fichier tronqué ?)",
}
ENCODING_ERROR = "Le fichier n’est pas encodé en UTF-8 (enregistrez-le en « CSV UTF-8 »)."
# The records `standard.is_legacy()` looks at.
SAMPLE = 50


@dataclass
class ImportFile:
    """A checked import file: its columns, a sample of its first records, the numbers
    (from 1) of the records that name no source; `records()` reads them one by one."""

    path: Path
    columns: list
    sample: list
    without_source: list = field(default_factory=list)
    _json: list | None = None

    def records(self, *, source=""):
        """The records, in order, each a dict (column → cell); those that name no source
        take `source`. Read lazily: a CSV from the disk, a JSON from its parsed list."""
        if self._json is not None:
            items, self._json = self._json, None
            for index in range(len(items)):
                record, items[index] = items[index], None  # let it go once handed over
                yield _with_source(record, source)
            return
        with _csv_reader(self.path) as reader:
            for record in reader:
                yield _with_source(record, source)


def _with_source(record, source):
    if source and not values.text(record.get("source")):
        record["source"] = source
    return record


def open_import_file(path):
    """The file at `path`, checked whole. Raises ImportFileError."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            start = handle.read(4096)
    except OSError as error:
        raise ImportFileError(
            f"Impossible de lire le fichier « {path} » : {error.strerror}."
        ) from error
    head = start.decode("utf-8-sig", errors="ignore").lstrip()
    if head[:1] in ("[", "{"):
        return _open_json(path)
    return _open_csv(path)


def _open_json(path):
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(ENCODING_ERROR) from error
    try:
        data = json.loads(content)
    except json.JSONDecodeError as error:
        raise ImportFileError(
            f"Le fichier n’est pas un JSON valide (ligne {error.lineno}, colonne {error.colno} : "
            f"{error.msg})."
        ) from error
    del content
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise ImportFileError(
                "Le JSON doit être une liste de lieux (un tableau d’objets), "
                "ou un objet contenant une seule liste."
            )
        data = lists[0]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ImportFileError("Le JSON doit être une liste de lieux (un tableau d’objets).")
    if not data:
        raise ImportFileError("Le fichier ne contient aucun lieu.")
    columns = {}
    for item in data:
        columns.update(dict.fromkeys(item))
    return ImportFile(
        path=path,
        columns=list(columns),
        sample=data[:SAMPLE],
        without_source=_without_source(data),
        _json=data,
    )


def _without_source(records):
    return [n for n, r in enumerate(records, start=1) if not values.text(r.get("source"))]


class _csv_reader:
    """A `csv.DictReader` over the file, its header checked (`columns`), with the cell
    size limit raised while it is open. Iterating gives the records; a syntax error or a
    bad byte raises ImportFileError with the line where the faulty record begins."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.handle = open(self.path, encoding="utf-8-sig", newline="")
        self.previous_limit = csv.field_size_limit(max(self.path.stat().st_size, 131072) + 1)
        try:
            first_line = self.handle.readline()
            if not first_line.strip() and _blank(self.handle):
                raise ImportFileError("Le fichier est vide.")
            self.handle.seek(0)
            delimiter = max((";", ",", "\t"), key=first_line.count)
            self.reader = csv.DictReader(self.handle, delimiter=delimiter, strict=True)
            self.columns = [c.strip() for c in self.reader.fieldnames or []]
            if len(set(self.columns)) != len(self.columns):
                raise ImportFileError("L’en-tête du CSV contient deux fois la même colonne.")
        except UnicodeDecodeError as error:
            self.__exit__()
            raise ImportFileError(ENCODING_ERROR) from error
        except BaseException:
            self.__exit__()
            raise
        self.reader.fieldnames = self.columns
        return self

    def __iter__(self):
        start = 2
        try:
            for record in self.reader:
                yield record
                start = self.reader.line_num + 1  # where the next row begins
        except csv.Error as error:
            reason = CSV_ERRORS.get(str(error), str(error))
            raise ImportFileError(
                f"CSV illisible à la ligne {start} : {reason}. Rien n’a été importé."
            ) from error
        except UnicodeDecodeError as error:
            raise ImportFileError(ENCODING_ERROR) from error

    def __exit__(self, *exc):
        csv.field_size_limit(self.previous_limit)
        self.handle.close()


def _blank(handle):
    """True when the rest of the file is whitespace (read a block at a time)."""
    while block := handle.read(65536):
        if block.strip():
            return False
    return True


def _open_csv(path):
    sample, without_source, count = [], [], 0
    with _csv_reader(path) as reader:
        for count, record in enumerate(reader, start=1):
            if count <= SAMPLE:
                sample.append(record)
            if not values.text(record.get("source")):
                without_source.append(count)
    if not count:
        raise ImportFileError("Le fichier ne contient aucun lieu (seulement un en-tête).")
    return ImportFile(
        path=path, columns=reader.columns, sample=sample, without_source=without_source
    )
