"""The Applications list, creating several applications, deleting one with confirmation."""

from __future__ import annotations

from django.urls import reverse

from connections.models import Application
from console.models import AuditActivity, AuditEntry
from mappings.models import ObjectMapping


def test_empty_list_says_so_honestly(admin_client, db):
    content = admin_client.get(reverse("applications")).content.decode()
    assert "No applications yet" in content
    assert "New application" in content


def test_create_with_derived_suffix(admin_client):
    response = admin_client.post(reverse("application_create"), {"name": "UAT sandbox", "suffix": ""})
    application = Application.objects.get(name="UAT sandbox")
    assert response.status_code == 302
    assert response["Location"] == reverse("provisioning", args=[application.slug])
    assert application.slug == "uat-sandbox"
    assert ObjectMapping.objects.get(application=application).sandbox_suffix == "uat"
    assert application.job.job_id.startswith("SfSandboxOutDelta.")
    entry = AuditEntry.objects.get(activity=AuditActivity.CREATE_APPLICATION)
    assert entry.actor_name == "alice.admin"


def test_several_applications_with_their_own_suffix(admin_client):
    admin_client.post(reverse("application_create"), {"name": "UAT sandbox", "suffix": ""})
    admin_client.post(reverse("application_create"), {"name": "Dev sandbox", "suffix": ".Dev2"})
    assert ObjectMapping.objects.get(application__name="Dev sandbox").sandbox_suffix == "dev2"
    content = admin_client.get(reverse("applications")).content.decode()
    content = content[content.index("<table") :]  # past the "created" messages
    assert content.index("Dev sandbox") < content.index("UAT sandbox")
    assert content.count("Not tested yet") == 4
    assert content.count(">Manual<") == 2


def test_list_shows_mode_status_and_last_test(admin_client, configured_application):
    configured_application.salesforce.record_test(False, "INVALID_LOGIN", 120)
    content = admin_client.get(reverse("applications")).content.decode()
    assert 'class="badge badge-blue">Automatic<' in content
    assert 'class="badge badge-grey">Off<' in content
    assert 'class="badge badge-red">Failed<' in content


def test_duplicate_or_unusable_names_are_refused(admin_client, application):
    for name, message in [
        ("uat SANDBOX", "exists already"),
        ("UAT-sandbox", "another application uses"),
        ("!!!", "at least one letter"),
        ("x" * 101, "at most 100 characters"),
    ]:
        response = admin_client.post(reverse("application_create"), {"name": name, "suffix": ""})
        assert response.status_code == 400, name
        assert message in response.content.decode(), name
    bad_suffix = admin_client.post(reverse("application_create"), {"name": "Dev", "suffix": "dev 2"})
    assert "lower-case letters" in bad_suffix.content.decode()
    assert Application.objects.count() == 1


def test_delete_asks_then_deletes_and_keeps_the_audit_trail(admin_client, application):
    confirm = admin_client.get(reverse("application_delete", args=[application.slug]))
    assert "Delete “UAT sandbox”?" in confirm.content.decode()
    assert Application.objects.filter(pk=application.pk).exists()
    response = admin_client.post(reverse("application_delete", args=[application.slug]))
    assert response.status_code == 302
    assert not Application.objects.filter(pk=application.pk).exists()
    entry = AuditEntry.objects.get(activity=AuditActivity.DELETE_APPLICATION)
    assert entry.application is None and entry.application_name == "UAT sandbox"


def test_overview_is_honest_before_any_cycle(reader_client, configured_application):
    content = reader_client.get(reverse("application_overview", args=[configured_application.slug])).content.decode()
    assert "No provisioning cycle has run yet." in content
    assert str(configured_application.object_id) in content
    assert "Delete application" not in content  # readers get no destructive links


def test_blade_nav_lists_entra_pages_and_marks_the_current_one(reader_client, application):
    content = reader_client.get(reverse("audit_logs", args=[application.slug])).content.decode()
    labels = ["Overview", "Provisioning", "Users and groups", "Provision on demand", "Provisioning logs", "Audit logs"]
    positions = [content.index(f">{label}</a>") for label in labels]
    assert positions == sorted(positions)
    assert 'aria-current="page" class="active">Audit logs</a>' in content
    assert "<title>Audit logs · UAT sandbox" in content


def test_static_assets_are_served_locally(admin_client, db):
    content = admin_client.get(reverse("applications")).content.decode()
    assert '<script src="/static/vendor/htmx.min.js"' in content
    assert "https://" not in content.split("<body")[0]  # no CDN


def test_a_name_taken_between_the_check_and_the_save_is_refused_with_a_message(admin_client, monkeypatch):
    from provisioning.views import applications

    real = applications.create_application

    def raced(name, **kwargs):
        real(name, suffix="other")  # someone else's application lands between the form's check and this insert
        return real(name, **kwargs)

    monkeypatch.setattr(applications, "create_application", raced)
    response = admin_client.post(reverse("application_create"), {"name": "UAT sandbox", "suffix": "uat"})
    assert response.status_code == 400
    assert (
        "An application with this name (or its address) was just created: choose another." in response.content.decode()
    )
