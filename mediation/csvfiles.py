"""Every CSV the site writes goes through `Writer`: safe to open in a spreadsheet.

A cell of free text that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return is read as a formula by Excel or LibreOffice (`=HYPERLINK(…)`,
`+cmd|' /C calc'!A0`). Following OWASP's advice on CSV injection, such a cell
is written with a leading apostrophe, which the spreadsheet shows as text.

Columns whose values were validated against a pattern that may legitimately
start with one of these characters (the standard's E.164 `telephone`, numbers,
dates) are written exactly as the standard requires: the writer is told which
(`exact={column: pattern}`), and a value is kept as it is only when it matches
its column's pattern in full — anything else in that column is neutralised too.
Python numbers and dates are never text: they are written as such.
"""

import csv
import datetime
import re

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Numbers and dates as text (a negative longitude, an ISO date): what a
# validated numeric or date column may hold.
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def neutralise(text):
    """`text` as a spreadsheet shows it as text, never runs it as a formula."""
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def cell(value, pattern=None):
    """One cell: None is empty; numbers and dates as such; text neutralised unless it
    matches `pattern` in full."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.date):  # datetimes included
        return value.isoformat()
    text = str(value)
    if pattern is not None and pattern.fullmatch(text):
        return text
    return neutralise(text)


class Writer:
    """`csv.writer` that makes each cell safe; rows are sequences or dicts.

    `columns`: the header (written by `writeheader`); `exact`: {column name:
    compiled pattern} of the validated columns written unchanged when they match.
    """

    def __init__(self, handle, columns, *, exact=None, **csv_options):
        self.columns = list(columns)
        exact = exact or {}
        unknown = set(exact) - set(self.columns)
        if unknown:
            raise ValueError(f"Colonnes inconnues : {sorted(unknown)}")
        self.patterns = [exact.get(column) for column in self.columns]
        self.writer = csv.writer(handle, **csv_options)

    def writeheader(self):
        self.writer.writerow(self.columns)

    def writerow(self, row):
        if isinstance(row, dict):
            row = [row.get(column) for column in self.columns]
        self.writer.writerow(
            [cell(value, pattern) for value, pattern in zip(row, self.patterns, strict=True)]
        )

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def write_file(path, columns, rows, *, exact=None):
    """Write `rows` under the header `columns` to `path` (UTF-8)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = Writer(handle, columns, exact=exact)
        writer.writeheader()
        writer.writerows(rows)
