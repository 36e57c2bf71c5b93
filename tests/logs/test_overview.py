"""The Overview: status, live progress partial, statistics, cycle history and chart, link to the last cycle's log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connections.models import ProvisioningMode
from provisioning.models import CycleStatus
from tests.logs.conftest import make_cycle


@pytest.fixture
def configured(application):
    """An application in Automatic mode with both connections filled in."""
    application.provisioning_mode = ProvisioningMode.AUTOMATIC
    application.save()
    entra = application.entra
    entra.tenant_id = "11111111-1111-1111-1111-111111111111"
    entra.client_id = "22222222-2222-2222-2222-222222222222"
    entra.service_principal_id = "33333333-3333-3333-3333-333333333333"
    entra.set_secret("client_secret", "s3cret-value")
    entra.save()
    sf = application.salesforce
    sf.admin_username = "admin@acme.com.uat"
    sf.set_secret("admin_password", "pw")
    sf.set_secret("security_token", "tok")
    sf.save()
    return application


def overview(client, application):
    response = client.get(reverse("application_overview", args=[application.slug]))
    assert response.status_code == 200
    return response


def test_not_configured_until_automatic_with_connections(reader_client, application):
    assert overview(reader_client, application).context["status"].code == "NotConfigured"


def test_status_not_run_active_paused_quarantined(reader_client, configured):
    job = configured.job
    assert overview(reader_client, configured).context["status"].code == "NotRun"
    make_cycle(job)
    assert overview(reader_client, configured).context["status"].code == "Paused"
    job.enabled = True
    job.save()
    assert overview(reader_client, configured).context["status"].code == "Active"
    job.quarantine_reason = "EncounteredQuarantineException"
    job.quarantine_began = timezone.now() - timedelta(hours=2)
    job.quarantine_next_attempt = timezone.now() + timedelta(hours=4)
    job.quarantine_error = "INVALID_LOGIN: the admin password or secret token is wrong."
    job.quarantine_request = "POST https://test.salesforce.com/services/Soap/u/59.0"
    job.save()
    response = overview(reader_client, configured)
    assert response.context["status"].code == "Quarantine"
    content = response.content.decode()
    assert "EncounteredQuarantineException" in content
    assert "POST https://test.salesforce.com/services/Soap/u/59.0" in content
    assert "INVALID_LOGIN" in content and "Next attempt" in content


def test_progress_partial_reflects_a_running_cycle(reader_client, configured):
    job = configured.job
    url = reverse("overview_progress", args=[configured.slug])
    idle = reader_client.get(url).content.decode()
    assert "No cycle is running" in idle and "hx-trigger" not in idle

    cycle = make_cycle(job, status=CycleStatus.RUNNING, kind="initial", objects_done=250, objects_total=1000)
    running = reader_client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in running and f'hx-get="{url}"' in running
    assert 'aria-valuenow="25"' in running and "Initial cycle" in running

    cycle.objects_done = 900
    cycle.created = 12
    cycle.save()
    later = reader_client.get(url).content.decode()
    assert 'aria-valuenow="90"' in later and "Created 12" in later

    cycle.finish(CycleStatus.SUCCEEDED)
    assert "No cycle is running" in reader_client.get(url).content.decode()


def test_progress_by_pages_when_no_object_estimate(reader_client, configured):
    make_cycle(configured.job, status=CycleStatus.RUNNING, pages_done=1, pages_total=4)
    content = reader_client.get(reverse("overview_progress", args=[configured.slug])).content.decode()
    assert 'aria-valuenow="25"' in content


def test_overview_page_embeds_the_polling_partial(reader_client, configured):
    make_cycle(configured.job, status=CycleStatus.RUNNING)
    content = overview(reader_client, configured).content.decode()
    assert 'id="cycle-progress"' in content and "every 2s" in content


def test_statistics_history_chart_and_last_cycle_link(reader_client, configured):
    job = configured.job
    first = make_cycle(job, created=10, updated=2, failed=1)
    first.finished_at = timezone.now() - timedelta(hours=1)
    first.save()
    last = make_cycle(job, created=1, updated=4, disabled=2)
    make_cycle(job, created=100, dry_run=True, kind="dry_run")  # a dry run provisions nothing
    response = overview(reader_client, configured)
    assert response.context["totals"]["created"] == 11
    assert response.context["totals"]["updated"] == 6
    assert response.context["last_cycle"].pk != first.pk
    content = response.content.decode()
    assert f"?cycle={last.cycle_id}" in content and job.job_id in content
    assert "<svg" in content and "<title id=" in content and "<desc id=" in content
    assert len(response.context["history"]) == 3


def test_the_last_cycle_shows_every_counter_with_enabled_and_held(reader_client, configured):
    make_cycle(configured.job, created=1, enabled=7, staged=501)
    content = overview(reader_client, configured).content.decode()
    assert "Enabled 7" in content and "Held 501" in content
    assert '<th scope="col">Enabled</th><th scope="col">Held</th>' in content and "<td>7</td><td>501</td>" in content


def test_users_in_the_link_table(reader_client, configured):
    job = configured.job
    job.links.create(source_id="a", target_id="005000000000001AAA")
    job.links.create(source_id="b", target_id="005000000000002AAA")
    assert overview(reader_client, configured).context["users_in_link_table"] == 2


def test_admin_sees_buttons_with_restart_confirmation(admin_client, configured):
    content = overview(admin_client, configured).content.decode()
    for label in ("Start provisioning", "Sync now", "Dry run", "Restart provisioning"):
        assert label in content
    assert 'data-confirm="Restart provisioning? The watermark, escrows and quarantine are cleared' in content


@pytest.mark.parametrize(
    ("reason", "advice"),
    [
        ("EncounteredQuarantineException", "Test Connection"),
        ("EncounteredEscrowProportionThreshold", "filtered on failures"),
        ("TooManyDeletes", "Review the held users"),
    ],
)
def test_the_quarantine_banner_says_what_to_do_for_its_reason(reader_client, configured, reason, advice):
    job = configured.job
    make_cycle(job)
    job.quarantine_reason, job.quarantine_began = reason, timezone.now()
    job.save()
    content = overview(reader_client, configured).content.decode()
    assert advice in content
    assert ("admin credentials" in content) == (reason == "EncounteredQuarantineException")


@pytest.fixture
def held(configured):
    """The last cycle held two deactivations (Prevent accidental deletions)."""
    from tests.logs.conftest import make_entry

    job = configured.job
    cycle = make_cycle(job, staged=2)
    for n in range(2):
        make_entry(cycle, number=n, action="stageddelete", status="skipped")
    job.held_deletions_cycle = cycle
    job.save()
    return job


def test_held_deletions_show_with_a_link_to_them(reader_client, configured, held):
    response = overview(reader_client, configured)
    content = response.content.decode()
    assert response.context["held_deletions"] == 2
    assert "2 deactivations are held" in content
    assert "action=stageddelete" in response.context["held_deletions_url"]
    assert "Allow deletes" not in content  # a reader sees, does not answer


def test_reader_cannot_answer_held_deletions(reader_client, configured, held):
    for action in ("allow-deletes", "reject-deletes"):
        assert reader_client.post(reverse("overview_action", args=[configured.slug, action])).status_code == 403
    held.refresh_from_db()
    assert held.held_deletions_cycle_id is not None and not held.deletions_allowed


def test_admin_allows_deletes(admin_client, configured, held, django_capture_on_commit_callbacks):
    from console.models import AuditActivity, AuditEntry

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post(reverse("overview_action", args=[configured.slug, "allow-deletes"]))
    held.refresh_from_db()
    assert held.deletions_allowed
    assert len(callbacks) == 1  # the cycle that exports them
    assert AuditEntry.objects.filter(activity=AuditActivity.ALLOW_DELETES).count() == 1


def test_admin_rejects_deletes(admin_client, configured, held):
    from console.models import AuditActivity, AuditEntry

    admin_client.post(reverse("overview_action", args=[configured.slug, "reject-deletes"]))
    held.refresh_from_db()
    assert held.held_deletions_cycle_id is None
    assert AuditEntry.objects.filter(activity=AuditActivity.REJECT_DELETES).count() == 1
    assert overview(admin_client, configured).context["held_deletions"] == 0


def test_an_enabled_job_offers_stop_instead_of_start(admin_client, configured):
    configured.job.enabled = True
    configured.job.save()
    content = overview(admin_client, configured).content.decode()
    assert "Stop provisioning" in content and "Start provisioning" not in content
    assert "Allow deletes" not in content  # nothing is held


def test_allow_and_reject_deletes_without_a_hold_say_so_and_change_nothing(admin_client, configured):
    from console.models import AuditEntry

    audited = AuditEntry.objects.count()
    for action in ("allow-deletes", "reject-deletes"):
        response = admin_client.post(reverse("overview_action", args=[configured.slug, action]), follow=True)
        assert "No deactivation is held: nothing to allow or reject." in response.content.decode()
    configured.job.refresh_from_db()
    assert not configured.job.deletions_allowed
    assert AuditEntry.objects.count() == audited


def test_the_held_deletions_buttons_ask_before_allowing(admin_client, configured, held):
    content = overview(admin_client, configured).content.decode()
    allow = content[content.index("allow-deletes/") :]
    assert allow.index('data-confirm="Allow deletes?') < allow.index("Allow deletes</button>")
    reject = content[content.index("reject-deletes/") :]
    assert "data-confirm" not in reject[: reject.index("Reject deletes</button>")]
