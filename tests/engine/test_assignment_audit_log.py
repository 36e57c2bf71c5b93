"""Incremental cycles learn whose assignments changed from Graph's directory audit log (mappings/directory/changes.py)
and read only those users and groups; when the log is refused or answers in the wrong shape they compare
appRoleAssignedTo in full, as before. Real cycles against the HTTPS emulators."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mappings.directory.changes import RECONCILE_AFTER
from mappings.directory.models import AssignmentSnapshot
from mappings.directory.snapshot import StoredAssignments
from provisioning.models import CycleKind, CycleStatus, CycleTrigger, ProvisioningCycle
from provisioning.tasks import run_cycle

pytestmark = pytest.mark.django_db(transaction=True)

ASSIGNED_TO = "GET /v1.0/servicePrincipals/{id}/appRoleAssignedTo"
AUDIT = "GET /v1.0/auditLogs/directoryAudits"


def run(job) -> ProvisioningCycle:
    cycle = run_cycle(job.pk)
    assert cycle is not None
    cycle.refresh_from_db()
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), cycle.error_message
    assert cycle.kind == CycleKind.INCREMENTAL or cycle.assignments_read.startswith("read in full")
    return cycle


def sf_user(emu, user):
    return emu.control.get_salesforce_user(username=f"{user['userPrincipalName']}.uat")


def newcomers(emu, n: int = 1, prefix: str = "newcomer") -> list[dict]:
    """Users new to the tenant: neither assigned nor a member of any group."""
    return [
        emu.control.create_entra_user(
            userPrincipalName=f"{prefix}{i}@contoso.onmicrosoft.com", mail=f"{prefix}{i}@contoso.com",
            displayName=f"{prefix.title()} {i}", givenName=prefix.title(), surname=str(i), mailNickname=f"{prefix}{i}",
        )
        for i in range(n)
    ]  # fmt: skip


def full_read_at(app):
    return AssignmentSnapshot.objects.get(application=app).refreshed_at


@pytest.fixture
def followed(configured_app, emu):
    """The application after its initial cycle, and the time of that cycle's full read of the assignments."""
    cycle = run(configured_app.job)
    assert cycle.kind == CycleKind.INITIAL and cycle.assignments_read == "read in full (no full read to follow from)"
    return configured_app, full_read_at(configured_app)


def test_a_user_assigned_and_unassigned_directly_reaches_salesforce_through_the_audit_log(followed, emu):
    app, read_at = followed
    user = newcomers(emu)[0]
    emu.control.assign(user["id"], "Standard User")
    emu.control.reset_counters()

    cycle = run(app.job)
    reads = emu.control.counters()["entra"]
    assert cycle.created == 1 and cycle.assignments_read.startswith("audit log: 1 entries, 1 users or groups read")
    assert reads.get(AUDIT) == 1 and ASSIGNED_TO not in reads, reads
    record = sf_user(emu, user)
    assert record["IsActive"] is True and record["ProfileId"] == emu.control.profile_id("Standard User")
    assert StoredAssignments(app).roles_of(user["id"]) == ("Standard User",)

    emu.control.unassign(user["id"])
    cycle = run(app.job)
    assert cycle.disabled == 1 and cycle.assignments_read.startswith("audit log:")
    assert sf_user(emu, user)["IsActive"] is False
    assert StoredAssignments(app).roles_of(user["id"]) is None
    assert full_read_at(app) == read_at  # followed, never read again in full


def test_a_group_assigned_and_unassigned_reaches_its_members_through_the_audit_log(followed, emu):
    app, read_at = followed
    people = newcomers(emu, 2)
    group = emu.control.create_group("New starters", [u["id"] for u in people])
    emu.control.assign(group["id"], "Chatter Free User")

    cycle = run(app.job)
    assert cycle.created == 2 and cycle.assignments_read.startswith("audit log:")
    for user in people:
        assert sf_user(emu, user)["ProfileId"] == emu.control.profile_id("Chatter Free User")
        assert StoredAssignments(app).roles_of(user["id"]) == ("Chatter Free User",)

    joiner = newcomers(emu, 1, prefix="joiner")[0]  # the new group's membership is followed from then on
    emu.control.add_group_member(group["id"], joiner["id"])
    cycle = run(app.job)
    assert cycle.created == 1 and sf_user(emu, joiner)["IsActive"] is True

    emu.control.unassign(group["id"])
    cycle = run(app.job)
    assert cycle.disabled == 3 and cycle.assignments_read.startswith("audit log:")
    assert all(sf_user(emu, user)["IsActive"] is False for user in [*people, joiner])
    assert full_read_at(app) == read_at


def test_an_audit_entry_reported_late_is_still_found_by_the_next_query(followed, emu):
    """Entra reports most audit entries within minutes, not at once: each query reaches back over the last one."""
    app, _ = followed
    user = newcomers(emu)[0]
    emu.control.hold_audit_log()
    emu.control.assign(user["id"], "Standard User")
    cycle = run(app.job)
    assert cycle.created == 0 and sf_user(emu, user) is None  # not reported yet

    emu.control.hold_audit_log(False)  # reported now, with the time of the assignment
    cycle = run(app.job)
    assert cycle.created == 1 and sf_user(emu, user)["IsActive"] is True


def test_without_auditlog_read_all_the_cycle_compares_approleassignedto_in_full(followed, emu):
    app, read_at = followed
    emu.control.withhold_permission("AuditLog.Read.All")
    user = newcomers(emu)[0]
    emu.control.assign(user["id"], "Standard User")
    emu.control.reset_counters()

    cycle = run(app.job)
    reads = emu.control.counters()["entra"]
    assert cycle.created == 1 and sf_user(emu, user)["IsActive"] is True
    assert cycle.assignments_read.startswith("appRoleAssignedTo compared in full: reading the audit log was refused")
    assert "Insufficient privileges" in cycle.assignments_read
    assert reads.get(ASSIGNED_TO, 0) >= 1 and reads.get(AUDIT) == 1, reads
    assert full_read_at(app) == read_at  # compared, not stored again in full

    emu.control.unassign(user["id"])
    cycle = run(app.job)
    assert cycle.disabled == 1 and sf_user(emu, user)["IsActive"] is False


def test_without_directory_read_all_the_principals_are_not_read_and_the_full_comparison_serves(followed, emu):
    """Users' and groups' appRoleAssignments need Directory.Read.All: refused, the cycle compares in full."""
    app, _ = followed
    emu.control.withhold_permission("Directory.Read.All")
    user = newcomers(emu)[0]
    emu.control.assign(user["id"], "Standard User")
    cycle = run(app.job)
    assert cycle.assignments_read.startswith(
        "appRoleAssignedTo compared in full: reading users' and groups' assignments was refused"
    )
    assert cycle.created == 1 and sf_user(emu, user)["IsActive"] is True


@pytest.mark.parametrize("shape", ["no_value", "item_without_id", "html"])
def test_an_audit_log_answer_of_the_wrong_shape_is_not_taken_for_no_change(followed, emu, shape):
    """The log's answer is not used; the full comparison still finds the assignment removed."""
    app, _ = followed
    user = newcomers(emu)[0]
    emu.control.assign(user["id"], "Standard User")
    assert run(app.job).created == 1
    emu.control.unassign(user["id"])
    emu.control.malformed_answers("entra", r"/auditLogs/directoryAudits", shape, count=50)

    cycle = run(app.job)
    assert cycle.assignments_read.startswith("appRoleAssignedTo compared in full: the audit log answered in the wrong")
    assert cycle.disabled == 1 and sf_user(emu, user)["IsActive"] is False


def test_a_users_assignments_answered_in_the_wrong_shape_fail_the_cycle_and_deactivate_nobody(followed, emu):
    app, _ = followed
    user = newcomers(emu)[0]
    emu.control.assign(user["id"], "Standard User")
    assert run(app.job).created == 1
    emu.control.unassign(user["id"])
    emu.control.malformed_answers("entra", rf"/users/{user['id']}/appRoleAssignments", "no_value", count=50)

    cycle = run_cycle(app.job.pk)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.FAILED and cycle.error_code == "UNEXPECTED_ANSWER"
    assert cycle.disabled == 0 and sf_user(emu, user)["IsActive"] is True
    assert StoredAssignments(app).roles_of(user["id"]) == ("Standard User",)  # the snapshot kept

    emu.control._entra.malformed.reset()
    cycle = run(app.job)  # answered rightly again: the removal is found then
    assert cycle.disabled == 1 and sf_user(emu, user)["IsActive"] is False


def test_an_entry_naming_no_user_falls_back_to_the_full_comparison(followed, emu, monkeypatch):
    from emulators.entra import audit

    app, _ = followed
    user = newcomers(emu)[0]
    emu.control.assign(user["id"], "Standard User")
    shape = audit.AuditRoutes.shape

    def without_principal(self, record):
        entry = shape(self, record)
        entry["targetResources"] = entry["targetResources"][:1]
        return entry

    monkeypatch.setattr(audit.AuditRoutes, "shape", without_principal)
    cycle = run(app.job)
    assert cycle.assignments_read.startswith("appRoleAssignedTo compared in full: the audit log listed")
    assert cycle.created == 1 and sf_user(emu, user)["IsActive"] is True


def test_an_incremental_cycle_without_changes_makes_a_handful_of_graph_calls(followed, emu):
    app, _ = followed
    run(app.job)
    emu.control.reset_counters()
    cycle = run(app.job)
    reads = emu.control.counters()["entra"]
    assert cycle.objects_done == 0 and cycle.assignments_read.startswith("audit log: 0 entries")
    assert ASSIGNED_TO not in reads and sum(reads.values()) <= 6, reads


def test_more_changed_principals_than_a_full_read_costs_are_compared_in_full(followed, emu):
    app, _ = followed
    state = emu.control._entra.state
    direct = sorted({a["principalId"] for a in state.assignments.values() if a["principalType"] == "User"})[:25]
    assert len(direct) == 25
    removed = sum(emu.control.unassign(user_id) for user_id in direct)
    cycle = run(app.job)
    assert cycle.assignments_read.startswith("appRoleAssignedTo compared in full: 25 users and groups changed")
    assert removed >= 25 and all(StoredAssignments(app).roles_of(user_id) is None for user_id in direct)


def test_the_overview_says_how_the_last_cycle_read_the_assignments(followed, emu, client):
    from django.contrib.auth.models import User
    from django.urls import reverse

    app, _ = followed
    run(app.job)
    client.force_login(User.objects.create_superuser("olga.overview", "olga@example.com", "x-long-password-1"))
    content = client.get(reverse("application_overview", args=[app.slug])).content.decode()
    assert "<dt>Assignments</dt><dd>audit log: 0 entries, 0 users or groups read</dd>" in content


def test_a_full_cycle_follows_the_audit_log_and_still_deactivates_a_user_unassigned(followed, emu):
    """A full cycle (a new mapping version, Restart) reads every user but follows the assignments' changes like an
    incremental cycle instead of reading appRoleAssignedTo again; the roles come from the snapshot it followed."""
    app, read_at = followed
    user, kept = newcomers(emu, 2)
    emu.control.assign(user["id"], "Standard User")
    emu.control.assign(kept["id"], "Standard User")
    assert run(app.job).created == 2
    emu.control.unassign(user["id"])
    emu.control.reset_counters()

    cycle = run_cycle(app.job.pk, CycleKind.INITIAL)
    cycle.refresh_from_db()
    reads = emu.control.counters()["entra"]
    assert cycle.status == CycleStatus.SUCCEEDED and cycle.kind == CycleKind.INITIAL
    assert cycle.assignments_read.startswith("audit log:")  # the overlap lists the earlier entries again
    assert ASSIGNED_TO not in reads and reads.get(AUDIT) == 1, reads
    assert cycle.disabled == 1 and cycle.created == 0 and cycle.failed == 0
    assert sf_user(emu, user)["IsActive"] is False and sf_user(emu, kept)["IsActive"] is True
    assert full_read_at(app) == read_at

    emu.control.assign(user["id"], "Chatter Free User")  # assigned again: enabled with the new role's profile
    cycle = run_cycle(app.job.pk, CycleKind.INITIAL)
    cycle.refresh_from_db()
    assert cycle.assignments_read.startswith("audit log:") and cycle.enabled == 1
    record = sf_user(emu, user)
    assert record["IsActive"] is True and record["ProfileId"] == emu.control.profile_id("Chatter Free User")


def test_a_full_cycle_whose_followed_read_fails_deactivates_nobody(followed, emu):
    app, _ = followed
    user = newcomers(emu)[0]
    emu.control.assign(user["id"], "Standard User")
    assert run(app.job).created == 1
    emu.control.unassign(user["id"])
    emu.control.malformed_answers("entra", rf"/users/{user['id']}/appRoleAssignments", "no_value", count=50)

    cycle = run_cycle(app.job.pk, CycleKind.INITIAL)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.FAILED and cycle.error_code == "UNEXPECTED_ANSWER"
    assert cycle.disabled == 0 and sf_user(emu, user)["IsActive"] is True
    assert StoredAssignments(app).roles_of(user["id"]) == ("Standard User",)


def test_a_full_cycle_whose_audit_log_is_refused_compares_approleassignedto_and_deactivates(followed, emu):
    app, read_at = followed
    user = newcomers(emu)[0]
    emu.control.assign(user["id"], "Standard User")
    assert run(app.job).created == 1
    emu.control.unassign(user["id"])
    emu.control.withhold_permission("AuditLog.Read.All")

    cycle = run_cycle(app.job.pk, CycleKind.INITIAL)
    cycle.refresh_from_db()
    assert cycle.assignments_read.startswith("appRoleAssignedTo compared in full: reading the audit log was refused")
    assert cycle.disabled == 1 and sf_user(emu, user)["IsActive"] is False
    assert full_read_at(app) == read_at


def test_a_full_cycle_reads_the_assignments_in_full_when_the_reconciliation_is_due(followed, emu):
    app, read_at = followed
    due = timezone.now() - RECONCILE_AFTER - timedelta(minutes=1)
    AssignmentSnapshot.objects.filter(application=app).update(refreshed_at=due)
    emu.control.reset_counters()
    cycle = run_cycle(app.job.pk, CycleKind.INITIAL)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.SUCCEEDED
    assert cycle.assignments_read == "read in full (the periodic full read)"
    assert emu.control.counters()["entra"].get(ASSIGNED_TO, 0) >= 1
    assert full_read_at(app) > read_at and cycle.disabled == 0


def test_restart_provisioning_reads_every_assignment_in_full_instead_of_following(followed, emu):
    """Restart starts over: its initial cycle reads appRoleAssignedTo in full even though the snapshot could be
    followed, so a change the audit log never reported reaches Salesforce."""
    from provisioning import scheduling

    app, read_at = followed
    user = newcomers(emu)[0]
    emu.control.assign(user["id"], "Standard User")
    emu.control.hold_audit_log(True)  # the log does not report this assignment
    emu.control.reset_counters()

    scheduling.restart(app.job)  # the tests' broker runs the queued cycle at once
    cycle = ProvisioningCycle.objects.filter(job=app.job, trigger=CycleTrigger.RESTART).get()
    assert cycle.kind == CycleKind.INITIAL and cycle.status != CycleStatus.FAILED, cycle.error_message
    assert cycle.assignments_read == "read in full (Restart provisioning reads every assignment)"
    assert emu.control.counters()["entra"].get(ASSIGNED_TO, 0) >= 1
    assert cycle.created == 1 and sf_user(emu, user)["IsActive"] is True
    assert full_read_at(app) > read_at
