"""Retention of the provisioning log and of the audit log: a daily task deletes provisioning log entries older
than LOG_RETENTION_DAYS and audit entries older than AUDIT_RETENTION_DAYS.

Entries are never edited; this purge is the only way they leave their tables. Cycles (the history on the
Overview page) are kept: they are small and their counters are the statistics to date.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from console.models import AuditEntry
from provisioning.models import ProvisioningLogEntry

logger = logging.getLogger(__name__)

PURGE_FUNC = "provisioning.retention.daily_purge"
SCHEDULE_NAME = "provisioning-log-retention"
PURGE_BATCH = 5000


def retention_days() -> int:
    return int(getattr(settings, "LOG_RETENTION_DAYS", 30))


def retention_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=retention_days())


def audit_retention_days() -> int:
    return int(getattr(settings, "AUDIT_RETENTION_DAYS", 365))


def daily_purge(now: datetime | None = None) -> dict[str, int]:
    """The scheduled task: both purges; how many entries each deleted."""
    return {"log": purge_expired_log_entries(now), "audit": purge_expired_audit_entries(now)}


def _delete_in_batches(expired, batch_size: int) -> int:
    total = 0
    while True:
        pks = list(expired.order_by().values_list("pk", flat=True)[:batch_size])
        if not pks:
            return total
        deleted, _ = expired.model.objects.filter(pk__in=pks).delete()
        total += deleted


def purge_expired_audit_entries(now: datetime | None = None, batch_size: int = PURGE_BATCH) -> int:
    """Delete audit entries older than AUDIT_RETENTION_DAYS, in batches; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=audit_retention_days())
    total = _delete_in_batches(AuditEntry.objects.filter(created_at__lt=cutoff), batch_size)
    if total:
        logger.info("Audit log retention: deleted %s entries older than %s", total, cutoff.isoformat())
    return total


def purge_expired_log_entries(now: datetime | None = None, batch_size: int = PURGE_BATCH) -> int:
    """Delete entries older than the retention period, in batches (short transactions, no lock on the table
    for the length of a million-row delete). Returns how many were deleted."""
    cutoff = retention_cutoff(now)
    total = _delete_in_batches(ProvisioningLogEntry.objects.filter(activity_at__lt=cutoff), batch_size)
    if total:
        logger.info("Provisioning log retention: deleted %s entries older than %s", total, cutoff.isoformat())
    refresh_planner_statistics()
    return total


def refresh_planner_statistics() -> None:
    """SQLite: refresh the query planner's statistics of the log table (ANALYZE, on a sample: analysis_limit).

    Without them SQLite answers an identity search of the log along the newest-first index, reading every row of
    the job to skip a sort, instead of the identity indexes (migration 0011); the daily purge refreshes them.
    PostgreSQL's autovacuum keeps its own."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute(f'ANALYZE "{ProvisioningLogEntry._meta.db_table}"')


def ensure_retention_schedule() -> Schedule:
    """The daily purge schedule, created once and kept unique (safe to call at every migrate)."""
    # Duplicates (created by hand) would purge twice a day and make update_or_create fail: keep the oldest.
    keep = Schedule.objects.filter(name=SCHEDULE_NAME).order_by("pk").values_list("pk", flat=True).first()
    if keep is not None:
        Schedule.objects.filter(name=SCHEDULE_NAME).exclude(pk=keep).delete()
    schedule, created = Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": PURGE_FUNC, "schedule_type": Schedule.DAILY, "repeats": -1},
    )
    if created:
        schedule.next_run = timezone.now() + timedelta(minutes=5)
        schedule.save(update_fields=["next_run"])
    return schedule


def create_schedule_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate receiver: the schedule exists on every install without a manual step."""
    ensure_retention_schedule()
