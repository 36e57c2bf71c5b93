"""The points where the engine calls into operations. Each is one line at its call site in the engine.

pipeline._record          -> escrow_retry_at()      when a failed user is tried again
CycleRunner.prepare       -> deletion_hold()        Prevent accidental deletions for this cycle
pipeline.process          -> hold_deletions()       planned deactivations wait for the end of the cycle
CycleRunner.run           -> settle_deletions()     ... and run, or are held, once the cycle has read everything
CycleRunner.run_incremental -> held_source_ids()    held users are evaluated again by incremental cycles
run_cycle (after the run) -> cycle_finished()       quarantine enter/leave, held-deletion bookkeeping; the emails
run_cycle (lock released) -> send_notifications()   ... are sent once the job's lock is released
tasks.run_scheduled_cycle -> quarantine_wait()      a quarantined job's schedule waits for its next attempt
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from django.utils import timezone

from provisioning.models import CycleKind, CycleStatus, ProvisioningCycle, ProvisioningJob

logger = logging.getLogger(__name__)


def escrow_retry_at(job_interval_minutes: int, attempts: int, error_code: str, cycle: ProvisioningCycle, now: datetime):
    from provisioning.operations.escrow import next_attempt_at

    return next_attempt_at(
        attempts,
        error_code,
        failed_at=now,
        cycle_started_at=cycle.started_at,
        interval_minutes=job_interval_minutes,
    )


def deletion_hold(job: ProvisioningJob, cycle: ProvisioningCycle, redacted: frozenset[str] = frozenset()):
    if cycle.kind == CycleKind.ON_DEMAND:
        return None
    from provisioning.operations.deletions import hold_for

    return hold_for(job, cycle, redacted)


def hold_deletions(items: Sequence[Any], ctx: Any) -> list[Any]:
    hold = getattr(ctx, "deletion_hold", None)
    return list(items) if hold is None else hold.stage(items)


def settle_deletions(ctx: Any) -> None:
    hold = getattr(ctx, "deletion_hold", None)
    if hold is not None:
        hold.settle(ctx)


def held_source_ids(job: ProvisioningJob) -> list[str]:
    from provisioning.operations.deletions import pending_source_ids

    return pending_source_ids(job)


Notification = Callable[[], object]


def cycle_finished(cycle: ProvisioningCycle, runner: Any = None) -> list[Notification]:
    """After a cycle ended: quarantine (enter, count, leave) and held deletions; returns the emails to send.

    The emails are returned, not sent: run_cycle sends them after releasing the job's lock, so a slow mail
    server (up to EMAIL_TIMEOUT per message) never keeps the next cycle waiting. Never raises: the cycle has
    already been recorded."""
    pending: list[Notification] = []
    try:
        _cycle_finished(cycle, runner, pending)
    except Exception:
        logger.exception("Operations after cycle %s failed", cycle.cycle_id)
    return pending


def send_notifications(pending: Sequence[Notification]) -> None:
    """Send what cycle_finished() collected; one failing email neither stops the others nor raises."""
    for notify in pending:
        try:
            notify()
        except Exception:
            logger.exception("A provisioning notification could not be sent")


def _cycle_finished(cycle: ProvisioningCycle, runner: Any, pending: list[Notification]) -> None:
    from connections.clients.errors import StopError
    from provisioning.operations import deletions, emails, quarantine

    if cycle.dry_run or cycle.kind == CycleKind.ON_DEMAND:
        return
    job = ProvisioningJob.objects.select_related("application").get(pk=cycle.job_id)
    stop_error = getattr(runner, "stop_error", None)
    hold = getattr(getattr(runner, "ctx", None), "deletion_hold", None)
    if cycle.status == CycleStatus.FAILED and isinstance(stop_error, StopError):
        trouble = quarantine.Trouble(quarantine.CREDENTIALS, stop_error.full_message, stop_error.request)
    elif cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS):
        deletions.record_outcome(job, cycle, hold)
        if hold is not None and hold.exceeded:
            trouble = quarantine.Trouble(
                quarantine.TOO_MANY_DELETES,
                f"{hold.count} deactivations held: more than the accidental deletion threshold "
                f"({hold.threshold}). Allow deletes or Reject deletes on the Overview.",
            )
        else:
            trouble = quarantine.failure_ratio_trouble(job, cycle)
        if trouble is None:
            quarantine.leave(job)
            pending.append(partial(emails.notify_failures, job, cycle))
            return
    else:
        return  # paused, crashed, or stopped by something quarantine does not fix (a broken mapping)
    if quarantine.enter(job, trouble):
        job.refresh_from_db()
        if trouble.reason == quarantine.TOO_MANY_DELETES:
            pending.append(partial(emails.notify_deletions_held, job, cycle, hold.count))
        else:
            pending.append(partial(emails.notify_quarantine, job, cycle))


def quarantine_wait(job_pk: int, now: datetime | None = None) -> str | None:
    """Why the schedule's cycle is skipped now (quarantined, next attempt not due), or None to run it."""
    from provisioning.operations.quarantine import waiting

    job = ProvisioningJob.objects.filter(pk=job_pk).first()
    if job is None or not waiting(job, now):
        return None
    due = timezone.localtime(job.quarantine_next_attempt)
    return f"skipped: quarantined ({job.quarantine_reason}) until {due:%Y-%m-%d %H:%M}"
