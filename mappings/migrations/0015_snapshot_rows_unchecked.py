"""The assignment snapshot's rows keep their application by Django's cascade alone: no foreign-key constraint (checked
row by row at commit on PostgreSQL, for some 400,000 rows a refresh) and no index of its own (every index of these
tables begins with the application)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('connections', '0004_salesforce_organization'),
        ('mappings', '0014_snapshot_row_digests'),
    ]

    operations = [
        migrations.AlterField(
            model_name='snapshotassignment',
            name='application',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='connections.application'),
        ),
        migrations.AlterField(
            model_name='snapshotgrant',
            name='application',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='connections.application'),
        ),
        migrations.AlterField(
            model_name='snapshotuser',
            name='application',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='connections.application'),
        ),
    ]
