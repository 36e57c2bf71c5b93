"""The identity searches of the log (UPN prefix, Entra object id, Salesforce user id) are index probes on SQLite and
on PostgreSQL, read from the database's own EXPLAIN: without the identity indexes, the plan reads every row of the
job instead."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction

from provisioning.logquery import filtered_entries, parse_filters
from provisioning.models import ProvisioningLogEntry
from provisioning.retention import refresh_planner_statistics
from tests.logs.conftest import make_cycle

SOURCE_ID = str(uuid.UUID(int=123456, version=4))
SALESFORCE_ID = "005000000004321AAA"


@pytest.fixture
def big_log(application):
    """A few thousand rows of two jobs, the searched one among them."""
    from provisioning.applications import create_application

    other = create_application("Other sandbox", suffix="other")
    rows = []
    cycles = {job.pk: make_cycle(job) for job in (application.job, other.job)}
    for job in (application.job, other.job):
        cycle = cycles[job.pk]
        rows += [
            ProvisioningLogEntry(
                job=job, cycle=cycle, action="update", status="success", source_id=str(uuid.uuid4()),
                source_upn=f"user{n}@contoso.com", source_display_name=f"User {n}", target_id=f"005{n:012d}AAA",
            )
            for n in range(1500)
        ]  # fmt: skip
    rows.append(
        ProvisioningLogEntry(
            job=application.job, cycle=cycles[application.job.pk], action="create", status="success",
            source_id=SOURCE_ID, source_upn="Zoe.Wu@contoso.com", source_display_name="Zoe Wu",
            target_id=SALESFORCE_ID,
        )
    )  # fmt: skip
    ProvisioningLogEntry.objects.bulk_create(rows)
    refresh_planner_statistics()  # SQLite: what the daily purge does
    if connection.vendor == "postgresql":  # what autovacuum does
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {ProvisioningLogEntry._meta.db_table}")
    return application.job


SEARCHES = {
    "UPN prefix": ("zoe.w", {"sqlite": "log_job_upn_nocase", "postgresql": "log_upn_iprefix"}),
    "Entra object id": (SOURCE_ID, {"sqlite": "log_job_source", "postgresql": "log_job_source"}),
    "Salesforce user id": (SALESFORCE_ID, {"sqlite": "log_job_target", "postgresql": "log_job_target"}),
}


def plan(job, identity: str) -> str:
    """The plan of the page's query (first page, newest first) on SQLite; of the search itself on PostgreSQL,
    whose planner prefers a sequential scan of a table this small unless told otherwise."""
    entries = filtered_entries(job, parse_filters({"identity": identity}))
    if connection.vendor == "sqlite":
        return entries[:51].explain()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        return entries.order_by().explain()


@pytest.mark.parametrize("search", SEARCHES)
def test_an_identity_search_reads_an_identity_index(big_log, search):
    identity, index = SEARCHES[search]
    text = plan(big_log, identity)
    assert index[connection.vendor] in text, text
    assert list(
        filtered_entries(big_log, parse_filters({"identity": identity})).values_list("source_id", flat=True)
    ) == [SOURCE_ID]
    if connection.vendor == "sqlite":
        assert "SCAN" not in text and "log_job_recent" not in text, text
    else:
        assert "Seq Scan" not in text and "log_job_recent" not in text, text
