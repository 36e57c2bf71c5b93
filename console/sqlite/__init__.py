"""Django's SQLite backend, with the database file created private to its owner (see base.py)."""
