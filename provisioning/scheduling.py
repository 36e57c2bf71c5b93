"""The django-q2 schedule of a job: one row named provisioning-cycle-<pk>, present only while the job is On."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule

from provisioning.models import CycleTrigger, ProvisioningJob

CYCLE_FUNC = "provisioning.tasks.run_scheduled_cycle"


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
        from provisioning.tasks import enqueue_cycle  # tasks imports the engine; views import this module

        schedule.next_run = timezone.now() + timedelta(minutes=job.interval_minutes)
        schedule.save(update_fields=["next_run"])
        enqueue_cycle(job, trigger=CycleTrigger.SCHEDULE)
    # Duplicates (a schedule created twice by hand or by an old version) would run cycles twice as often.
    Schedule.objects.filter(name=name).exclude(pk=schedule.pk).delete()
    return schedule
