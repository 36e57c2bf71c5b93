"""The stored assignment snapshot (mappings/directory/models.py).

The list's search is a prefix match on lower-case copies of names, UPNs and mails (`LIKE 'x%'`). On PostgreSQL that
uses an index only with the pattern operator class (whatever the database's collation), which Django's Index cannot
express portably: those indexes are created here for PostgreSQL only, each led by the application.
"""

import django.db.models.deletion
from django.db import migrations, models

from console.migration_operations import PostgreSQLOnly

PREFIX_INDEXES = [
    (f"{table_short}_{column}_prefix", f"mappings_{table}", column)
    for table, table_short in (("snapshotassignment", "snap_assign"), ("snapshotuser", "snap_user"))
    for column in ("name_key", "upn_key", "mail_key")
]


class Migration(migrations.Migration):

    dependencies = [
        ('connections', '0003_edit_versions'),
        ('mappings', '0007_access_edit_versions'),
    ]

    operations = [
        migrations.CreateModel(
            name='AssignmentSnapshot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('as_of', models.DateTimeField(blank=True, help_text='When the read behind the stored rows began.', null=True)),
                ('refreshed_at', models.DateTimeField(blank=True, null=True)),
                ('refreshed_by', models.CharField(blank=True, choices=[('cycle', 'a provisioning cycle'), ('refresh', 'Refresh from Entra')], max_length=20)),
                ('changed_at', models.DateTimeField(blank=True, help_text='Last assignment added or removed here.', null=True)),
                ('app_roles', models.JSONField(default=list)),
                ('assignments', models.PositiveIntegerField(default=0)),
                ('users', models.PositiveIntegerField(default=0, help_text='Users with an assignment of their own.')),
                ('groups', models.PositiveIntegerField(default=0, help_text='Assignments of groups.')),
                ('reached', models.PositiveIntegerField(default=0, help_text='Users the assignments reach: whom a cycle provisions.')),
                ('warning_counts', models.JSONField(default=dict)),
                ('graph_calls', models.PositiveIntegerField(default=0)),
                ('seconds', models.FloatField(default=0)),
                ('refresh_requested_at', models.DateTimeField(blank=True, null=True)),
                ('error', models.TextField(blank=True)),
                ('error_at', models.DateTimeField(blank=True, null=True)),
                ('application', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='assignment_snapshot', to='connections.application')),
            ],
        ),
        migrations.CreateModel(
            name='SnapshotAssignment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('display_name', models.CharField(max_length=512)),
                ('upn', models.CharField(blank=True, max_length=512)),
                ('mail', models.CharField(blank=True, max_length=512)),
                ('name_key', models.CharField(max_length=256)),
                ('upn_key', models.CharField(blank=True, max_length=256)),
                ('mail_key', models.CharField(blank=True, max_length=256)),
                ('assignment_id', models.CharField(max_length=100)),
                ('principal_id', models.CharField(max_length=64)),
                ('principal_type', models.CharField(max_length=40)),
                ('role_id', models.CharField(max_length=64)),
                ('role_label', models.CharField(max_length=512)),
                ('default_access', models.BooleanField(default=False)),
                ('created', models.CharField(blank=True, max_length=40)),
                ('members', models.PositiveIntegerField(blank=True, help_text="A group's users, nested groups included.", null=True)),
                ('members_warned', models.PositiveIntegerField(default=0, help_text='Of those, users with a warning.')),
                ('warnings', models.PositiveIntegerField(default=0, help_text='Warning bits (warnings.KINDS).')),
                ('application', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='connections.application')),
            ],
            options={
                'indexes': [models.Index(fields=['application', 'name_key', 'id'], name='snapshot_assignment_order'), models.Index(fields=['application', 'principal_type', 'name_key', 'id'], name='snapshot_assignment_type'), models.Index(fields=['application', 'role_id', 'name_key', 'id'], name='snapshot_assignment_role'), models.Index(fields=['application', 'principal_id'], name='snapshot_assignment_principal')],
                'constraints': [models.UniqueConstraint(fields=('application', 'assignment_id'), name='snapshot_assignment_unique')],
            },
        ),
        migrations.CreateModel(
            name='SnapshotGrant',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('display_name', models.CharField(max_length=512)),
                ('upn', models.CharField(blank=True, max_length=512)),
                ('mail', models.CharField(blank=True, max_length=512)),
                ('name_key', models.CharField(max_length=256)),
                ('assignment_id', models.CharField(max_length=100)),
                ('user_id', models.CharField(max_length=64)),
                ('application', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='connections.application')),
            ],
            options={
                'indexes': [models.Index(fields=['application', 'assignment_id', 'name_key', 'user_id'], name='snapshot_grant_order'), models.Index(fields=['application', 'user_id'], name='snapshot_grant_user')],
                'constraints': [models.UniqueConstraint(fields=('application', 'assignment_id', 'user_id'), name='snapshot_grant_unique')],
            },
        ),
        migrations.CreateModel(
            name='SnapshotUser',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('display_name', models.CharField(max_length=512)),
                ('upn', models.CharField(blank=True, max_length=512)),
                ('mail', models.CharField(blank=True, max_length=512)),
                ('name_key', models.CharField(max_length=256)),
                ('upn_key', models.CharField(blank=True, max_length=256)),
                ('mail_key', models.CharField(blank=True, max_length=256)),
                ('user_id', models.CharField(max_length=64)),
                ('role_ids', models.TextField(blank=True, help_text='App role ids, space-separated; none for Default Access only.')),
                ('direct', models.BooleanField(default=False, help_text='Assigned with an assignment of their own.')),
                ('groups', models.PositiveIntegerField(default=0, help_text='Group assignments that reach the user.')),
                ('warnings', models.PositiveIntegerField(default=0)),
                ('application', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='connections.application')),
            ],
            options={
                'indexes': [models.Index(fields=['application', 'name_key', 'user_id'], name='snapshot_user_order')],
                'constraints': [models.UniqueConstraint(fields=('application', 'user_id'), name='snapshot_user_unique')],
            },
        ),
    ] + [
        PostgreSQLOnly(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} (application_id, {column} varchar_pattern_ops)",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, column in PREFIX_INDEXES
    ]
