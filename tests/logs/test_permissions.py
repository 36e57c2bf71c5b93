"""Who may do what on the Overview and log pages: readers see and download, only administrators act."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.models import AuditActivity, AuditEntry
from provisioning.models import ProvisioningJob
from tests.logs.conftest import make_entry

READ_VIEWS = [
    ("application_overview", ()),
    ("overview_progress", ()),
    ("provisioning_logs", ()),
    ("provisioning_logs_download_json", ()),
    ("provisioning_logs_download_csv", ()),
    ("audit_logs", ()),
]
ACTIONS = ["start", "stop", "sync", "restart", "dry-run"]


@pytest.mark.parametrize("name,args", READ_VIEWS)
def test_anonymous_is_sent_to_sign_in(client, application, name, args):
    response = client.get(reverse(name, args=[application.slug, *args]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name,args", READ_VIEWS)
def test_reader_sees_every_page_and_download(reader_client, application, cycle, name, args):
    make_entry(cycle)
    response = reader_client.get(reverse(name, args=[application.slug, *args]))
    assert response.status_code == 200


def test_roleless_user_is_refused(client, roleless_user, application):
    client.force_login(roleless_user)
    assert client.get(reverse("provisioning_logs", args=[application.slug])).status_code == 403
    assert client.get(reverse("provisioning_logs_download_json", args=[application.slug])).status_code == 403


def test_reader_detail_page_and_anonymous_detail(reader_client, client, application, cycle):
    entry = make_entry(cycle)
    url = reverse("provisioning_log_detail", args=[application.slug, entry.change_id])
    assert reader_client.get(url).status_code == 200
    reader_client.logout()
    assert client.get(url).status_code == 302


@pytest.mark.parametrize("action", ACTIONS)
def test_reader_cannot_act(reader_client, application, action):
    response = reader_client.post(reverse("overview_action", args=[application.slug, action]))
    assert response.status_code == 403
    job = ProvisioningJob.objects.get(pk=application.job.pk)
    assert job.enabled is False and job.needs_initial_cycle is True
    assert not AuditEntry.objects.filter(activity__in=[AuditActivity.START, AuditActivity.RESTART]).exists()


def test_reader_sees_no_buttons(reader_client, application):
    content = reader_client.get(reverse("application_overview", args=[application.slug])).content.decode()
    assert "Sync now" not in content and "Restart provisioning" not in content


def test_actions_refuse_get(admin_client, application):
    assert admin_client.get(reverse("overview_action", args=[application.slug, "start"])).status_code == 405


def test_admin_starts_and_stops_provisioning(admin_client, application, admin_user):
    from django_q.models import Schedule

    url = reverse("overview_action", args=[application.slug, "start"])
    assert admin_client.post(url).status_code == 302
    job = ProvisioningJob.objects.get(pk=application.job.pk)
    assert job.enabled
    assert Schedule.objects.filter(name=f"provisioning-cycle-{job.pk}").exists()
    entry = AuditEntry.objects.filter(activity=AuditActivity.START).get()
    assert entry.actor == admin_user and entry.changed_fields == ["enabled"]

    admin_client.post(reverse("overview_action", args=[application.slug, "stop"]))
    job.refresh_from_db()
    assert not job.enabled
    assert not Schedule.objects.filter(name=f"provisioning-cycle-{job.pk}").exists()
    assert AuditEntry.objects.filter(activity=AuditActivity.STOP).count() == 1


def test_admin_sync_now_and_dry_run_queue_a_cycle_after_commit(
    admin_client, application, django_capture_on_commit_callbacks
):
    for action in ("sync", "dry-run"):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = admin_client.post(reverse("overview_action", args=[application.slug, action]))
        assert response.status_code == 302
        assert len(callbacks) == 1


def test_admin_restart_clears_state_and_is_audited(admin_client, application, django_capture_on_commit_callbacks):
    job = application.job
    job.needs_initial_cycle = False
    job.watermark = "https://graph/delta?token=x"
    job.quarantine_reason = "EncounteredQuarantineException"
    job.save()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post(reverse("overview_action", args=[application.slug, "restart"]))
    job.refresh_from_db()
    assert job.needs_initial_cycle and job.watermark == "" and job.quarantine_reason == ""
    assert len(callbacks) == 1
    assert AuditEntry.objects.filter(activity=AuditActivity.RESTART, application=application).count() == 1


def test_unknown_action_is_404(admin_client, application):
    assert admin_client.post(reverse("overview_action", args=[application.slug, "explode"])).status_code == 404


def test_log_entries_cannot_be_edited(cycle):
    entry = make_entry(cycle)
    entry.status = "failure"
    with pytest.raises(ValueError):
        entry.save()


def test_admin_site_is_read_only(admin_client, admin_user, cycle):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    entry = make_entry(cycle)
    change = admin_client.get(reverse("admin:provisioning_provisioninglogentry_change", args=[entry.pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert admin_client.get(reverse("admin:provisioning_provisioninglogentry_add")).status_code == 403
