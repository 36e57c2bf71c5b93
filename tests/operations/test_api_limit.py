"""Salesforce's daily API allowance running out mid-cycle: the cycle pauses (never quarantined), the overview says so
and when the Limits resource is read next, and the scheduled check resumes the cycle once it shows requests free."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from provisioning import tasks
from provisioning.models import CycleStatus, CycleTrigger, ProvisionedLink, ProvisioningCycle, ProvisioningJob
from provisioning.operations import api_limit
from tests.operations.conftest import run


def linked_usernames(job) -> set[str]:
    return set(ProvisionedLink.objects.filter(job=job).exclude(target_id="").values_list("source_id", flat=True))


def test_the_daily_limit_pauses_the_cycle_and_the_limits_check_resumes_it(configured_app, emu, admin_client):
    job = configured_app.job
    job.enabled = True
    job.save(update_fields=["enabled"])
    emu.control.set_api_usage(used=0, limit=1)  # enough to start, not enough to finish the initial cycle

    paused = run(job)

    assert paused.status == CycleStatus.PAUSED and paused.error_code == "REQUEST_LIMIT_EXCEEDED"
    assert "(1 of 1 requests used)" in paused.error_message
    assert paused.salesforce_api_used == 1 and paused.salesforce_api_max == 1
    job.refresh_from_db()
    assert not job.is_quarantined
    assert job.api_limit_paused_at is not None
    assert timedelta(minutes=14) < job.api_limit_next_check - timezone.now() <= timedelta(minutes=15)
    check = Schedule.objects.get(name=api_limit.schedule_name(job.pk))
    assert check.func == api_limit.CHECK_FUNC and check.next_run == job.api_limit_next_check
    exported_before = linked_usernames(job)
    # The scheduled cycles wait; the overview says why and until when.
    assert tasks.run_scheduled_cycle(job.pk).startswith("skipped: paused for Salesforce's daily API limit")
    page = admin_client.get(reverse("application_overview", args=[configured_app.slug])).content.decode()
    assert "Paused for the Salesforce API limit" in page and "Limits resource is read again at" in page

    # Still used up: the check reads /limits (refused at the limit), stays paused and looks again later.
    said = tasks.check_api_limit(job.pk)
    assert said.startswith("still paused")
    job.refresh_from_db()
    assert (
        job.api_limit_paused_at is not None and Schedule.objects.filter(name=api_limit.schedule_name(job.pk)).exists()
    )
    assert ProvisioningCycle.objects.filter(job=job).count() == 1

    # The rolling window frees requests: the next check resumes the cycle, which finishes what was left.
    emu.control.set_api_usage(used=0, limit=5_000_000)
    tasks.check_api_limit(job.pk)
    resumed = ProvisioningCycle.objects.filter(job=job).order_by("-pk").first()
    assert resumed.trigger == CycleTrigger.API_LIMIT
    assert resumed.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), resumed.error_message
    job.refresh_from_db()
    assert (
        job.api_limit_paused_at is None and not Schedule.objects.filter(name=api_limit.schedule_name(job.pk)).exists()
    )
    assert exported_before <= linked_usernames(job)
    usernames = [u["Username"].lower() for u in emu.control.salesforce_users()]
    assert len(usernames) == len(set(usernames))
    assert resumed.salesforce_api_used is not None and resumed.salesforce_api_max == 5_000_000


def test_turning_provisioning_off_ends_the_pause_at_the_next_check(configured_app, emu):
    job = configured_app.job
    emu.control.set_api_usage(used=0, limit=1)
    assert run(job).status == CycleStatus.PAUSED
    assert ProvisioningJob.objects.get(pk=job.pk).api_limit_paused_at is not None

    assert tasks.check_api_limit(job.pk) == "still paused: provisioning is off: the pause ends"
    job.refresh_from_db()
    assert (
        job.api_limit_paused_at is None and not Schedule.objects.filter(name=api_limit.schedule_name(job.pk)).exists()
    )
