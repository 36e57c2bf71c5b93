"""The ledger's rows as a page writes them: a created user's rows inserted, everyone else's merged, the same rows
either way (COPY on PostgreSQL, executemany on SQLite: console/bulk.py)."""

from __future__ import annotations

import pytest

from provisioning.engine.grants import Ledger
from provisioning.engine.items import Plan, PlanKind, WorkItem
from provisioning.models import AccessGrant, CycleKind, ProvisioningCycle

pytestmark = pytest.mark.django_db

FIELDS = ("source_id", "target_id", "kind", "item_id", "item_name", "record_id", "owned", "cycle_id")


def user(source_id: str, target_id: str, kind: PlanKind) -> WorkItem:
    item = WorkItem(source_id, user={})
    item.target_id = target_id
    item.plan = Plan(kind)
    return item


def stored(job) -> list[tuple]:
    return sorted(AccessGrant.objects.filter(job=job).values_list(*FIELDS))


def new_cycle(job, *, dry_run: bool = False) -> ProvisioningCycle:
    return ProvisioningCycle.objects.create(job=job, kind=CycleKind.INITIAL, dry_run=dry_run)


def test_a_page_stores_the_grants_of_created_and_existing_users_alike(application):
    job = application.job
    cycle = new_cycle(job)
    AccessGrant.objects.create(job=job, source_id="s2", target_id="0052", kind="group", item_id="00G1", cycle=None)
    ledger = Ledger(job, cycle)
    created, known = user("s1", "0051", PlanKind.CREATE), user("s2", "0052", PlanKind.UPDATE)
    ledger.load([created, known])
    ledger.remember(created, "permission_set", "0PS1", "Sales Console", "0Pa1", owned=True)
    ledger.remember(created, "permission_set", "0PS2", "Reports", "", owned=False)
    ledger.remember(created, "permission_set", "0PS2", "Reports Builder", "0Pa2", owned=True)  # the latest counts
    ledger.remember(known, "group", "00G1", "EMEA Sales", "0111", owned=True)  # merged into the stored row
    ledger.remember(known, "permission_set", "0PS1", "Sales Console", "", owned=False)
    ledger.record()

    assert stored(job) == [
        ("s1", "0051", "permission_set", "0PS1", "Sales Console", "0Pa1", True, cycle.pk),
        ("s1", "0051", "permission_set", "0PS2", "Reports Builder", "0Pa2", True, cycle.pk),
        ("s2", "0052", "group", "00G1", "EMEA Sales", "0111", True, cycle.pk),
        ("s2", "0052", "permission_set", "0PS1", "Sales Console", "", False, cycle.pk),
    ]
    assert AccessGrant.objects.filter(job=job).values("granted_at").distinct().count() == 1
    ledger.record()  # nothing pending: nothing written twice
    assert AccessGrant.objects.filter(job=job).count() == 4


def test_a_created_users_row_already_stored_is_merged_not_refused(application):
    """Not expected (a user created in the page is new to the job), and harmless all the same: the insert is undone
    and the page's rows are merged, inside the page's transaction."""
    job = application.job
    cycle = new_cycle(job)
    AccessGrant.objects.create(job=job, source_id="old", target_id="0051", kind="group", item_id="00G1", owned=False)
    ledger = Ledger(job, cycle)
    created = user("s1", "0051", PlanKind.CREATE)
    ledger.load([created])
    ledger.remember(created, "permission_set", "0PS1", "Sales Console", "0Pa1", owned=True)
    ledger.remember(created, "group", "00G1", "EMEA Sales", "0111", owned=True)
    ledger.record()

    assert stored(job) == [
        ("s1", "0051", "group", "00G1", "EMEA Sales", "0111", True, cycle.pk),
        ("s1", "0051", "permission_set", "0PS1", "Sales Console", "0Pa1", True, cycle.pk),
    ]


def test_a_dry_run_stores_nothing(application):
    job = application.job
    ledger = Ledger(job, new_cycle(job, dry_run=True))
    created = user("s1", "0051", PlanKind.CREATE)
    ledger.load([created])
    ledger.remember(created, "permission_set", "0PS1", "Sales Console", "0Pa1", owned=True)
    ledger.record()
    assert not AccessGrant.objects.filter(job=job).exists()
