"""The watchdog: a cycle whose worker stopped renewing its claim is marked crashed and the job is handed over; a
worker that comes back after that writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from provisioning import watchdog
from provisioning.engine import lock
from provisioning.engine.cycle import run_claimed_cycle
from provisioning.engine.lifecycle import running_cycle
from provisioning.models import CycleKind, CycleStatus, CycleTrigger, ProvisioningCycle, ProvisioningJob

DEAD = "gone-host:4242:deadbeef"


def stopped_worker_cycle(job, *, lapsed_seconds: float = 1, kind=CycleKind.INITIAL) -> ProvisioningCycle:
    """A cycle Running under a claim whose worker stopped renewing it `lapsed_seconds` ago."""
    cycle = ProvisioningCycle.objects.create(job=job, kind=kind)
    cycle.start(worker=DEAD)
    ProvisioningCycle.objects.filter(pk=cycle.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=40))
    ProvisioningJob.objects.filter(pk=job.pk).update(
        lock_owner=DEAD, lock_expires_at=timezone.now() - timedelta(seconds=lapsed_seconds), running_cycle=cycle
    )
    return cycle


def test_the_watchdog_schedule_exists_once_and_runs_every_minute(db):
    watchdog.ensure_watchdog_schedule()
    watchdog.ensure_watchdog_schedule()
    [schedule] = Schedule.objects.filter(name=watchdog.SCHEDULE_NAME)
    assert schedule.func == watchdog.WATCHDOG_FUNC
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 1 and schedule.repeats == -1


def test_a_lapsed_claim_is_taken_away_its_cycle_crashed_and_a_takeover_cycle_queued(
    application, django_capture_on_commit_callbacks
):
    job = application.job
    ProvisioningJob.objects.filter(pk=job.pk).update(enabled=True)
    cycle = stopped_worker_cycle(job)

    with django_capture_on_commit_callbacks() as queued:
        said = watchdog.check_cycles()

    assert said.startswith("taken over: 1 job(s)")
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.CRASHED and cycle.error_code == "WorkerLost"
    job.refresh_from_db()
    assert job.lock_owner == "" and job.running_cycle is None
    assert len(queued) == 1  # the takeover cycle, sent to the broker once the watchdog's transaction commits


def test_a_claim_that_is_still_renewed_is_left_alone(application, django_capture_on_commit_callbacks):
    job = application.job
    owner = lock.worker_identity()
    assert lock.claim(job.pk, owner)
    cycle = ProvisioningCycle.objects.create(job=job, kind=CycleKind.INCREMENTAL)
    cycle.start(worker=owner)

    with django_capture_on_commit_callbacks() as queued:
        assert watchdog.check_cycles() == "all running cycles are alive"

    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.RUNNING and not queued
    assert ProvisioningJob.objects.get(pk=job.pk).lock_owner == owner


def test_a_running_cycle_without_a_claim_ends_once_its_heartbeat_is_older_than_the_claim_lifetime(application):
    job = application.job
    cycle = ProvisioningCycle.objects.create(job=job, kind=CycleKind.INCREMENTAL)
    cycle.start(worker=DEAD)
    watchdog.check_cycles()
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.RUNNING  # its heartbeat is fresh

    ProvisioningCycle.objects.filter(pk=cycle.pk).update(heartbeat_at=timezone.now() - lock.lock_ttl() * 2)
    watchdog.check_cycles()
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.CRASHED


def test_a_worker_that_comes_back_after_the_takeover_writes_nothing(application):
    job = application.job
    owner = lock.worker_identity()
    assert lock.claim(job.pk, owner)
    keeper = lock.ClaimKeeper(job.pk, owner)
    with running_cycle(
        job, kind=CycleKind.INITIAL, trigger=CycleTrigger.SCHEDULE, worker=owner, mapping_version=0
    ) as run:
        keeper.cycle_pk = run.cycle.pk
        # The worker freezes; its claim lapses and the watchdog hands the job to another worker.
        ProvisioningJob.objects.filter(pk=job.pk).update(lock_expires_at=timezone.now() - timedelta(seconds=1))
        watchdog.check_cycles()
        assert lock.claim(job.pk, "second-worker:1:x")
        # Back again: the counters of its page and its own ending are not written over the watchdog's.
        run.cycle.created = 99
        assert run.cycle.save_progress() is False
        keeper.last_renewal -= keeper.interval * 2  # the last renewal it knows of is old
        with pytest.raises(lock.ClaimLost):
            keeper.check()  # what the Salesforce client calls before every write
        raise lock.ClaimLost
    stored = ProvisioningCycle.objects.get(pk=run.cycle.pk)
    assert stored.status == CycleStatus.CRASHED and stored.error_code == "WorkerLost" and stored.created == 0
    assert run.outcome.status == CycleStatus.CRASHED
    assert ProvisioningJob.objects.get(pk=job.pk).lock_owner == "second-worker:1:x"


def test_a_cycle_whose_claim_was_taken_stops_before_its_first_salesforce_write(configured_app, emu):
    job = configured_app.job
    owner = lock.worker_identity()
    assert lock.claim(job.pk, owner)
    keeper = lock.ClaimKeeper(job.pk, owner)
    keeper.last_renewal -= keeper.interval * 2  # frozen since its last renewal
    ProvisioningJob.objects.filter(pk=job.pk).update(lock_owner="second-worker:1:x")  # the job was taken over

    users_before = len(emu.control.salesforce_users())

    outcome = run_claimed_cycle(job.pk, owner, keeper=keeper)

    assert outcome.status == CycleStatus.CRASHED and outcome.cycle.error_code == "ClaimLost"
    assert emu.control.counters()["writes"]["salesforce"] == 0
    assert len(emu.control.salesforce_users()) == users_before
