"""Back up the database while the site runs.

PostgreSQL: `pg_dump` in its custom format (compressed, restored with
`pg_restore`, table by table if need be). SQLite: the online backup API, a
consistent copy even while the site writes. The README ("Sauvegarde et
restauration") gives the restore procedure; `.ci/run` rehearses it on
PostgreSQL (tests/mediation/test_backup.py).
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connections


class BackupError(Exception):
    pass


def backup(*, output, using="default"):
    """Write a backup of database `using` to `output` (a path); return its size in bytes."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    connection = connections[using]
    if connection.vendor == "postgresql":
        _pg_dump(connection.settings_dict, output)
    elif connection.vendor == "sqlite":
        _sqlite_backup(connection.settings_dict["NAME"], output)
    else:
        raise BackupError(f"Base {connection.vendor} non prise en charge.")
    return output.stat().st_size


def _pg_dump(database, output):
    if not shutil.which("pg_dump"):
        raise BackupError("pg_dump est introuvable (Debian : apt-get install postgresql-client).")
    env = {**os.environ}
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = database["PASSWORD"]
    command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges"]
    command += [f"--file={output}", f"--dbname={database['NAME']}"]
    if database.get("HOST"):
        command.append(f"--host={database['HOST']}")
    if database.get("PORT"):
        command.append(f"--port={database['PORT']}")
    if database.get("USER"):
        command.append(f"--username={database['USER']}")
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode:
        raise BackupError(f"pg_dump a échoué : {result.stderr.strip()}")


def _sqlite_backup(name, output):
    if str(name) == ":memory:" or not Path(name).exists():
        raise BackupError(f"Fichier SQLite introuvable : {name}")
    if output.exists():
        output.unlink()
    source = sqlite3.connect(name)
    try:
        target = sqlite3.connect(output)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
