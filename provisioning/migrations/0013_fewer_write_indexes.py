"""Fewer indexes for a cycle's writes to update: every log row updated 16 indexes on PostgreSQL, 5 of which no query
needs. The job's and the cycle's own indexes (Django's for a foreign key) are the first column of the (job, time) and
(cycle, time) indexes; the link's job is the first column of its unique (job, source id); (job, UPN) and (job,
display name) serve no search (the identity filter's prefix search uses migration 0003's expression indexes on
PostgreSQL and 0011's NOCASE ones on SQLite); and the change id's uniqueness, as a unique field, had a second index on
PostgreSQL for LIKE, which no search of a change id does: it is now a constraint, the same unique index renamed
(SQLite keeps the column's own UNIQUE: its automatic index cannot be dropped without copying the table).

The indexes are dropped by name, not by altering the fields: on SQLite that alteration copies the log table into a
new one (four times), and the copy would lose 0011's indexes, which the model state does not know.
"""

import django.db.models.deletion
from django.db import migrations, models

import provisioning.models
from console.migration_operations import PostgreSQLOnly, SQLiteOnly

LOG = "provisioning_provisioninglogentry"
LINK = "provisioning_provisionedlink"
DROPPED = {  # name: (table, columns) to recreate it with when the migration is reversed
    "log_job_upn": (LOG, '"job_id", "source_upn"'),
    "log_job_name": (LOG, '"job_id", "source_display_name"'),
    "provisioning_provisioninglogentry_job_id_4ddb5002": (LOG, '"job_id"'),
    "provisioning_provisioninglogentry_cycle_id_900dd1c7": (LOG, '"cycle_id"'),
    "provisioning_provisionedlink_job_id_df617d82": (LINK, '"job_id"'),
}
LIKE_INDEX = "provisioning_provisioninglogentry_change_id_cdc5eb8a_like"
UNIQUE = "provisioning_provisioninglogentry_change_id_key"


def _drop(name: str) -> str:
    return f'DROP INDEX IF EXISTS "{name}"'


def _create(name: str) -> str:
    table, columns = DROPPED[name]
    return f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({columns})'


class Migration(migrations.Migration):
    dependencies = [
        ("provisioning", "0012_follow_audit_log"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(
                    model_name="provisioninglogentry",
                    name="log_job_upn",
                ),
                migrations.RemoveIndex(
                    model_name="provisioninglogentry",
                    name="log_job_name",
                ),
                migrations.AlterField(
                    model_name="provisionedlink",
                    name="job",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="links",
                        to="provisioning.provisioningjob",
                    ),
                ),
                migrations.AlterField(
                    model_name="provisioninglogentry",
                    name="change_id",
                    field=models.CharField(default=provisioning.models.new_guid, editable=False, max_length=36),
                ),
                migrations.AlterField(
                    model_name="provisioninglogentry",
                    name="cycle",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="log_entries",
                        to="provisioning.provisioningcycle",
                    ),
                ),
                migrations.AlterField(
                    model_name="provisioninglogentry",
                    name="job",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="log_entries",
                        to="provisioning.provisioningjob",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="provisioninglogentry",
                    constraint=models.UniqueConstraint(fields=("change_id",), name="log_change_id_unique"),
                ),
            ],
            database_operations=[
                *(migrations.RunSQL(_drop(name), _create(name)) for name in DROPPED),
                PostgreSQLOnly(
                    sql=[
                        _drop(LIKE_INDEX),
                        f'ALTER TABLE "{LOG}" RENAME CONSTRAINT "{UNIQUE}" TO "log_change_id_unique"',
                    ],
                    reverse_sql=[
                        f'ALTER TABLE "{LOG}" RENAME CONSTRAINT "log_change_id_unique" TO "{UNIQUE}"',
                        f'CREATE INDEX IF NOT EXISTS "{LIKE_INDEX}" ON "{LOG}" ("change_id" varchar_pattern_ops)',
                    ],
                ),
            ],
        ),
    ]
