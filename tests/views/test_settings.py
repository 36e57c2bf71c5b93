"""Provisioning Mode, Settings (notification email, deletions, scope), Provisioning Status, Send test email."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_q.models import Schedule

from connections.models import Application
from console.models import AuditActivity, AuditEntry
from provisioning.models import ProvisioningJob
from tests.conftest import current_version

SETTINGS = {
    "settings-notification_email": "ops@example.com",
    "settings-prevent_accidental_deletions": "on",
    "settings-deletion_threshold": "500",
    "settings-scope": "assigned",
    "settings-interval_minutes": "40",
    "settings-retry_budget_minutes": "15",
    "settings-quarantine_min_operations": "10",
}


def post_settings(client, application, **changes):
    data = {**SETTINGS, "settings-edit_version": current_version(job_of(application))}
    for key, value in changes.items():
        if value is None:
            data.pop(f"settings-{key}", None)
        else:
            data[f"settings-{key}"] = value
    return client.post(reverse("save_settings", args=[application.slug]), data)


def job_of(application):
    return ProvisioningJob.objects.get(application=application)


def test_manual_mode_shows_only_the_explanation(admin_client, application):
    content = admin_client.get(reverse("provisioning", args=[application.slug])).content.decode()
    assert "Manual: the console does not provision this application" in content
    assert 'id="credentials-title"' not in content
    assert "settings-notification_email" not in content
    assert "Test Connection" not in content


def test_switching_to_automatic_reveals_the_sections_and_is_audited(admin_client, application):
    response = admin_client.post(
        reverse("save_mode", args=[application.slug]),
        {"mode-provisioning_mode": "automatic", "mode-edit_version": current_version(application)},
    )
    assert response.status_code == 302
    content = admin_client.get(reverse("provisioning", args=[application.slug])).content.decode()
    for heading in ("credentials-title", "mappings-title", "settings-title", "status-title", "test-salesforce"):
        assert f'id="{heading}"' in content
    assert "Synchronize Microsoft Entra users to Salesforce Sandbox" in content
    entry = AuditEntry.objects.get(activity=AuditActivity.UPDATE_SETTINGS)
    assert entry.changed_fields == ["provisioning_mode"]


def test_cannot_switch_to_manual_while_provisioning_is_on(admin_client, configured_application):
    ProvisioningJob.objects.filter(application=configured_application).update(enabled=True)
    response = admin_client.post(
        reverse("save_mode", args=[configured_application.slug]),
        {"mode-provisioning_mode": "manual", "mode-edit_version": current_version(configured_application)},
    )
    assert response.status_code == 400
    assert "Turn Provisioning Status Off" in response.content.decode()
    assert Application.objects.get(pk=configured_application.pk).is_automatic


def test_settings_save_and_audit_changed_names(admin_client, configured_application):
    response = post_settings(
        admin_client,
        configured_application,
        notification_email="ops@example.com; sec@example.com",
        notify_on_failure="on",
        deletion_threshold="3",
        scope="all",
    )
    assert response.status_code == 302
    job = job_of(configured_application)
    assert job.notification_email == "ops@example.com, sec@example.com"
    assert job.notification_recipients() == ["ops@example.com", "sec@example.com"]
    assert job.notify_on_failure and job.deletion_threshold == 3 and job.scope == "all"
    entry = AuditEntry.objects.get(activity=AuditActivity.UPDATE_SETTINGS)
    assert entry.changed_fields == ["deletion_threshold", "notification_email", "notify_on_failure", "scope"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"notification_email": "ops@example.com, not-an-address"}, "notification_email", "not-an-address"),
        ({"notification_email": "", "notify_on_failure": "on"}, "notification_email", "Enter an address"),
        ({"deletion_threshold": "0"}, "deletion_threshold", "greater than or equal to 1"),
        ({"deletion_threshold": "many"}, "deletion_threshold", "whole number"),
        ({"interval_minutes": "100000"}, "interval_minutes", "less than or equal to 1440"),
        ({"scope": "everyone"}, "scope", "valid choice"),
        ({"quarantine_min_operations": "0"}, "quarantine_min_operations", "greater than or equal to 1"),
        ({"retry_budget_minutes": "241"}, "retry_budget_minutes", "less than or equal to 240"),
        ({"notification_email": ("a" * 60 + "@example.com,") * 17}, "notification_email", "at most 1000"),
    ],
)
def test_invalid_settings_save_nothing(admin_client, configured_application, changes, field, message):
    # A valid change rides along with the invalid one: it must not be saved either.
    response = post_settings(admin_client, configured_application, **{"prevent_accidental_deletions": None, **changes})
    assert response.status_code == 400
    assert message in " ".join(response.context["forms"]["settings"].errors[field])
    job = job_of(configured_application)
    assert job.deletion_threshold == 500 and job.notification_email == "ops@example.com"
    assert job.prevent_accidental_deletions is True
    assert not AuditEntry.objects.filter(activity=AuditActivity.UPDATE_SETTINGS).exists()


def test_quarantine_sample_size_is_a_labelled_setting(admin_client, configured_application):
    page = admin_client.get(reverse("provisioning", args=[configured_application.slug])).content.decode()
    assert 'name="settings-quarantine_min_operations"' in page
    assert "Minimum operations before the failure ratio quarantines" in page
    assert post_settings(admin_client, configured_application, quarantine_min_operations="5000").status_code == 302
    assert job_of(configured_application).quarantine_min_operations == 5000
    entry = AuditEntry.objects.get(activity=AuditActivity.UPDATE_SETTINGS)
    assert entry.changed_fields == ["quarantine_min_operations"]


def test_the_retry_time_budget_is_a_labelled_setting_and_a_stale_save_of_it_is_refused(
    admin_client, configured_application
):
    page = admin_client.get(reverse("provisioning", args=[configured_application.slug])).content.decode()
    assert 'name="settings-retry_budget_minutes" value="15"' in page and "Retry time budget (minutes)" in page
    stale = current_version(job_of(configured_application))
    assert post_settings(admin_client, configured_application, retry_budget_minutes="30").status_code == 302
    assert job_of(configured_application).retry_budget_minutes == 30
    data = {**SETTINGS, "settings-edit_version": stale, "settings-retry_budget_minutes": "5"}
    refused = admin_client.post(reverse("save_settings", args=[configured_application.slug]), data)
    assert refused.status_code == 409
    assert job_of(configured_application).retry_budget_minutes == 30


def status(client, application, value):
    data = {"status-enabled": value, "status-edit_version": current_version(job_of(application))}
    return client.post(reverse("save_status", args=[application.slug]), data)


def test_turning_provisioning_on_and_off_is_audited(admin_client, configured_application):
    assert status(admin_client, configured_application, "on").status_code == 302
    assert job_of(configured_application).enabled is True
    assert status(admin_client, configured_application, "on").status_code == 302  # no change: no entry
    assert status(admin_client, configured_application, "off").status_code == 302
    assert job_of(configured_application).enabled is False
    activities = list(AuditEntry.objects.order_by("id").values_list("activity", "changed_fields"))
    assert activities[-2:] == [(AuditActivity.START, ["enabled"]), (AuditActivity.STOP, ["enabled"])]


def test_provisioning_status_and_interval_drive_the_cycle_schedule(admin_client, configured_application):
    name = f"provisioning-cycle-{configured_application.job.pk}"
    status(admin_client, configured_application, "on")
    assert Schedule.objects.get(name=name).minutes == 40
    post_settings(admin_client, configured_application, interval_minutes="15")
    assert Schedule.objects.get(name=name).minutes == 15
    status(admin_client, configured_application, "off")
    assert not Schedule.objects.filter(name=name).exists()


def test_deleting_an_application_that_is_on_removes_its_schedule(admin_client, configured_application):
    status(admin_client, configured_application, "on")
    admin_client.post(reverse("application_delete", args=[configured_application.slug]))
    assert not Schedule.objects.filter(name__startswith="provisioning-cycle-").exists()


def test_cannot_turn_on_without_credentials(admin_client, application):
    application.provisioning_mode = "automatic"
    application.save()
    response = status(admin_client, application, "on")
    assert response.status_code == 400
    content = response.content.decode()
    assert "enter the Salesforce admin credentials and enter the Entra connection" in content
    assert job_of(application).enabled is False
    assert not AuditEntry.objects.filter(activity=AuditActivity.START).exists()


def test_send_test_email_arrives_at_the_smtp_server(admin_client, configured_application, smtp_server):
    job = job_of(configured_application)
    job.notification_email = "ops@example.com, sec@example.com"
    job.save()
    response = admin_client.post(reverse("send_test_email", args=[configured_application.slug]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Test email sent to ops@example.com, sec@example.com." in response.content.decode()
    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert sorted(mail.rcpt_tos) == ["ops@example.com", "sec@example.com"]
    assert mail.message["Subject"] == "Test notification from provisioning of UAT sandbox"
    assert mail.message["To"] == "ops@example.com, sec@example.com"
    assert "Application: UAT sandbox" in mail.part("text/plain")
    assert job.job_id in mail.part("text/plain")
    assert "<td>UAT sandbox</td>" in mail.part("text/html")


def test_refused_recipient_is_reported_without_a_500(admin_client, configured_application, smtp_server):
    smtp_server.refuse.add("ops@example.com")
    response = admin_client.post(reverse("send_test_email", args=[configured_application.slug]))
    assert response.status_code == 302
    page = admin_client.get(response["Location"]).content.decode()
    assert "The mail server refused the recipient(s) ops@example.com." in page
    assert smtp_server.messages == []


def test_unreachable_smtp_server_is_reported(admin_client, configured_application, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    response = admin_client.post(reverse("send_test_email", args=[configured_application.slug]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Cannot reach the mail server at 127.0.0.1:9" in response.content.decode()


def test_test_email_without_address_says_so(admin_client, application, mailoutbox):
    response = admin_client.post(reverse("send_test_email", args=[application.slug]), HTTP_HX_REQUEST="true")
    assert "No Notification Email is saved" in response.content.decode()
    assert mailoutbox == []


def test_saving_settings_keeps_what_the_engine_wrote_meanwhile(admin_client, configured_application, monkeypatch):
    # The page was loaded before a cycle stored its watermark; saving settings must not write the old one back.
    from provisioning.views import configuration

    real_get_application = configuration.get_application

    def stale_then_cycle(slug):
        application = real_get_application(slug)
        ProvisioningJob.objects.filter(pk=application.job.pk).update(watermark="https://graph/delta?token=new")
        application.salesforce.__class__.objects.filter(pk=application.salesforce.pk).update(last_test_message="x")
        return application

    monkeypatch.setattr(configuration, "get_application", stale_then_cycle)
    post_settings(admin_client, configured_application, deletion_threshold="9")
    response = admin_client.post(
        reverse("save_salesforce_credentials", args=[configured_application.slug]),
        {
            "salesforce-auth_method": "password",
            "salesforce-login_url": "https://test.salesforce.com",
            "salesforce-api_version": "59.0",
            "salesforce-admin_username": "admin@acme.com.uat",
            "salesforce-admin_password": "new-password",
            "salesforce-edit_version": current_version(configured_application.salesforce),
        },
    )
    assert response.status_code == 302
    job = job_of(configured_application)
    assert job.deletion_threshold == 9
    assert job.watermark == "https://graph/delta?token=new"
    sf = configured_application.salesforce.__class__.objects.get(pk=configured_application.salesforce.pk)
    assert sf.last_test_message == "x" and sf.secret("admin_password") == "new-password"


def test_apps_documents_carry_the_quarantine_sample_size(db):
    from provisioning.applications import create_from_config, export_config

    application = create_from_config({"name": "Sample size", "settings": {"quarantine_min_operations": 250}})
    assert application.job.quarantine_min_operations == 250
    assert export_config(application)["settings"]["quarantine_min_operations"] == 250
    copy = create_from_config({**export_config(application), "name": "Copy", "slug": "copy"}, env={})
    assert copy.job.quarantine_min_operations == 250
