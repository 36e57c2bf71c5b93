"""Django's SQLite backend, except that the database file is created readable and writable by its owner only.

The embedded database holds the encrypted secrets, the audit log and the sessions. SQLite creates a missing file with
the process's umask (usually 0644, readable by every local account) and gives its -wal and -shm files the mode of the
database file; so the file is created with mode 600 before SQLite opens it, and an older file is narrowed to 600.
"""

from __future__ import annotations

import os
import stat

from django.db.backends.sqlite3 import base


def make_private(path: str) -> None:
    """Create `path` with mode 600 if it is missing; take group and other permissions off an existing one."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    for companion in (f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        if os.path.exists(companion) and stat.S_IMODE(os.stat(companion).st_mode) & 0o077:
            os.chmod(companion, stat.S_IMODE(os.stat(companion).st_mode) & 0o700)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        make_private(str(conn_params["database"]))
        return super().get_new_connection(conn_params)
