"""console/bulk.py's update_objects: the fields named, by primary key, JSON and booleans as the ORM would write
them, other rows and fields untouched (on whichever database the suite runs: SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from console.bulk import update_objects
from provisioning.models import ProvisionedLink

pytestmark = pytest.mark.django_db


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
