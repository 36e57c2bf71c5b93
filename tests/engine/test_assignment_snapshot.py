"""Cycles and the stored assignment snapshot: a cycle reads the assignments in full, stores them for the Users and
groups page and provisions from that very read; a read that fails ends the cycle, keeps the snapshot and
deprovisions nobody."""

from __future__ import annotations

import pytest
from django.db import DatabaseError

from connections.clients.errors import TransientError
from connections.clients.graph import GraphClient
from mappings.directory.assignments import AssignmentReader
from mappings.directory.changes import EVERYONE, StoredRoles
from mappings.directory.models import (
    AssignmentSnapshot,
    SnapshotAssignment,
    SnapshotGrant,
    SnapshotSource,
    SnapshotUser,
)
from mappings.directory.snapshot import StoredAssignments, refresh
from provisioning.engine.importer import SourceReader
from provisioning.models import CycleKind, CycleStatus, CycleTrigger, ProvisionedLink
from provisioning.tasks import run_cycle

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cycle_stores_the_assignments_it_provisions_from(configured_app, emu):
    cycle = run_cycle(configured_app.job.pk)
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), cycle.error_message
    snapshot = AssignmentSnapshot.objects.get(application=configured_app)
    assert snapshot.refreshed_by == SnapshotSource.CYCLE and snapshot.refreshed_at >= cycle.started_at
    provisioned = set(ProvisionedLink.objects.filter(job=configured_app.job).values_list("source_id", flat=True))
    assert set(StoredAssignments(configured_app).roles_by_user()) <= provisioned
    emu.control.unassign("Sales Team")
    run_cycle(configured_app.job.pk)
    assert not SnapshotAssignment.objects.filter(application=configured_app, display_name="Sales Team").exists()


def test_a_cycle_whose_assignment_read_fails_keeps_the_snapshot_and_deprovisions_nobody(configured_app, emu):
    run_cycle(configured_app.job.pk)
    before = SnapshotAssignment.objects.filter(application=configured_app).count()
    active = ProvisionedLink.objects.filter(job=configured_app.job, active=True).count()
    configured_app.job.retry_budget_minutes = 0  # no retries: Graph keeps failing, the test need not wait for it
    configured_app.job.save(update_fields=["retry_budget_minutes"])
    emu.control.set_fault_rates("entra", rate_500=1.0)
    failed = run_cycle(configured_app.job.pk)
    emu.control.set_fault_rates("entra")
    assert failed.status == CycleStatus.FAILED
    assert SnapshotAssignment.objects.filter(application=configured_app).count() == before
    assert AssignmentSnapshot.objects.get(application=configured_app).error
    assert ProvisionedLink.objects.filter(job=configured_app.job, active=True).count() == active


def _people(application):
    """What the snapshot shows of each user, assignment and grant: names, UPNs, mails and their search keys."""
    return (
        sorted(SnapshotUser.objects.filter(application=application).values_list(
            "user_id", "display_name", "upn", "mail", "upn_key", "mail_key", "role_ids"
        )),
        sorted(SnapshotAssignment.objects.filter(application=application).values_list(
            "assignment_id", "display_name", "upn", "mail", "upn_key", "mail_key"
        )),
        sorted(SnapshotGrant.objects.filter(application=application).values_list(
            "assignment_id", "user_id", "display_name", "upn", "mail"
        )),
    )  # fmt: skip


def test_a_full_cycle_lists_the_tenants_users_once_and_the_snapshot_shows_what_a_refresh_from_entra_would(
    configured_app, emu, monkeypatch
):
    read_apart: list[int] = []
    users_of = AssignmentReader.users

    def users(reader, ids, *args, **kwargs):
        read_apart.append(len(ids))
        return users_of(reader, ids, *args, **kwargs)

    monkeypatch.setattr(AssignmentReader, "users", users)
    emu.control.reset_counters()
    cycle = run_cycle(configured_app.job.pk)
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), cycle.error_message
    assert not any(read_apart)  # the UPNs came from the cycle's own list of users
    assert "GET /v1.0/users/$count" not in emu.control.counters()["entra"]
    users = emu.control.counters()["entra"]["GET /v1.0/users"]
    after_cycle = _people(configured_app)
    assert any(upn for _, _, upn, *_ in after_cycle[0])
    refresh(configured_app, AssignmentReader(GraphClient(configured_app.entra)), source=SnapshotSource.REFRESH)
    assert _people(configured_app) == after_cycle
    emu.control.reset_counters()
    again = run_cycle(configured_app.job.pk, CycleKind.INITIAL)
    assert again.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), again.error_message
    assert emu.control.counters()["entra"]["GET /v1.0/users"] == users
    assert _people(configured_app) == after_cycle


def test_users_a_full_cycle_could_not_name_are_read_by_the_next_one(configured_app, emu):
    run_cycle(configured_app.job.pk)
    named = _people(configured_app)
    direct = SnapshotUser.objects.filter(application=configured_app, direct=True)
    assert direct.exclude(upn="").exists()
    direct.update(upn="", mail="", upn_key="", mail_key="")  # as a cycle that stopped before its read of users
    SnapshotAssignment.objects.filter(application=configured_app, principal_type="User").update(upn="", mail="")
    # Such a cycle never said its users were provisioned: the whole read stays pending, and the next cycle, full or
    # incremental, reads the assignments in full again instead of following them.
    AssignmentSnapshot.objects.filter(application=configured_app).update(pending_users=[EVERYONE])
    configured_app.job.needs_initial_cycle = False
    configured_app.job.save(update_fields=["needs_initial_cycle"])
    run_cycle(configured_app.job.pk, CycleKind.INITIAL)
    assert _people(configured_app) == named


def _unnamed_direct_users(application) -> set[str]:
    """Users assigned directly whom the snapshot holds without a UPN, checked to be the same in its three tables."""
    users = set(
        SnapshotUser.objects.filter(application=application, direct=True, upn="").values_list("user_id", flat=True)
    )
    rows = SnapshotAssignment.objects.filter(application=application, principal_type="User", upn="")
    assert set(rows.values_list("principal_id", flat=True)) == users
    assert set(SnapshotGrant.objects.filter(application=application, upn="").values_list("user_id", flat=True)) == users
    return users


def _forgotten_names(application) -> set[str]:
    """The snapshot as a full cycle stores it before its read of users: users assigned directly without UPN or mail
    (unless a group's members gave them)."""
    in_groups = set(
        SnapshotGrant.objects.filter(application=application)
        .exclude(assignment_id__in=SnapshotAssignment.objects.filter(principal_type="User").values("assignment_id"))
        .values_list("user_id", flat=True)
    )
    direct = (
        set(SnapshotUser.objects.filter(application=application, direct=True).values_list("user_id", flat=True))
        - in_groups
    )
    assert direct
    SnapshotUser.objects.filter(application=application, user_id__in=direct).update(
        upn="", mail="", upn_key="", mail_key=""
    )
    SnapshotAssignment.objects.filter(application=application, principal_id__in=direct).update(
        upn="", mail="", upn_key="", mail_key=""
    )
    SnapshotGrant.objects.filter(application=application, user_id__in=direct).update(upn="", mail="")
    AssignmentSnapshot.objects.filter(application=application).update(pending_users=[EVERYONE])  # read in full
    application.job.needs_initial_cycle = False
    application.job.save(update_fields=["needs_initial_cycle"])
    return direct


def test_a_full_cycle_names_its_new_users_in_every_table_once_its_read_of_users_is_done(configured_app, emu):
    run_cycle(configured_app.job.pk)
    named = _people(configured_app)
    unnamed = _forgotten_names(configured_app)
    assert _unnamed_direct_users(configured_app) == unnamed
    cycle = run_cycle(configured_app.job.pk, CycleKind.INITIAL)
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), cycle.error_message
    assert _unnamed_direct_users(configured_app) == set()
    assert _people(configured_app) == named


def test_a_full_cycle_whose_read_of_users_fails_part_way_names_nobody_and_the_next_one_does(
    configured_app, emu, monkeypatch
):
    run_cycle(configured_app.job.pk)
    named = _people(configured_app)
    unnamed = _forgotten_names(configured_app)
    all_users = SourceReader.all_users

    def failing(reader, *args, **kwargs):
        for page in all_users(reader, *args, **kwargs):
            yield page[: len(page) // 2]  # the users of the first half reached the cycle, then the read failed
            raise TransientError("the next page of users could not be read")

    monkeypatch.setattr(SourceReader, "all_users", failing)
    failed = run_cycle(configured_app.job.pk, CycleKind.INITIAL)
    assert failed.status == CycleStatus.COMPLETED_WITH_ERRORS
    assert _unnamed_direct_users(configured_app) == unnamed  # nobody named, in any table
    monkeypatch.setattr(SourceReader, "all_users", all_users)
    again = run_cycle(configured_app.job.pk, CycleKind.INITIAL)
    assert again.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), again.error_message
    assert _people(configured_app) == named


def _roles_the_read_gave(monkeypatch) -> tuple[dict, list]:
    """The map each full read of the assignments gave (whatever the cycle asked for), and what each cycle then
    provisioned from (CycleRunner._assignments)."""
    from mappings.directory import changes
    from provisioning.engine.cycle import CycleRunner

    read: dict = {}
    used: list = []
    real_refresh = changes.refresh
    real_assignments = CycleRunner._assignments

    def refresh_keeping_the_map(*args, roles_if_stored=True, **kwargs):
        refreshed = real_refresh(*args, **kwargs)  # the map is made whether stored or not
        read.update(refreshed.roles_by_user)
        if refreshed.stored and not roles_if_stored:
            refreshed.roles_by_user = None  # as the cycle asked
        return refreshed

    def assignments(runner):
        used.append(real_assignments(runner))
        return used[-1]

    monkeypatch.setattr(changes, "refresh", refresh_keeping_the_map)
    monkeypatch.setattr(CycleRunner, "_assignments", assignments)
    return read, used


def test_a_cycle_that_stored_its_full_read_provisions_everyone_with_the_roles_that_read_gave(
    configured_app, emu, monkeypatch
):
    read, used = _roles_the_read_gave(monkeypatch)
    cycle = run_cycle(configured_app.job.pk)
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), cycle.error_message
    assert isinstance(used[0], StoredRoles)  # the roles came from the stored rows, a page at a time
    links = dict(ProvisionedLink.objects.filter(job=configured_app.job).values_list("source_id", "roles_key"))
    assert read and set(read) == set(links)
    assert {user_id: ";".join(roles) for user_id, roles in read.items()} == links
    assert any(";" in key for key in links.values()) and "" in links.values()  # several roles, Default Access


def test_a_full_read_that_could_not_be_stored_provisions_from_its_own_map_and_deprovisions_nobody(
    configured_app, emu, monkeypatch
):
    from mappings.directory import snapshot

    run_cycle(configured_app.job.pk)
    active = set(ProvisionedLink.objects.filter(job=configured_app.job, active=True).values_list("pk", flat=True))
    # The stored snapshot lost its users (as one older than the tenant would), and this read is not stored over it
    # (as a read older than a change made on the page): the cycle must not take the stored rows for who is assigned.
    SnapshotUser.objects.filter(application=configured_app).delete()
    monkeypatch.setattr(snapshot, "_store", lambda *args, **kwargs: False)
    read, used = _roles_the_read_gave(monkeypatch)
    again = run_cycle(configured_app.job.pk, CycleKind.INITIAL, trigger=CycleTrigger.RESTART)
    assert again.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), again.error_message
    assert again.disabled == 0
    assert set(ProvisionedLink.objects.filter(job=configured_app.job, active=True).values_list("pk", flat=True)) == (
        active
    )
    assert used[0] == read and read


def test_a_cycle_that_cannot_read_the_stored_roles_fails_and_deprovisions_nobody(configured_app, emu, monkeypatch):
    run_cycle(configured_app.job.pk)
    active = ProvisionedLink.objects.filter(job=configured_app.job, active=True).count()

    def unreadable(self, user_ids):
        raise DatabaseError("the snapshot could not be read")

    monkeypatch.setattr(StoredAssignments, "roles_for", unreadable)
    failed = run_cycle(configured_app.job.pk, CycleKind.INITIAL, trigger=CycleTrigger.RESTART)
    assert failed.status not in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS)
    assert failed.disabled == 0
    assert ProvisionedLink.objects.filter(job=configured_app.job, active=True).count() == active
