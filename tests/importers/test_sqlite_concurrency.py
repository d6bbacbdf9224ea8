"""On SQLite, the site keeps reading while an import writes (issue 15.5)."""

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="réglage propre à SQLite (WAL, délai d’attente)"
)


def connect(path):
    """A connection opened exactly as the site opens its own (same OPTIONS)."""
    database = DatabaseWrapper({**settings.DATABASES["default"], "NAME": str(path)}, alias="wal")
    return database.get_new_connection(database.get_connection_params())


def test_pages_read_while_an_import_holds_the_write_lock(tmp_path):
    path = tmp_path / "annuaire.sqlite3"
    writer, reader = connect(path), connect(path)
    try:
        assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert writer.execute("PRAGMA busy_timeout").fetchone()[0] == 20000
        writer.execute("CREATE TABLE lieu (nom TEXT)")
        writer.execute("INSERT INTO lieu VALUES ('Médiathèque')")
        writer.commit()
        writer.execute("BEGIN IMMEDIATE")  # an import holding the write lock
        writer.execute("INSERT INTO lieu VALUES ('Nouveau lieu')")
        # A page being read meanwhile sees the last committed state, at once.
        assert reader.execute("SELECT nom FROM lieu").fetchall() == [("Médiathèque",)]
        writer.execute("COMMIT")
        assert len(reader.execute("SELECT nom FROM lieu").fetchall()) == 2
    finally:
        writer.close()
        reader.close()
