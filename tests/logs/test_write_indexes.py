"""The log table keeps one index per use (migration 0013): every row a cycle writes updates each of them. The change
id stays unique, and no two indexes cover the same leading columns."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from provisioning.models import CycleKind, LogAction, LogStatus, ProvisioningCycle, ProvisioningLogEntry

pytestmark = pytest.mark.django_db
TABLE = ProvisioningLogEntry._meta.db_table


def _indexes(table: str) -> dict[str, tuple]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {name: tuple(info["columns"]) for name, info in found.items() if info["index"] or info["unique"]}


def test_a_change_id_is_unique(application):
    cycle = ProvisioningCycle.objects.create(job=application.job, kind=CycleKind.INITIAL)
    entry = {"job": application.job, "cycle": cycle, "action": LogAction.CREATE, "status": LogStatus.SUCCESS}
    ProvisioningLogEntry.objects.create(change_id="c1", **entry)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProvisioningLogEntry.objects.create(change_id="c1", **entry)


def test_no_index_of_the_log_or_links_repeats_another():
    for table in (TABLE, "provisioning_provisionedlink"):
        columns = [c for c in _indexes(table).values() if c and all(c)]  # expression indexes have no plain columns
        assert ("job_id",) not in columns and ("cycle_id",) not in columns
        assert len(columns) == len(set(columns)), columns
    names = set(_indexes(TABLE))
    assert {"log_job_upn", "log_job_name"}.isdisjoint(names)
    if connection.vendor == "postgresql":
        assert not [name for name in names if name.endswith("_like")]
        assert {"log_upn_iprefix", "log_name_iprefix", "log_change_id_unique"} <= names
    else:
        assert {"log_job_upn_nocase", "log_job_name_nocase"} <= names
