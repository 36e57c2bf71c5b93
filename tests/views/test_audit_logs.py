"""The Audit logs page: entries of this application, newest first, filtered by activity in the URL."""

from __future__ import annotations

from django.urls import reverse

from console.models import AuditActivity, record_audit
from provisioning.applications import create_application


def test_lists_only_this_application_and_filters_by_activity(reader_client, application, admin_user):
    other = create_application("Dev sandbox")
    record_audit(AuditActivity.UPDATE_SETTINGS, actor=admin_user, application=application, changed_fields=["scope"])
    record_audit(AuditActivity.START, actor=admin_user, application=application, changed_fields=["enabled"])
    record_audit(AuditActivity.UPDATE_SETTINGS, actor=admin_user, application=other, changed_fields=["tenant_id"])

    url = reverse("audit_logs", args=[application.slug])
    page = reader_client.get(url)
    entries = list(page.context["page"].object_list)
    assert [e.activity for e in entries] == [
        AuditActivity.START,
        AuditActivity.UPDATE_SETTINGS,
        AuditActivity.CREATE_APPLICATION,
    ]
    assert "tenant_id" not in page.content.decode()

    filtered = reader_client.get(url, {"activity": AuditActivity.UPDATE_SETTINGS})
    entries = list(filtered.context["page"].object_list)
    assert [e.changed_fields for e in entries] == [["scope"]]
    content = filtered.content.decode()
    assert '<option value="Update provisioning setting or credentials" selected>' in content
    assert "<code>scope</code>" in content


def test_unknown_activity_filter_shows_everything(reader_client, application):
    response = reader_client.get(reverse("audit_logs", args=[application.slug]), {"activity": "<script>"})
    assert response.status_code == 200
    assert response.context["filters"].value("activity") is None
    assert len(response.context["page"].object_list) == 1
    content = response.content.decode()
    assert "Unknown activity &#x27;&lt;script&gt;&#x27;; showing every activity." in content
    assert "<script>" not in content


def test_paging_keeps_the_filter(reader_client, application, admin_user):
    for _ in range(55):
        record_audit(AuditActivity.UPDATE_SETTINGS, actor=admin_user, application=application, changed_fields=["scope"])
    response = reader_client.get(
        reverse("audit_logs", args=[application.slug]), {"activity": AuditActivity.UPDATE_SETTINGS}
    )
    assert len(response.context["page"].object_list) == 50
    assert "activity=Update%20provisioning%20setting%20or%20credentials&amp;page=2" in response.content.decode()
