"""Escrow: a per-user failure is retried in later cycles on a growing schedule, and succeeds once the cause is gone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from provisioning import scheduling
from provisioning.engine.escrow import next_attempt_at, retries_next_cycle
from provisioning.models import CycleKind, Escrow, LogStatus, ProvisioningLogEntry
from tests.operations.conftest import free_username, plain_assigned_users, run, sf_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_back_off_is_6_12_24_hours_then_daily_and_next_cycle_for_a_taken_username():
    now = timezone.now()
    gaps = [
        next_attempt_at(n, "SalesforceLicenseLimitExceeded", failed_at=now, cycle_started_at=now, interval_minutes=40)
        - now
        for n in (1, 2, 3, 4, 9)
    ]
    assert gaps == [timedelta(hours=h) for h in (6, 12, 24, 24, 24)]
    started = now - timedelta(minutes=5)
    taken = "SalesforceDuplicateUserName"
    due = next_attempt_at(1, taken, failed_at=now, cycle_started_at=started, interval_minutes=40)
    assert due == started + timedelta(minutes=39)
    assert retries_next_cycle("InternalServerError") and not retries_next_cycle("SalesforceRequiredFieldMissing")


def test_a_username_taken_in_another_org_is_escrowed_retried_on_schedule_and_succeeds_once_freed(configured_app, emu):
    job = configured_app.job
    user = plain_assigned_users(emu)[0]
    username = f"{user['userPrincipalName']}.uat"
    emu.control.add_taken_username(username)

    first = run(job)
    failure = ProvisioningLogEntry.objects.get(cycle=first, source_id=user["id"])
    assert failure.status == LogStatus.FAILURE and failure.error_code == "SalesforceDuplicateUserName"
    escrow = Escrow.objects.get(job=job, source_id=user["id"])
    assert escrow.attempts == 1 and failure.escrow_attempt == 1
    # "Retried on the next cycle" (Entra): due one interval after this cycle started.
    assert failure.next_attempt_at == escrow.next_attempt_at
    expected = first.started_at + timedelta(minutes=job.interval_minutes - 1)
    assert abs((escrow.next_attempt_at - expected).total_seconds()) < 2

    # Not yet due: an incremental cycle right away leaves it alone.
    second = run(job)
    assert second.kind == CycleKind.INCREMENTAL
    assert not ProvisioningLogEntry.objects.filter(cycle=second, source_id=user["id"]).exists()

    # Due, still taken: retried even though Graph reports no change for the user; attempt 2 logged.
    Escrow.objects.filter(pk=escrow.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    third = run(job)
    again = ProvisioningLogEntry.objects.get(cycle=third, source_id=user["id"])
    assert third.kind == CycleKind.INCREMENTAL
    assert again.status == LogStatus.FAILURE and again.escrow_attempt == 2 and again.next_attempt_at
    assert Escrow.objects.get(pk=escrow.pk).attempts == 2

    # Freed in the other org, and due: created; the escrow is gone.
    free_username(emu, username)
    Escrow.objects.filter(pk=escrow.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    fourth = run(job)
    done = ProvisioningLogEntry.objects.get(cycle=fourth, source_id=user["id"])
    assert done.status == LogStatus.SUCCESS and done.action == "create"
    assert sf_user(emu, user["userPrincipalName"])["Id"] == done.target_id
    assert not Escrow.objects.filter(job=job, source_id=user["id"]).exists()


def test_restart_clears_escrows_so_the_user_is_tried_at_once(configured_app, emu):
    job = configured_app.job
    user = plain_assigned_users(emu)[0]
    username = f"{user['userPrincipalName']}.uat"
    emu.control.add_taken_username(username)
    run(job)
    assert Escrow.objects.get(job=job, source_id=user["id"]).next_attempt_at > timezone.now()
    free_username(emu, username)
    job.refresh_from_db()
    scheduling.restart(job)  # the tests' django-q runs the queued initial cycle at once
    assert not Escrow.objects.filter(job=job, source_id=user["id"]).exists()
    assert sf_user(emu, user["userPrincipalName"]) is not None
