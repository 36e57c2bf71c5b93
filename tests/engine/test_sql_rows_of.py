"""rows_of (provisioning/engine/sql.py): a page's rows as the ORM's `__in` finds them, probed through the unique
index on PostgreSQL whatever the table's statistics say."""

from __future__ import annotations

import pytest
from django.db import connection

from provisioning.applications import create_application
from provisioning.engine.sql import rows_of
from provisioning.models import Escrow, ProvisionedLink

pytestmark = pytest.mark.django_db

ODD = ["nobody", "o'brien", "a,b", '{"x"}', "back\\slash", "Ünïcode", ""]


@pytest.fixture
def jobs():
    ours = create_application("Ours", suffix="ours").job
    theirs = create_application("Theirs", suffix="theirs").job
    for n, source_id in enumerate([*(f"s{n:02d}" for n in range(30)), *ODD[1:]]):
        ProvisionedLink.objects.create(
            job=ours, source_id=source_id, target_id=f"005{n:015d}", exported={"n": n, "Email": f"{n}@x"}
        )
        ProvisionedLink.objects.create(job=theirs, source_id=source_id, target_id="", exported={"other": True})
    return ours, theirs


@pytest.mark.parametrize(
    "wanted",
    [
        ["s00"],
        ["s03", "s03", "s27", "nobody"],  # duplicates and an id no row has
        [f"s{n:02d}" for n in range(30)],
        ODD,  # what an array literal or an IN list would need quoted
    ],
)
def test_rows_of_finds_the_rows_the_orm_finds_in_the_scope_only(jobs, wanted):
    ours, _theirs = jobs
    expected = ProvisionedLink.objects.filter(job=ours, source_id__in=wanted)
    found = list(rows_of(ProvisionedLink, "source_id", wanted, job_id=ours.pk))
    assert sorted((link.pk, link.source_id, link.target_id, link.exported) for link in found) == sorted(
        (link.pk, link.source_id, link.target_id, link.exported) for link in expected
    )
    assert len(found) == len(set(wanted) & {link.source_id for link in expected})  # each row once
    assert all(isinstance(link, ProvisionedLink) and link.job_id == ours.pk for link in found)


def test_rows_of_nothing_asked_reads_nothing(jobs, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert list(rows_of(ProvisionedLink, "source_id", [], job_id=jobs[0].pk)) == []


def test_rows_of_returns_instances_that_save(jobs):
    ours, _theirs = jobs
    (link,) = rows_of(ProvisionedLink, "source_id", ["s05"], job_id=ours.pk)
    link.exported = {**link.exported, "Title": "Lead"}
    link.save()
    assert ProvisionedLink.objects.get(job=ours, source_id="s05").exported == {"n": 5, "Email": "5@x", "Title": "Lead"}
    assert ProvisionedLink.objects.filter(source_id="s05").count() == 2


def test_rows_of_reads_escrows_too(jobs):
    ours, theirs = jobs
    from django.utils import timezone

    now = timezone.now()
    for job in (ours, theirs):
        Escrow.objects.create(job=job, source_id="s01", attempts=2, first_failed_at=now, next_attempt_at=now)
    (escrow,) = rows_of(Escrow, "source_id", ["s01", "s02"], job_id=ours.pk)
    assert (escrow.job_id, escrow.attempts) == (ours.pk, 2)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan of PostgreSQL's query")
def test_rows_of_probes_the_unique_index_without_statistics(jobs):
    """The shape rows_of sends is planned as one probe of the unique index per id, then a read by primary key,
    even on a table that has never been analyzed and holds many rows of the job (as right after a cycle filled it)."""
    ours, _theirs = jobs
    ProvisionedLink.objects.bulk_create(
        ProvisionedLink(job=ours, source_id=f"bulk{n:05d}", target_id="", exported={}) for n in range(20000)
    )
    captured = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        found = list(
            rows_of(ProvisionedLink, "source_id", [f"bulk{n:05d}" for n in range(0, 20000, 10)], job_id=ours.pk)
        )
    assert len(found) == 2000
    (sql, params), *_ = captured
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "one_link_per_source" in plan and "provisioning_provisionedlink_pkey" in plan and "Loop" in plan, plan
    assert "link_job_target" not in plan and "Seq Scan on provisioning_provisionedlink" not in plan, plan


def test_a_link_read_without_its_times_is_cut_to_its_columns_without_a_query(jobs, django_assert_num_queries):
    ours, _theirs = jobs
    (link,) = rows_of(ProvisionedLink, "source_id", ["s07"], job_id=ours.pk).defer("created_at", "updated_at")
    link.display_name = "x" * 300
    with django_assert_num_queries(0):
        link.fit_columns()
    assert link.display_name == "x" * 256
    assert "created_at" not in link.__dict__  # still deferred: not loaded one row at a time


def test_rows_of_finds_every_row_of_a_key_that_is_not_unique(jobs):
    """Access grants: several rows per user (one per item), all found, only the job's."""
    from provisioning.models import AccessGrant

    ours, theirs = jobs
    for job in (ours, theirs):
        for n, item in enumerate(("0PS1", "0PS2", "00G1")):
            AccessGrant.objects.create(
                job=job, source_id="s01", target_id="005A", kind="permission_set", item_id=item, record_id=f"0Pa{n}"
            )
        AccessGrant.objects.create(
            job=job, source_id="s02", target_id="005B", kind="permission_set", item_id="0PS1", record_id="0Pa9"
        )
    found = rows_of(AccessGrant, "source_id", ["s01", "s03"], job_id=ours.pk)
    assert sorted(found.values_list("item_id", flat=True)) == ["00G1", "0PS1", "0PS2"]
    assert {grant.job_id for grant in found} == {ours.pk}
