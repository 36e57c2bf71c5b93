"""Indexes for the identity filter of the Provisioning logs page on SQLite.

Django's istartswith is ``col LIKE 'x%' ESCAPE '\\'`` on SQLite, whose LIKE ignores the case of ASCII letters. SQLite
turns such a LIKE into an index range only on an index in the NOCASE collation (its "LIKE optimization"); the
model's indexes are in the default BINARY collation, so without these the search read every row of the job. They
lead with the job, as every filter of the page does, and need the planner's statistics to be chosen. PostgreSQL has its own (0003_logs_indexes).
"""

from django.db import migrations

from console.migration_operations import SQLiteOnly

TABLE = "provisioning_provisioninglogentry"
INDEXES = {
    "log_job_upn_nocase": "source_upn",
    "log_job_name_nocase": "source_display_name",
}


class Migration(migrations.Migration):
    dependencies = [
        ("provisioning", "0010_retry_budget_api_limit_takeover"),
    ]

    operations = [
        *(
            SQLiteOnly(
                sql=f'CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ("job_id", "{column}" COLLATE NOCASE)',
                reverse_sql=f"DROP INDEX IF EXISTS {name}",
            )
            for name, column in INDEXES.items()
        ),
        # The planner picks them only with statistics (provisioning.retention.refresh_planner_statistics).
        SQLiteOnly(sql=["PRAGMA analysis_limit=1000", f"ANALYZE {TABLE}"], reverse_sql=migrations.RunSQL.noop),
    ]
