"""The embedded SQLite database and its -wal/-shm files are readable by their owner only (mode 600)."""

from __future__ import annotations

import os
import stat

import pytest
from django.db import connection
from django.db.utils import ConnectionHandler


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask(django_db_blocker):
    """The usual umask (new files readable by everyone), and connections to databases of the test's own."""
    previous = os.umask(0o022)
    with django_db_blocker.unblock():
        yield
    os.umask(previous)


def _wal_database(path) -> ConnectionHandler:
    return ConnectionHandler(
        {
            "default": {
                "ENGINE": "console.sqlite",
                "NAME": str(path),
                "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"},
            }
        }
    )


def test_a_new_database_and_its_wal_files_are_created_private(tmp_path, open_umask):
    path = tmp_path / "console.sqlite3"
    handler = _wal_database(path)
    with handler["default"].cursor() as cursor:
        cursor.execute("CREATE TABLE t (x integer)")
        cursor.execute("INSERT INTO t VALUES (1)")
        assert os.path.exists(f"{path}-wal") and os.path.exists(f"{path}-shm")
        assert [mode(p) for p in (path, f"{path}-wal", f"{path}-shm")] == [0o600, 0o600, 0o600]
    handler.close_all()


def test_an_older_database_readable_by_others_is_narrowed(tmp_path, open_umask):
    path = tmp_path / "console.sqlite3"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    handler = _wal_database(path)
    with handler["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
    handler.close_all()
    assert mode(path) == 0o600


@pytest.mark.django_db
def test_the_database_of_this_run_is_private():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL keeps its files itself")
    assert mode(connection.settings_dict["NAME"]) == 0o600
