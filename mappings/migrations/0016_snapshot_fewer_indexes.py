"""Fewer index entries for a refresh to write: storing 100,000 assignments (some 430,000 rows in three tables) into
PostgreSQL was mostly the upkeep of their indexes.

- Grants: no unique index on (application, assignment, user) beside the order index that starts the same; the
  snapshot's writers keep one row per pair.
- Assignments: the warning filter is read from the walk index, which holds the warnings, on PostgreSQL; SQLite keeps
  an index of its own for it.
- Users: the list's search asks the user table only for users reached through groups (the users assigned directly
  are found among the assignments), so its walk and search indexes hold only those: a quarter of the rows.
"""

from django.db import migrations, models

from console.migration_operations import PostgreSQLOnly, SQLiteOnly

USER_PREFIX_INDEXES = [(f"snap_user_{column}_prefix", column) for column in ("name_key", "upn_key", "mail_key")]


class Migration(migrations.Migration):

    dependencies = [
        ('connections', '0004_salesforce_organization'),
        ('mappings', '0015_snapshot_rows_unchecked'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='snapshotgrant',
            name='snapshot_grant_unique',
        ),
        migrations.RemoveIndex(
            model_name='snapshotassignment',
            name='snapshot_assignment_warnings',
        ),
        migrations.RemoveIndex(
            model_name='snapshotuser',
            name='snapshot_user_walk',
        ),
        migrations.AddIndex(
            model_name='snapshotuser',
            index=models.Index(condition=models.Q(('direct', False)), fields=['application', 'name_key', 'user_id', 'upn_key', 'mail_key', 'direct', 'id'], name='snapshot_user_walk'),
        ),
        SQLiteOnly(
            sql="CREATE INDEX IF NOT EXISTS snapshot_assignment_warnings "
            "ON mappings_snapshotassignment (application_id, warnings)",
            reverse_sql="DROP INDEX IF EXISTS snapshot_assignment_warnings",
        ),
    ] + [
        PostgreSQLOnly(
            sql=[
                f"DROP INDEX IF EXISTS {name}",
                f"CREATE INDEX {name} ON mappings_snapshotuser (application_id, {column} varchar_pattern_ops) "
                "WHERE NOT direct",
            ],
            reverse_sql=[
                f"DROP INDEX IF EXISTS {name}",
                f"CREATE INDEX {name} ON mappings_snapshotuser (application_id, {column} varchar_pattern_ops)",
            ],
        )
        for name, column in USER_PREFIX_INDEXES
    ]
