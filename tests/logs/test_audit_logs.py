"""Audit logs page filters in the URL: activity, actor and date."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from console.models import AuditActivity, AuditEntry, record_audit


def activities(response) -> list[str]:
    return [e.activity for e in response.context["page"].object_list]


def test_filter_by_actor_and_date(reader_client, application, admin_user):
    other = User.objects.create_user("other.admin")
    record_audit(AuditActivity.START, actor=admin_user, application=application, changed_fields=["enabled"])
    record_audit(AuditActivity.STOP, actor=other, application=application, changed_fields=["enabled"])
    old = record_audit(AuditActivity.UPDATE_SETTINGS, actor=admin_user, application=application)
    AuditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    url = reverse("audit_logs", args=[application.slug])

    assert activities(reader_client.get(url, {"actor": "other.admin"})) == [AuditActivity.STOP]
    assert activities(reader_client.get(url, {"actor": admin_user.username, "date": "7d"})) == [AuditActivity.START]
    day = (timezone.now() - timedelta(days=10)).date().isoformat()
    assert activities(reader_client.get(url, {"date": "custom", "start": day, "end": day})) == [
        AuditActivity.UPDATE_SETTINGS
    ]
    # create_application's own entry is by "system"
    assert activities(reader_client.get(url, {"actor": "system"})) == [AuditActivity.CREATE_APPLICATION]
    response = reader_client.get(url, {"actor": "other.admin"})
    assert 'value="other.admin"' in response.content.decode()
