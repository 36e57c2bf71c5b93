"""The watchdog: a cycle whose worker stopped (killed, frozen, its machine gone) is marked crashed within two
minutes of its last heartbeat, and the job is handed to another worker, whether or not the dead one ever returns.

A running cycle renews its claim on the job every LOCK_TTL / 3 (engine/lock.py's ClaimKeeper), so a claim past its
expiry belongs to a worker that stopped. Every minute (django-q2 schedule provisioning-watchdog, created after migrate
and kept unique) the watchdog takes each such claim away with a compare-and-swap on the very owner and expiry it read
(a worker renewing at that moment keeps its claim), ends that worker's Running cycles as crashed, and queues a cycle
of the job (trigger "Taken over after a crashed worker") for any worker to pick up. Cycles left Running without any
claim (a worker killed between its cycle and its claim's release) end the same way once their heartbeat is older than
the TTL. A worker that comes back finds its claim gone: its next write or page stops (ClaimLost) and its cycle row
keeps the crash the watchdog recorded.

Detection: the claim lapses 30 s after the last heartbeat; the scheduler looks every 30 s and runs the watchdog at
most a minute and a half after the previous run, so a crash is marked at most two minutes after the heartbeat stopped.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django_q.models import Schedule

from provisioning.engine import lock
from provisioning.engine.lifecycle import recover_crashed_cycles
from provisioning.models import CycleKind, CycleStatus, CycleTrigger, ProvisioningCycle, ProvisioningJob
from provisioning.scheduling import enqueue_cycle

logger = logging.getLogger(__name__)

SCHEDULE_NAME = "provisioning-watchdog"
WATCHDOG_FUNC = "provisioning.watchdog.check_cycles"


def ensure_watchdog_schedule(sender: Any = None, **kwargs: Any) -> Schedule:
    """post_migrate receiver: the every-minute watchdog schedule exists on every install, once."""
    keep = Schedule.objects.filter(name=SCHEDULE_NAME).order_by("pk").values_list("pk", flat=True).first()
    if keep is not None:
        Schedule.objects.filter(name=SCHEDULE_NAME).exclude(pk=keep).delete()
    schedule, _ = Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": WATCHDOG_FUNC, "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1},
    )
    return schedule


def check_cycles(now: datetime | None = None) -> str:
    """The scheduled task: take lapsed claims away, end their cycles as crashed, queue a takeover cycle."""
    now = now or timezone.now()
    taken = [job for job in _lapsed_claims(now) if _take_over(job, now)]
    orphans = _orphaned_cycles(now)
    if not taken and not orphans:
        return "all running cycles are alive"
    return f"taken over: {len(taken)} job(s); orphaned cycles ended: {orphans}"


def _lapsed_claims(now: datetime) -> list[ProvisioningJob]:
    held = ProvisioningJob.objects.exclude(lock_owner="")
    lapsed = list(held.filter(Q(lock_expires_at__lt=now) | Q(lock_expires_at__isnull=True)))
    dead = [job for job in held.filter(lock_expires_at__gte=now) if lock.owner_is_dead(job.lock_owner)]
    return lapsed + dead


def _take_over(job: ProvisioningJob, now: datetime) -> bool:
    """Take the claim from its (dead) owner; False when it renewed or released it meanwhile."""
    owner = job.lock_owner
    released = ProvisioningJob.objects.filter(pk=job.pk, lock_owner=owner, lock_expires_at=job.lock_expires_at).update(
        lock_owner="", lock_expires_at=None, running_cycle=None
    )
    if not released:
        return False
    crashed = recover_crashed_cycles(job.pk, worker=owner)
    logger.warning(
        "Job %s: the worker %s stopped renewing its claim; %s cycle(s) marked crashed, the job is taken over",
        job.pk,
        owner,
        len(crashed),
    )
    _queue_takeover(job, crashed)
    return True


def _orphaned_cycles(now: datetime) -> int:
    """Running cycles that no claim covers and whose heartbeat is older than the claim's lifetime."""
    stale_before = now - lock.lock_ttl()
    ended = 0
    running = ProvisioningCycle.objects.filter(status=CycleStatus.RUNNING, heartbeat_at__lt=stale_before)
    for cycle in running.select_related("job"):
        if cycle.job.lock_owner and cycle.job.lock_owner == cycle.worker:
            continue  # its claim is still there: _lapsed_claims decides about it
        crashed = recover_crashed_cycles(cycle.job_id, worker=cycle.worker)
        ended += len(crashed)
        if crashed and not cycle.job.lock_owner:
            _queue_takeover(cycle.job, crashed)
    return ended


def _queue_takeover(job: ProvisioningJob, crashed: list[ProvisioningCycle]) -> None:
    """Queue a cycle that carries on where the crashed one stopped (an initial one goes on as initial)."""
    real = [c for c in crashed if not c.dry_run and c.kind != CycleKind.ON_DEMAND]
    if not real:
        return
    job.refresh_from_db(fields=["enabled"])
    if not job.enabled and all(c.trigger == CycleTrigger.SCHEDULE for c in real):
        return  # provisioning was turned off meanwhile: nothing to carry on
    kind = CycleKind.INITIAL if any(c.kind == CycleKind.INITIAL for c in real) else None
    enqueue_cycle(job, kind=kind, trigger=CycleTrigger.TAKEOVER)
