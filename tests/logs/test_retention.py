"""Retention: the daily purge deletes only entries older than LOG_RETENTION_DAYS; its schedule exists once."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from provisioning.models import ProvisioningCycle, ProvisioningLogEntry
from provisioning.retention import (
    PURGE_FUNC,
    SCHEDULE_NAME,
    ensure_retention_schedule,
    purge_expired_audit_entries,
    purge_expired_log_entries,
)
from tests.logs.conftest import make_entry


def test_purge_deletes_only_rows_older_than_the_retention(cycle, settings):
    settings.LOG_RETENTION_DAYS = 30
    day = 24 * 60
    old = [make_entry(cycle, number=n, minutes_ago=31 * day + n) for n in range(7)]
    kept = [make_entry(cycle, number=10, minutes_ago=29 * day), make_entry(cycle, number=11)]
    deleted = purge_expired_log_entries(batch_size=3)  # several batches
    assert deleted == len(old)
    assert set(ProvisioningLogEntry.objects.values_list("pk", flat=True)) == {e.pk for e in kept}
    assert ProvisioningCycle.objects.filter(pk=cycle.pk).exists()  # the history stays


def test_purge_follows_the_configured_days(cycle, settings):
    make_entry(cycle, minutes_ago=3 * 24 * 60)
    settings.LOG_RETENTION_DAYS = 7
    assert purge_expired_log_entries() == 0
    settings.LOG_RETENTION_DAYS = 2
    assert purge_expired_log_entries() == 1


def test_purge_at_a_given_moment(cycle):
    make_entry(cycle)
    assert purge_expired_log_entries(now=timezone.now() + timedelta(days=31)) == 1


def test_the_daily_schedule_exists_once_after_migrate(db):
    # Created by the post_migrate receiver when the test database was built.
    assert Schedule.objects.filter(name=SCHEDULE_NAME).count() == 1
    ensure_retention_schedule()
    Schedule.objects.create(name=SCHEDULE_NAME, func=PURGE_FUNC, schedule_type=Schedule.DAILY)
    schedule = ensure_retention_schedule()
    assert Schedule.objects.filter(name=SCHEDULE_NAME).count() == 1
    assert schedule.func == PURGE_FUNC and schedule.schedule_type == Schedule.DAILY and schedule.repeats == -1
    Schedule.objects.all().delete()
    call_command("migrate", "provisioning", verbosity=0)
    assert Schedule.objects.filter(name=SCHEDULE_NAME).count() == 1


def test_the_scheduled_function_runs_by_its_dotted_name(cycle, settings):
    from django_q.tasks import async_task

    settings.LOG_RETENTION_DAYS = 1
    make_entry(cycle, minutes_ago=2 * 24 * 60)
    async_task(PURGE_FUNC, sync=True)
    assert not ProvisioningLogEntry.objects.exists()


def test_audit_entries_older_than_their_retention_are_purged_by_the_daily_task(db, settings):
    from console.models import AuditActivity, AuditEntry, record_audit

    settings.AUDIT_RETENTION_DAYS = 90
    old = [record_audit(AuditActivity.TEST_CONNECTION, detail=f"old {n}") for n in range(3)]
    AuditEntry.objects.filter(pk__in=[e.pk for e in old]).update(created_at=timezone.now() - timedelta(days=91))
    kept = record_audit(AuditActivity.TEST_CONNECTION, detail="recent")
    AuditEntry.objects.filter(pk=kept.pk).update(created_at=timezone.now() - timedelta(days=89))
    assert purge_expired_audit_entries(batch_size=2) == 3
    assert list(AuditEntry.objects.values_list("detail", flat=True)) == ["recent"]
    settings.AUDIT_RETENTION_DAYS = 10
    from django_q.tasks import async_task

    async_task(PURGE_FUNC, sync=True)
    assert not AuditEntry.objects.exists()
