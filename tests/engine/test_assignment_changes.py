"""Incremental cycles follow the assignments through what changed (mappings/directory/changes.py): an assignment added
or removed in Entra, or a member joining or leaving an assigned group, reaches Salesforce in the next cycle, without
the full read of the assignments an initial cycle makes."""

from __future__ import annotations

import pytest

from mappings.directory.models import AssignmentSnapshot
from mappings.directory.snapshot import StoredAssignments
from provisioning.engine import cycle as cycle_module
from provisioning.models import CycleKind, CycleStatus, ProvisionedLink, ProvisioningCycle
from provisioning.tasks import run_cycle

pytestmark = pytest.mark.django_db(transaction=True)


def run(job) -> ProvisioningCycle:
    cycle = run_cycle(job.pk)
    assert cycle is not None
    cycle.refresh_from_db()
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), cycle.error_message
    return cycle


def sf_user(emu, upn):
    return emu.control.get_salesforce_user(username=f"{upn}.uat")


def newcomers(emu, n: int = 1) -> list[dict]:
    """Users new to the tenant: neither assigned nor a member of any group."""
    return [
        emu.control.create_entra_user(
            userPrincipalName=f"newcomer{i}@contoso.onmicrosoft.com", mail=f"newcomer{i}@contoso.com",
            displayName=f"Newcomer {i}", givenName="Newcomer", surname=str(i), mailNickname=f"newcomer{i}",
        )
        for i in range(n)
    ]  # fmt: skip


def refreshed_at(app):
    return AssignmentSnapshot.objects.get(application=app).refreshed_at


def test_an_assignment_added_or_removed_in_entra_reaches_salesforce_in_the_next_incremental_cycle(configured_app, emu):
    job = configured_app.job
    user = newcomers(emu)[0]  # known to the tenant before: only the assignment changes
    run(job)
    full_read_at = refreshed_at(configured_app)
    emu.control.assign(user["id"], "Standard User")

    cycle = run(job)
    assert cycle.kind == CycleKind.INCREMENTAL and cycle.created == 1
    record = sf_user(emu, user["userPrincipalName"])
    assert record["IsActive"] is True and record["ProfileId"] == emu.control.profile_id("Standard User")
    assert refreshed_at(configured_app) == full_read_at  # followed, not read again in full
    assert StoredAssignments(configured_app).roles_of(user["id"]) == ("Standard User",)

    emu.control.unassign(user["id"])
    cycle = run(job)
    assert cycle.kind == CycleKind.INCREMENTAL and cycle.disabled == 1
    assert sf_user(emu, user["userPrincipalName"])["IsActive"] is False
    assert StoredAssignments(configured_app).roles_of(user["id"]) is None
    assert refreshed_at(configured_app) == full_read_at


def test_an_assignment_read_by_a_cycle_that_crashed_is_provisioned_by_the_next_one(configured_app, emu, monkeypatch):
    """The snapshot takes the change before the user is provisioned: the user stays pending until a cycle completes."""
    job = configured_app.job
    user = newcomers(emu)[0]
    run(job)
    emu.control.assign(user["id"], "Standard User")

    def crash(*args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(cycle_module.CycleRunner, "_refetch", crash)
    crashed = run_cycle(job.pk)
    crashed.refresh_from_db()
    assert crashed.status == CycleStatus.CRASHED and sf_user(emu, user["userPrincipalName"]) is None
    assert StoredAssignments(configured_app).roles_of(user["id"]) == ("Standard User",)  # the change was read
    monkeypatch.undo()

    cycle = run(job)
    assert cycle.kind == CycleKind.INCREMENTAL and cycle.created == 1
    assert sf_user(emu, user["userPrincipalName"])["IsActive"] is True
    assert AssignmentSnapshot.objects.get(application=configured_app).pending_users == []


def test_a_member_joining_or_leaving_an_assigned_group_reaches_salesforce_in_the_next_cycle(configured_app, emu):
    job = configured_app.job
    user = newcomers(emu)[0]  # known to the tenant before: only the assignment changes
    run(job)
    full_read_at = refreshed_at(configured_app)
    emu.control.add_group_member("Support Team", user["id"])

    cycle = run(job)
    assert cycle.kind == CycleKind.INCREMENTAL and cycle.created == 1
    record = sf_user(emu, user["userPrincipalName"])
    team_role = StoredAssignments(configured_app).roles_of(user["id"])
    assert record["IsActive"] is True and team_role and record["ProfileId"] == emu.control.profile_id(team_role[0])
    assert refreshed_at(configured_app) == full_read_at

    emu.control.remove_group_member("Support Team", user["id"])
    cycle = run(job)
    assert cycle.disabled == 1 and sf_user(emu, user["userPrincipalName"])["IsActive"] is False
    assert refreshed_at(configured_app) == full_read_at


def test_a_change_inside_a_nested_group_is_read_in_full_and_still_reaches_salesforce(configured_app, emu):
    job = configured_app.job
    user = newcomers(emu)[0]  # known to the tenant before: only the assignment changes
    run(job)
    full_read_at = refreshed_at(configured_app)
    emu.control.add_group_member("Sales Interns", user["id"])  # nested inside the assigned "Sales Team"

    cycle = run(job)
    assert cycle.kind == CycleKind.INCREMENTAL and cycle.created == 1
    assert sf_user(emu, user["userPrincipalName"])["ProfileId"] == emu.control.profile_id("Sales Representative")
    assert refreshed_at(configured_app) > full_read_at


def test_a_group_assigned_in_entra_is_read_and_its_members_provisioned(configured_app, emu):
    job = configured_app.job
    people = newcomers(emu, 2)
    run(job)
    group = emu.control.create_group("New starters", [u["id"] for u in people])
    emu.control.assign(group["id"], "Chatter Free User")

    cycle = run(job)
    assert cycle.kind == CycleKind.INCREMENTAL and cycle.created == 2
    for user in people:
        assert sf_user(emu, user["userPrincipalName"])["ProfileId"] == emu.control.profile_id("Chatter Free User")


def test_an_incremental_cycle_without_changes_reads_no_group_members_and_writes_nothing(configured_app, emu):
    job = configured_app.job
    run(job)
    run(job)
    links = ProvisionedLink.objects.filter(job=job).count()
    emu.control.reset_counters()
    cycle = run(job)
    counters = emu.control.counters()
    assert cycle.kind == CycleKind.INCREMENTAL and cycle.objects_done == 0
    assert counters["writes"]["salesforce"] == 0
    reads = counters["entra"]
    assert not any("members" in route.lower() or "$batch" in route for route in reads), reads
    assert reads.get("GET /v1.0/groups/delta") == 1 and reads.get("GET /v1.0/users/delta") == 1
    assert ProvisionedLink.objects.filter(job=job).count() == links
