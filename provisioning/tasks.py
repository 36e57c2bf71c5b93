"""django-q2 tasks of the engine. Arguments are primary keys only (task arguments are pickled and stored).

Enqueue through the helpers below, which wait for the surrounding transaction to commit, so a worker never
looks for a row that is not there yet.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from provisioning.engine.cycle import run_cycle
from provisioning.models import CycleKind, CycleTrigger, Escrow, ProvisioningJob
from provisioning.operations import hooks

logger = logging.getLogger(__name__)
CYCLE_TASK = "provisioning.tasks.run_cycle_task"


def run_scheduled_cycle(job_pk: int) -> str:
    """The schedule's task: an initial or incremental cycle, only while Provisioning Status is On."""
    job = ProvisioningJob.objects.filter(pk=job_pk).only("enabled").first()
    if job is None or not job.enabled:
        return "skipped: provisioning is off"
    waiting = hooks.quarantine_wait(job_pk)
    if waiting:
        return waiting
    cycle = run_cycle(job_pk, trigger=CycleTrigger.SCHEDULE)
    return _summary(cycle)


def run_cycle_task(
    job_pk: int, kind: str | None = None, trigger: str = CycleTrigger.SYNC_NOW, dry_run: bool = False
) -> str:
    """Sync now / Restart / dry run: one cycle at once, whatever the schedule."""
    cycle = run_cycle(job_pk, kind, trigger=trigger, dry_run=dry_run)
    return _summary(cycle)


def _summary(cycle) -> str:
    if cycle is None:
        return "skipped: another cycle of this job is running"
    counts = ", ".join(f"{name} {value}" for name, value in cycle.counters().items())
    return f"{cycle.get_kind_display()} cycle {cycle.cycle_id}: {cycle.get_status_display()} ({counts})"


def enqueue_cycle(
    job: ProvisioningJob, *, kind: str | None = None, trigger: str = CycleTrigger.SYNC_NOW, dry_run: bool = False
) -> None:
    """Queue a cycle once the current transaction commits."""
    job_pk = job.pk

    def send() -> None:
        async_task(
            CYCLE_TASK,
            job_pk,
            kind,
            trigger,
            dry_run,
            task_name=f"provisioning-{trigger}-{job_pk}-{timezone.now():%Y%m%d%H%M%S}",
        )

    transaction.on_commit(send)


def sync_now(job: ProvisioningJob) -> None:
    enqueue_cycle(job, trigger=CycleTrigger.SYNC_NOW)


@transaction.atomic
def restart(job: ProvisioningJob) -> None:
    """Restart provisioning: forget the watermark, escrows and quarantine (links are kept); run an initial cycle."""
    Escrow.objects.filter(job=job).delete()
    job.clear_quarantine()
    job.watermark = ""
    job.needs_initial_cycle = True
    job.save(update_fields=["watermark", "needs_initial_cycle", *ProvisioningJob.QUARANTINE_FIELDS, "updated_at"])
    enqueue_cycle(job, kind=CycleKind.INITIAL, trigger=CycleTrigger.RESTART)
