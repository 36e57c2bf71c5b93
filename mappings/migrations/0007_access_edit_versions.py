"""Salesforce access keeps its versions under the name every versioned object uses (console/concurrency.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mappings", "0006_edit_versions"),
    ]

    operations = [
        migrations.RenameField(model_name="approleaccess", old_name="version", new_name="edit_version"),
        migrations.AlterField(
            model_name="approleaccess",
            name="edit_version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
        migrations.RenameField(model_name="accesssettings", old_name="version", new_name="edit_version"),
        migrations.AlterField(
            model_name="accesssettings",
            name="edit_version",
            field=models.PositiveIntegerField(default=1, editable=False),
        ),
    ]
