"""When cycles run: the job's django-q2 schedule, and cycles queued at once (Sync now, Restart, dry run).

The schedule is one row named provisioning-cycle-<pk>, present only while the job is On; it and the queued cycles
name their task functions in provisioning/tasks.py by their dotted path (task arguments are primary keys only:
django-q2 pickles and stores them). Everything is queued once the surrounding transaction commits, so a worker
never looks for a row that is not there yet.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from provisioning.models import CycleKind, CycleTrigger, Escrow, ProvisioningJob

CYCLE_FUNC = "provisioning.tasks.run_scheduled_cycle"
CYCLE_TASK = "provisioning.tasks.run_cycle_task"


def schedule_name(job: ProvisioningJob) -> str:
    return f"provisioning-cycle-{job.pk}"


def apply_schedule(job: ProvisioningJob) -> Schedule | None:
    """Create, update or delete the job's schedule to match job.enabled and job.interval_minutes.

    Turning provisioning On queues the first cycle at once (the scheduler only looks every 30 seconds) and
    makes the next one due an interval later; changing the interval keeps the next run.
    """
    name = schedule_name(job)
    if not job.enabled:
        Schedule.objects.filter(name=name).delete()
        return None
    schedule, created = Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": CYCLE_FUNC,
            "args": repr((job.pk,)),
            "schedule_type": Schedule.MINUTES,
            "minutes": job.interval_minutes,
            "repeats": -1,
        },
    )
    if created:
        schedule.next_run = timezone.now() + timedelta(minutes=job.interval_minutes)
        schedule.save(update_fields=["next_run"])
        enqueue_cycle(job, trigger=CycleTrigger.SCHEDULE)
    # Duplicates (a schedule created twice by hand or by an old version) would run cycles twice as often.
    Schedule.objects.filter(name=name).exclude(pk=schedule.pk).delete()
    return schedule


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
