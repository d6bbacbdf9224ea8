"""Structures in: one module per source format, and a common runner.

- `hub_lo`: the regional census (Hub-LO export, `c_*` fields);
- `standard`: the national data standard 1.0.x and its earlier 0.x shape;
- `runner`: format detection, each row mapped and checked, report, demo removal;
- `batch`: the rows' reads and writes, in bulk, chunk by chunk.
"""

from mediation.importers.base import DemoWorkError, ImportFileError, RowError
from mediation.importers.runner import FORMATS, ImportReport, Outcome, run_import

__all__ = [
    "FORMATS",
    "DemoWorkError",
    "ImportFileError",
    "ImportReport",
    "Outcome",
    "RowError",
    "run_import",
]
