"""At most one cycle per job, however many workers run.

The claim is a compare-and-swap on the job row (lock_owner, lock_expires_at): one UPDATE statement that only
succeeds when the owner seen a moment before is still there, so it is atomic on SQLite and PostgreSQL alike.
On PostgreSQL the read is a SELECT ... FOR UPDATE SKIP LOCKED, so two workers racing for the same row do not
even wait for each other. The claim lapses LOCK_TTL (30 s) after its last renewal; a claim held by a process of this
host that no longer exists is taken over at once (a killed worker).

While a cycle runs, a ClaimKeeper renews the claim every LOCK_TTL / 3 from a thread of its own, so a page that takes
minutes (a slow Salesforce, a long throttling wait) keeps it, and the cycle's heartbeat moves with it. The watchdog
(provisioning/watchdog.py) ends the cycles of claims that lapsed. A worker that was frozen and comes back must not
write over the one that took its job: before every Salesforce write, ClaimKeeper.check() renews the claim itself
when the last renewal is older than a renewal interval and a half, and raises ClaimLost when that fails, so no write
leaves a worker that does not hold the claim (a successful renewal leaves at least two thirds of the TTL).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from provisioning.models import CycleStatus, ProvisioningCycle, ProvisioningJob

logger = logging.getLogger(__name__)
LOCK_TTL_SECONDS = 30


class ClaimLost(Exception):
    """Another worker took the job over (this one was presumed dead): stop, write nothing more."""


def lock_ttl() -> timedelta:
    return timedelta(seconds=getattr(settings, "PROVISIONING_LOCK_TTL_SECONDS", LOCK_TTL_SECONDS))


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


class ClaimKeeper:
    """Keeps a running cycle's claim (and its heartbeat) alive from a thread, and stops writes once it is lost."""

    def __init__(self, job_pk: int, owner: str, *, ttl: timedelta | None = None) -> None:
        self.job_pk = job_pk
        self.owner = owner
        self.ttl = ttl or lock_ttl()
        self.interval = self.ttl.total_seconds() / 3
        self.cycle_pk: int | None = None
        self.last_renewal = time.monotonic()  # claim() has just set the expiry
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ClaimKeeper:
        # Inside a transaction (tests running a cycle in one) a second connection would wait on this one's row locks;
        # there the renewals of the pages and of check() are enough.
        if not connection.in_atomic_block:
            self._thread = threading.Thread(target=self._run, name=f"claim-keeper-{self.job_pk}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)

    def renew(self) -> bool:
        """Renew the claim and the cycle's heartbeat now; False (and `lost` set) when another worker holds it."""
        if self.lost.is_set():
            return False
        if not heartbeat(self.job_pk, self.owner, self.ttl):
            self.lost.set()
            return False
        self.last_renewal = time.monotonic()
        if self.cycle_pk is not None:
            ProvisioningCycle.objects.filter(pk=self.cycle_pk, status=CycleStatus.RUNNING).update(
                heartbeat_at=timezone.now()
            )
        return True

    def check(self) -> None:
        """Before a write: raise ClaimLost unless this worker surely still holds the claim."""
        if self.lost.is_set():
            raise ClaimLost
        if time.monotonic() - self.last_renewal > self.interval * 1.5 and not self.renew():
            raise ClaimLost

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    if not self.renew():
                        logger.warning("Job %s: the cycle's claim was taken over; this worker stops", self.job_pk)
                        return
                except DatabaseError as exc:  # the next renewal, or check(), tries again
                    logger.warning("Job %s: renewing the cycle's claim failed (%s)", self.job_pk, exc)
        finally:
            connections.close_all()  # this thread's own connections
