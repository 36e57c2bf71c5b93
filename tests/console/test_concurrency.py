"""The version check and the write are one conditional UPDATE: of two saves from the same version exactly one lands,
on SQLite and on PostgreSQL, whatever the timing; the history says who saved what."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from console.concurrency import (
    EditConflict,
    EditRecord,
    change,
    delete_versioned,
    field_changes,
    save_versioned,
    snapshot,
)
from provisioning.applications import create_application
from provisioning.models import ProvisioningJob


def _save(job: ProvisioningJob, email: str, expected: int, actor: str) -> int:
    before = snapshot(job, ["notification_email"])
    job.notification_email = email
    changes = field_changes(job, before, ["notification_email"])
    return save_versioned(job, ["notification_email"], expected=expected, changes=changes, actor=actor)


@pytest.mark.django_db
def test_the_check_is_the_where_clause_of_the_write(application):
    job = ProvisioningJob.objects.get(application=application)
    with CaptureQueriesContext(connection) as queries:
        assert _save(job, "a@example.com", job.edit_version, "alice") == 2
    statements = [q["sql"] for q in queries.captured_queries if "provisioning_provisioningjob" in q["sql"]]
    assert len(statements) == 1, statements  # no read of the row before the write
    (update,) = statements
    assert update.startswith("UPDATE") and '"edit_version" = 1' in update.split("WHERE")[1].replace("%s", "1")
    assert ProvisioningJob.objects.get(pk=job.pk).notification_email == "a@example.com"
    (record,) = EditRecord.objects.filter(object_pk=str(job.pk), version_field="edit_version")
    assert record.version == 2 and record.actor_name == "alice"
    assert record.changes == [change("notification_email", "Notification Email", "", "a@example.com")]


@pytest.mark.django_db
def test_a_save_from_an_older_version_changes_nothing(application):
    job = ProvisioningJob.objects.get(application=application)
    _save(job, "a@example.com", 1, "alice")
    stale = ProvisioningJob.objects.get(pk=job.pk)
    with pytest.raises(EditConflict) as refused:
        _save(stale, "b@example.com", 1, "bob")
    assert [r.actor_name for r in refused.value.conflict.records] == ["alice"]
    assert refused.value.conflict.current_version == 2
    assert ProvisioningJob.objects.get(pk=job.pk).notification_email == "a@example.com"


@pytest.mark.django_db
def test_a_delete_from_an_older_version_deletes_nothing(application):
    job = ProvisioningJob.objects.get(application=application)
    _save(job, "a@example.com", 1, "alice")
    with pytest.raises(EditConflict):
        delete_versioned(job, expected=1, actor="bob")
    assert ProvisioningJob.objects.filter(pk=job.pk).exists()
    assert not EditRecord.objects.filter(deleted=True).exists()  # the refused delete left no record


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_from_one_version_land_exactly_once():
    """Two threads, two database connections, started together from the same version, round after round."""
    application = create_application("Race sandbox", suffix="race")
    job_pk = ProvisioningJob.objects.get(application=application).pk
    rounds = 15
    outcomes: list[list[str]] = [[] for _ in range(rounds)]
    barrier = threading.Barrier(2)

    def contender(name: str) -> None:
        try:
            for index in range(rounds):
                job = ProvisioningJob.objects.get(pk=job_pk)
                expected = job.edit_version
                barrier.wait(timeout=30)  # both have read the same version
                try:
                    _save(job, f"{name}-{index}@example.com", expected, name)
                    outcomes[index].append(name)
                except EditConflict:
                    pass
                barrier.wait(timeout=30)  # the round is over for both
        finally:
            connections.close_all()

    threads = [threading.Thread(target=contender, args=(name,)) for name in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(len(winners) == 1 for winners in outcomes), outcomes
    job = ProvisioningJob.objects.get(pk=job_pk)
    assert job.edit_version == 1 + rounds
    assert job.notification_email == f"{outcomes[-1][0]}-{rounds - 1}@example.com"
    records = EditRecord.objects.filter(object_pk=str(job_pk), version_field="edit_version").order_by("version")
    assert [r.actor_name for r in records] == [winners[0] for winners in outcomes]
