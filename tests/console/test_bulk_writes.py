"""console/bulk.py's update_objects: the fields named, by primary key, JSON and booleans as the ORM would write
them, other rows and fields untouched (on whichever database the suite runs: SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from console.bulk import insert_rows, update_objects
from provisioning.models import ProvisionedLink

pytestmark = pytest.mark.django_db
COLUMNS = ["job_id", "source_id", "target_id", "display_name", "user_principal_name", "roles_key", "exported",
           "active", "in_scope", "updated_at", "created_at"]  # fmt: skip


def test_update_objects_writes_the_named_fields_of_each_row_and_nothing_else(application):
    job = application.job
    links = [
        ProvisionedLink.objects.create(job=job, source_id=f"s{n}", target_id=f"t{n}", exported={"n": n}, active=True)
        for n in range(5)
    ]
    for n, link in enumerate(links[:3]):
        link.exported = {"FirstName": f"Changed{n}", "Tags": ["a", n], "Empty": None}
        link.active = False
        link.roles_key = "Standard User"
        link.target_id = "not written"
        link.updated_at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert update_objects(links[:3], ["exported", "active", "roles_key", "updated_at"]) == 3
    assert update_objects([], ["exported"]) == 0

    for n, link in enumerate(ProvisionedLink.objects.filter(job=job).order_by("source_id")):
        if n < 3:
            assert link.exported == {"FirstName": f"Changed{n}", "Tags": ["a", n], "Empty": None}
            assert (link.active, link.roles_key, link.target_id) == (False, "Standard User", f"t{n}")
            assert link.updated_at == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
        else:
            assert (link.exported, link.active, link.roles_key) == ({"n": n}, True, "")


def test_insert_rows_writes_json_and_times_as_the_orm_does(application):
    """JSON (nested, non-ASCII, text COPY must escape, numbers, JSON null) and aware or naive times: the rows
    insert_rows writes read back as the same rows saved one by one through the ORM."""
    job = application.job
    exported = [
        {"Name": "Zoë\tO'Neil\n\\x", "Tags": ["a", 1, 2.5, 1e-7, True, None], "Deep": {"k": [{"x": "ü"}]}},
        [],
        {},
        {"Quote": '"', "Big": 10**20},
    ]
    updated = [
        datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 2, 3, 4, 5, 6, 7, tzinfo=UTC),
    ]
    assert insert_rows(ProvisionedLink, COLUMNS, [
        [job.pk, f"b{n}", "", "", "", "", value, n % 2 == 0, True, updated[n], updated[0]]
        for n, value in enumerate(exported)
    ]) == len(exported)  # fmt: skip
    for n, value in enumerate(exported):
        ProvisionedLink.objects.create(job=job, source_id=f"o{n}", exported=value, active=n % 2 == 0)
    ProvisionedLink.objects.filter(source_id__startswith="o").update(created_at=updated[0])
    for n, when in enumerate(updated):
        ProvisionedLink.objects.filter(source_id=f"o{n}").update(updated_at=when)

    fields = ["exported", "active", "updated_at", "created_at"]
    bulk = list(ProvisionedLink.objects.filter(source_id__startswith="b").order_by("source_id").values(*fields))
    orm = list(ProvisionedLink.objects.filter(source_id__startswith="o").order_by("source_id").values(*fields))
    assert bulk == orm
    assert [row["exported"] for row in bulk] == exported


def test_insert_rows_leaves_other_json_values_to_the_field(application):
    job = application.job
    rows = [[job.pk, name, "", "", "", "", value, True, True, None, None] for name, value in
            [("s", "text"), ("t", ("a", 1)), ("i", 7)]]  # fmt: skip
    insert_rows(ProvisionedLink, [c for c in COLUMNS if not c.endswith("_at")] + ["updated_at", "created_at"], [
        [*row[:9], datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)] for row in rows
    ])  # fmt: skip
    assert dict(ProvisionedLink.objects.values_list("source_id", "exported")) == {"s": "text", "t": ["a", 1], "i": 7}
