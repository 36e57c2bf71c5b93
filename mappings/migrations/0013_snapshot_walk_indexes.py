"""The Users and groups list finds a page's ids by walking one index that holds the (name, id) order and every column
a search or the type and warning filters test (mappings/assignment_list.py, LIST_PAGES): it replaces the plain order
indexes, which it begins with, and the type filter's index (the type is one of the columns it holds): a refresh writes
one index fewer for each of 100,000 rows."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('connections', '0004_salesforce_organization'),
        ('mappings', '0012_follow_audit_log'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='snapshotassignment',
            name='snapshot_assignment_order',
        ),
        migrations.RemoveIndex(
            model_name='snapshotuser',
            name='snapshot_user_order',
        ),
        migrations.RemoveIndex(
            model_name='snapshotassignment',
            name='snapshot_assignment_type',
        ),
        migrations.AddIndex(
            model_name='snapshotassignment',
            index=models.Index(fields=['application', 'name_key', 'id', 'upn_key', 'mail_key', 'principal_type', 'warnings'], name='snapshot_assignment_walk'),
        ),
        migrations.AddIndex(
            model_name='snapshotuser',
            index=models.Index(fields=['application', 'name_key', 'user_id', 'upn_key', 'mail_key', 'direct', 'id'], name='snapshot_user_walk'),
        ),
    ]
