"""A digest of each table of the assignment snapshot as the last full read stored it: an unchanged refresh writes
nothing without reading the rows back (mappings/directory/snapshot.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('mappings', '0013_snapshot_walk_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='assignmentsnapshot',
            name='row_digests',
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
