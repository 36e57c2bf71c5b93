"""Indexes for the identity filter of the Provisioning logs page.

The filter is a case-insensitive prefix match (Django's istartswith: ``UPPER(col::text) LIKE UPPER('x%')``). On
PostgreSQL that can only use an index on the same expression with the pattern operator class, which Django's
Index cannot express portably, so the indexes are created here for PostgreSQL only. SQLite needs none (its LIKE
is case-insensitive and the tables it serves are small).
"""

from django.db import migrations

from console.migration_operations import PostgreSQLOnly

TABLE = "provisioning_provisioninglogentry"
INDEXES = {
    "log_upn_iprefix": "source_upn",
    "log_name_iprefix": "source_display_name",
}


class Migration(migrations.Migration):
    dependencies = [
        ("provisioning", "0002_engine"),
    ]

    operations = [
        PostgreSQLOnly(
            sql=f'CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ((UPPER("{column}"::text)) text_pattern_ops)',
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, column in INDEXES.items()
    ]
