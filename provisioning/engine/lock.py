"""At most one cycle per job, however many workers run.

The claim is a compare-and-swap on the job row (lock_owner, lock_expires_at): one UPDATE statement that only
succeeds when the owner seen a moment before is still there, so it is atomic on SQLite and PostgreSQL alike.
On PostgreSQL the read is a SELECT ... FOR UPDATE SKIP LOCKED, so two workers racing for the same row do not
even wait for each other. The claim expires unless the cycle's heartbeat renews it (after every page); a claim
held by a process of this host that no longer exists is taken over at once (a killed worker).
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from provisioning.models import ProvisioningJob


def lock_ttl() -> timedelta:
    return timedelta(seconds=getattr(settings, "PROVISIONING_LOCK_TTL_SECONDS", 600))


def worker_identity() -> str:
    """host:pid:nonce; the nonce keeps two claims of one process apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """True when the owner ran on this host and its process is gone."""
    try:
        host, pid_text, _nonce = owner.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed worker whose parent died too stays a zombie where PID 1 does not reap (containers)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def claim(job_pk: int, owner: str, ttl: timedelta | None = None) -> bool:
    """Take the job's cycle claim for `owner`; False when another live cycle holds it."""
    now = timezone.now()
    with transaction.atomic():
        rows = ProvisioningJob.objects.filter(pk=job_pk)
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        current = rows.values("lock_owner", "lock_expires_at").first()
        if current is None:  # another worker is claiming this very moment (or the job is gone)
            return False
        held_by = current["lock_owner"]
        if held_by and held_by != owner:
            expired = current["lock_expires_at"] is None or current["lock_expires_at"] < now
            if not expired and not owner_is_dead(held_by):
                return False
        taken = ProvisioningJob.objects.filter(pk=job_pk, lock_owner=held_by).update(
            lock_owner=owner, lock_expires_at=now + (ttl or lock_ttl())
        )
    return taken == 1


def heartbeat(job_pk: int, owner: str, ttl: timedelta | None = None) -> bool:
    """Extend the claim; False when it was lost (expired and taken by someone else)."""
    return (
        ProvisioningJob.objects.filter(pk=job_pk, lock_owner=owner).update(
            lock_expires_at=timezone.now() + (ttl or lock_ttl())
        )
        == 1
    )


def release(job_pk: int, owner: str) -> None:
    ProvisioningJob.objects.filter(pk=job_pk, lock_owner=owner).update(
        lock_owner="", lock_expires_at=None, running_cycle=None
    )


def is_held(job: ProvisioningJob) -> bool:
    """Whether a live cycle holds the job (for status displays)."""
    if not job.lock_owner:
        return False
    if job.lock_expires_at is None or job.lock_expires_at < timezone.now():
        return False
    return not owner_is_dead(job.lock_owner)
