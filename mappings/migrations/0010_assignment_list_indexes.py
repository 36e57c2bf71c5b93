"""Indexes of the Users and groups list at 100,000 assignments.

- The warning filter asks for the warning sets that hold a bit (`warnings IN (...)`): an index led by the
  application and the set answers it, where a bitwise test read every row.
- SQLite: a prefix search is a range on the lower-case copies (mappings/assignment_list.py), served by an index per
  searched column; PostgreSQL has its pattern-operator-class indexes from migration 0008 instead.
"""

from django.db import migrations, models

from console.migration_operations import SQLiteOnly

SQLITE_PREFIX_INDEXES = [
    (f"{table_short}_{column}_range", f"mappings_{table}", column)
    for table, table_short in (("snapshotassignment", "snap_assign"), ("snapshotuser", "snap_user"))
    for column in ("upn_key", "mail_key")
]


class Migration(migrations.Migration):

    dependencies = [
        ('mappings', '0009_assignment_snapshot_version'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='snapshotassignment',
            index=models.Index(fields=['application', 'warnings'], name='snapshot_assignment_warnings'),
        ),
    ] + [
        SQLiteOnly(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} (application_id, {column})",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, column in SQLITE_PREFIX_INDEXES
    ]
