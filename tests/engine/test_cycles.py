"""Cycles run in this process against the emulators: what Salesforce ends up with, and what the log says."""

from __future__ import annotations

import gc

import pytest
from django.db import connection

from provisioning.engine import cycle as cycle_module
from provisioning.engine import lock
from provisioning.models import (
    CycleKind,
    CycleStatus,
    Escrow,
    LogAction,
    LogStatus,
    ProvisionedLink,
    ProvisioningCycle,
    ProvisioningJob,
    ProvisioningLogEntry,
)
from provisioning.tasks import run_cycle

pytestmark = pytest.mark.django_db(transaction=True)


def sf_user(emu, upn):
    return emu.control.get_salesforce_user(username=f"{upn}.uat")


def run(job, **kwargs) -> ProvisioningCycle:
    cycle = run_cycle(job.pk, **kwargs)
    assert cycle is not None
    cycle.refresh_from_db()
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), cycle.error_message
    return cycle


def sf_writes(emu) -> int:
    return emu.control.counters()["writes"]["salesforce"]


def a_plain_assigned_user(emu, n=0):
    """An assigned, enabled user with a mail and exactly one role (no seeded awkwardness)."""
    found = []
    for user_id in emu.control.assigned_user_ids():
        user = emu.control.get_entra_user(user_id)
        roles = [a for a in user["appRoleAssignments"]]
        if (
            user.get("mail")
            and user.get("accountEnabled", True)
            and len(roles) == 1
            and roles[0]["principalId"] == user_id
        ):
            if sf_user(emu, user["userPrincipalName"]) is None:
                found.append(user)
    return found[n]


def test_initial_cycle_creates_every_assigned_user_with_the_default_mapping_and_suffix(configured_app, emu):
    job = configured_app.job
    cycle = run(job)
    assert cycle.kind == CycleKind.INITIAL
    assert cycle.created > 0 and cycle.objects_done >= cycle.created

    user = a_plain_assigned_user(emu, 0) if False else None
    for user_id in emu.control.assigned_user_ids():
        entra = emu.control.get_entra_user(user_id)
        link = ProvisionedLink.objects.filter(job=job, source_id=user_id).first()
        failed = ProvisioningLogEntry.objects.filter(cycle=cycle, source_id=user_id, status=LogStatus.FAILURE).first()
        if entra.get("accountEnabled") is False:
            continue
        if failed is not None:
            assert failed.error_code and failed.error_reason
            continue
        assert link is not None, entra["userPrincipalName"]
        record = emu.control.get_salesforce_user(id=link.target_id)
        assert record["Username"] == f"{entra['userPrincipalName']}.uat"
        assert record["Email"] == f"{entra['mail']}.uat"
        assert record["FirstName"] == entra["givenName"]
        assert record["IsActive"] is True
        user = entra
    assert user is not None

    created = ProvisioningLogEntry.objects.filter(cycle=cycle, action=LogAction.CREATE, status=LogStatus.SUCCESS)
    assert created.count() == cycle.created
    entry = created.first()
    props = {p["displayName"]: p for p in entry.modified_properties}
    assert props["Username"]["newValue"].endswith(".uat") and props["Username"]["oldValue"] == ""
    assert [s["type"] for s in entry.steps] == ["import", "scoping", "matching", "export"]
    assert entry.target_id and entry.source_upn
    # Budget: the all-create cycle stays far below one Salesforce call per 150 users at this size too.
    assert cycle.salesforce_calls <= 6


def test_an_unchanged_user_costs_no_write_and_is_counted_not_logged(configured_app, emu):
    job = configured_app.job
    first = run(job)
    writes = sf_writes(emu)
    second = run(job, kind=CycleKind.INITIAL)
    assert sf_writes(emu) == writes
    assert second.created == second.updated == second.disabled == second.failed == 0
    assert second.unchanged == first.created + first.updated + first.enabled + first.unchanged
    # The users that failed wait in escrow for their next attempt (+6 h): counted as skipped, not tried.
    assert second.skipped == first.skipped + first.failed
    assert not ProvisioningLogEntry.objects.filter(cycle=second).exists()


def test_a_mapping_change_makes_the_next_cycle_initial_and_retries_escrowed_users(configured_app, emu):
    job = configured_app.job
    first = run(job)
    assert first.failed and Escrow.objects.filter(job=job).count() == first.failed
    mapping = configured_app.user_mapping
    mapping.version += 1
    mapping.save()
    second = run(job)
    assert second.kind == CycleKind.INITIAL
    assert second.failed == first.failed  # tried again at once (same data, same failures)
    assert Escrow.objects.filter(job=job, attempts=2).count() == first.failed


def test_a_scope_change_makes_the_next_cycle_initial_so_sync_all_reaches_users_never_assigned(configured_app, emu):
    from provisioning.engine.cycle import choose_kind

    job = configured_app.job
    run(job)
    outsider = emu.control.create_entra_user(
        userPrincipalName="never.assigned@contoso.onmicrosoft.com", displayName="Never Assigned", mail="na@contoso.com"
    )
    assert run(job).kind == CycleKind.INCREMENTAL  # the new user is not assigned: nothing to do under "assigned"
    ProvisioningJob.objects.filter(pk=job.pk).update(scope="all")
    job.refresh_from_db()
    assert choose_kind(job, configured_app.user_mapping.version) == CycleKind.INITIAL
    switched = run(job)
    assert switched.kind == CycleKind.INITIAL
    assert ProvisioningLogEntry.objects.filter(cycle=switched, source_id=outsider["id"]).exists()
    assert run(job).kind == CycleKind.INCREMENTAL


def test_an_entra_change_arrives_in_the_next_incremental_cycle_as_an_update_of_that_attribute_only(configured_app, emu):
    job = configured_app.job
    run(job)
    user = next(
        emu.control.get_entra_user(link.source_id)
        for link in ProvisionedLink.objects.filter(job=job, active=True).order_by("pk")
    )
    emu.control.update_entra_user(user["id"], givenName="Augusta")
    cycle = run(job)
    assert cycle.kind == CycleKind.INCREMENTAL
    assert cycle.updated == 1 and cycle.created == 0
    assert sf_user(emu, user["userPrincipalName"])["FirstName"] == "Augusta"
    entry = ProvisioningLogEntry.objects.get(cycle=cycle, source_id=user["id"])
    assert entry.action == LogAction.UPDATE
    assert entry.modified_properties == [
        {"displayName": "FirstName", "oldValue": user["givenName"], "newValue": "Augusta"}
    ]


def test_unassigning_disables_and_reassigning_enables_again(configured_app, emu):
    job = configured_app.job
    run(job)
    link = ProvisionedLink.objects.filter(job=job, active=True, roles_key="Standard User").first()
    upn = emu.control.get_entra_user(link.source_id)["userPrincipalName"]
    assert emu.control.unassign(link.source_id) >= 1

    cycle = run(job)
    assert cycle.disabled == 1
    assert sf_user(emu, upn)["IsActive"] is False
    entry = ProvisioningLogEntry.objects.get(cycle=cycle, source_id=link.source_id)
    assert entry.action == LogAction.DISABLE and entry.status == LogStatus.SUCCESS

    emu.control.assign(link.source_id, "Standard User")
    cycle = run(job)
    assert cycle.enabled == 1
    assert sf_user(emu, upn)["IsActive"] is True
    # The same Salesforce user came back: no second user, the link kept its target.
    assert ProvisionedLink.objects.get(pk=link.pk).target_id == link.target_id
    assert emu.control.get_salesforce_user(id=link.target_id)["Username"] == f"{upn}.uat"


def test_disabled_and_soft_deleted_users_are_deactivated_never_deleted(configured_app, emu):
    job = configured_app.job
    run(job)
    links = list(ProvisionedLink.objects.filter(job=job, active=True).order_by("pk")[:2])
    emu.control.disable_entra_user(links[0].source_id)
    emu.control.soft_delete_entra_user(links[1].source_id)
    count = len(emu.control.salesforce_users())
    cycle = run(job)
    assert cycle.disabled == 2
    for link in links:
        assert emu.control.get_salesforce_user(id=link.target_id)["IsActive"] is False
    assert len(emu.control.salesforce_users()) == count


def test_delete_action_off_leaves_out_of_scope_users_active(configured_app, emu):
    job = configured_app.job
    run(job)
    mapping = configured_app.user_mapping
    mapping.action_delete = False
    mapping.save()
    link = ProvisionedLink.objects.filter(job=job, active=True).first()
    emu.control.unassign(link.source_id)
    cycle = run(job, kind=CycleKind.INCREMENTAL)
    assert cycle.disabled == 0
    assert emu.control.get_salesforce_user(id=link.target_id)["IsActive"] is True


def test_a_username_taken_in_another_org_fails_for_that_user_only_and_is_escrowed(configured_app, emu):
    job = configured_app.job
    victim = a_plain_assigned_user(emu)
    emu.control.add_taken_username(f"{victim['userPrincipalName']}.uat")
    cycle = run(job)
    assert cycle.status == CycleStatus.COMPLETED_WITH_ERRORS
    entry = ProvisioningLogEntry.objects.get(cycle=cycle, source_id=victim["id"])
    assert entry.status == LogStatus.FAILURE and entry.action == LogAction.CREATE
    assert entry.error_code == "SalesforceDuplicateUserName"
    assert "another Salesforce organization" in entry.error_reason or "Duplicate" in entry.error_reason
    assert entry.escrow_attempt == 1
    assert Escrow.objects.filter(job=job, source_id=victim["id"]).exists()
    assert sf_user(emu, victim["userPrincipalName"]) is None
    assert cycle.created > 10


def test_an_expired_delta_link_falls_back_to_a_full_import(configured_app, emu):
    job = configured_app.job
    run(job)
    emu.control.expire_delta_tokens()
    cycle = run(job)
    assert cycle.kind == CycleKind.INITIAL
    assert cycle.created == 0
    job.refresh_from_db()
    assert job.watermark and not job.needs_initial_cycle


def test_transient_salesforce_errors_are_retried_and_an_expired_session_logs_in_again(configured_app, emu):
    job = configured_app.job
    emu.control.set_fault_rates("salesforce", rate_503=0.25)
    first = run(job)
    emu.control.set_fault_rates("salesforce")
    answered = sum(emu.control.counters()["salesforce"].values())
    assert first.salesforce_calls > 0 and answered > first.salesforce_calls - 1  # 503s were answered and retried
    assert first.created > 0
    assert not ProvisioningLogEntry.objects.filter(error_code__in=["SERVER_UNAVAILABLE", "HTTP_503"]).exists()
    user = next(
        emu.control.get_entra_user(link.source_id) for link in ProvisionedLink.objects.filter(job=job, active=True)
    )
    emu.control.update_entra_user(user["id"], surname="Lovelace")
    from connections.clients.salesforce import SalesforceClient

    client = SalesforceClient(configured_app.salesforce)
    client.login()
    emu.control.expire_sessions()  # the session this client holds is now refused with 401 INVALID_SESSION_ID
    logins = emu.control.counters()["salesforce"]["POST /services/Soap/u/XX.X"]
    cycle = run(job, salesforce_client=client)
    assert emu.control.counters()["salesforce"]["POST /services/Soap/u/XX.X"] == logins + 1
    assert cycle.updated == 1
    assert cycle.failed == 0  # the seeded bad users wait in escrow
    assert sf_user(emu, user["userPrincipalName"])["LastName"] == "Lovelace"


def test_a_crash_after_export_creates_no_duplicate_on_the_next_cycle(configured_app, emu, monkeypatch):
    """Salesforce got the users but the page's links were never saved: matching finds them again."""
    job = configured_app.job
    from provisioning.engine import pipeline

    def crash(*args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(pipeline, "record_page", crash)
    crashed = run_cycle(job.pk)
    crashed.refresh_from_db()
    assert crashed.status == CycleStatus.CRASHED
    users_after_crash = len(emu.control.salesforce_users())
    monkeypatch.undo()

    cycle = run(job)
    assert cycle.kind == CycleKind.INITIAL
    assert cycle.created == 0
    assert len(emu.control.salesforce_users()) == users_after_crash
    usernames = [u["Username"].lower() for u in emu.control.salesforce_users()]
    assert len(usernames) == len(set(usernames))
    assert ProvisionedLink.objects.filter(job=job).count() >= crashed.created


def test_stop_error_fails_the_cycle_with_the_reason_and_keeps_the_watermark(configured_app, emu):
    job = configured_app.job
    run(job)
    job.refresh_from_db()
    watermark = job.watermark
    emu.control.reject_logins("INVALID_LOGIN")
    emu.control.expire_sessions()
    user = next(
        emu.control.get_entra_user(link.source_id) for link in ProvisionedLink.objects.filter(job=job, active=True)
    )
    emu.control.update_entra_user(user["id"], givenName="Changed")
    cycle = run_cycle(job.pk)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.FAILED
    assert cycle.error_code and cycle.error_message
    assert "password" not in cycle.error_request.lower()
    job.refresh_from_db()
    assert job.watermark == watermark


def test_only_one_cycle_per_job_runs_at_a_time(configured_app, emu):
    job = configured_app.job
    owner = lock.worker_identity()
    assert lock.claim(job.pk, owner)
    assert run_cycle(job.pk) is None
    lock.release(job.pk, owner)
    assert run_cycle(job.pk) is not None


def test_switching_provisioning_off_pauses_after_the_current_page(configured_app, emu, monkeypatch):
    job = configured_app.job
    ProvisioningJob.objects.filter(pk=job.pk).update(enabled=True)
    real = cycle_module.process

    def process_then_switch_off(items, ctx, **kwargs):
        real(items, ctx, **kwargs)
        ProvisioningJob.objects.filter(pk=job.pk).update(enabled=False)

    monkeypatch.setattr(cycle_module, "process", process_then_switch_off)
    cycle = run_cycle(job.pk)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.PAUSED
    assert cycle.pages_done == 1
    job.refresh_from_db()
    assert job.needs_initial_cycle and not job.watermark


def test_dry_run_sends_no_write_and_logs_what_would_happen(configured_app, emu):
    job = configured_app.job
    writes = sf_writes(emu)
    cycle = run(job, dry_run=True)
    assert cycle.kind == CycleKind.DRY_RUN
    assert sf_writes(emu) == writes
    assert cycle.created > 0
    assert not ProvisionedLink.objects.filter(job=job).exists()
    entry = ProvisioningLogEntry.objects.filter(cycle=cycle, action=LogAction.CREATE).first()
    assert entry.dry_run and "would be created" in entry.steps[-1]["description"]


def test_provision_users_runs_chosen_users_through_the_pipeline_at_once(configured_app, emu):
    """The entry point provision on demand builds on: one user, all steps, one log entry."""
    from provisioning.engine.cycle import CycleRunner
    from provisioning.engine.lifecycle import running_cycle

    job = configured_app.job
    with running_cycle(job, kind=CycleKind.ON_DEMAND, trigger="on_demand", worker="test", mapping_version=0) as run:
        cycle = run.cycle
        runner = CycleRunner(job, run, owner="test")
        runner.prepare()
        runner.ctx.assignments = runner.directory.roles_by_user()
        user = a_plain_assigned_user(emu)
        [item] = runner.provision_users([runner.graph.get_user(user["id"], runner.reader.select)])
    assert item.plan.kind == "create" and item.error is None
    assert sf_user(emu, user["userPrincipalName"])["Id"] == item.target_id
    entry = ProvisioningLogEntry.objects.get(cycle=cycle)
    assert [step["type"] for step in entry.steps] == ["import", "scoping", "matching", "export"]


def test_members_of_a_group_nested_in_an_assigned_group_are_provisioned_with_its_role(configured_app, emu):
    # The seed nests "Sales Interns" (two otherwise unassigned users) inside the assigned "Sales Team".
    direct = set(emu.control.assigned_user_ids())
    cycle = run(configured_app.job)
    nested = [
        link
        for link in ProvisionedLink.objects.filter(job=configured_app.job).exclude(target_id="")
        if link.source_id not in direct
    ]
    assert cycle.created > 0
    assert len(nested) == 2
    for link in nested:
        record = emu.control.get_salesforce_user(id=link.target_id)
        assert record["IsActive"] is True
        assert record["ProfileId"] == emu.control.profile_id("Sales Representative")


def test_a_cycle_with_nothing_to_write_still_reports_credentials_that_stopped_working(configured_app, emu):
    job = configured_app.job
    run(job)
    emu.control.reject_logins("INVALID_LOGIN")  # e.g. the admin's password was reset, which rotates the token
    cycle = run_cycle(job.pk)
    cycle.refresh_from_db()
    assert cycle.kind == CycleKind.INCREMENTAL
    assert cycle.status == CycleStatus.FAILED
    assert cycle.error_code == "INVALID_LOGIN"


def test_a_linked_user_waiting_in_escrow_is_not_taken_for_deleted_by_a_full_cycle(configured_app, emu):
    """A user whose last update failed waits for its next attempt (skipped by the cycle); the full read still
    returned them, so they are neither "not returned by Entra" nor deactivated."""
    from datetime import timedelta

    from django.utils import timezone

    job = configured_app.job
    run(job)
    link = ProvisionedLink.objects.filter(job=job, active=True).exclude(target_id="").first()
    now = timezone.now()
    Escrow.objects.create(
        job=job,
        source_id=link.source_id,
        attempts=1,
        first_failed_at=now,
        last_failed_at=now,
        next_attempt_at=now + timedelta(hours=6),
        error_code="SalesforceTransient",
    )
    second = run(job, kind=CycleKind.INITIAL)
    assert second.disabled == 0 and second.skipped >= 1
    assert emu.control.get_salesforce_user(id=link.target_id)["IsActive"] is True
    assert not ProvisioningLogEntry.objects.filter(cycle=second, source_id=link.source_id).exists()


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_full_cycle_deactivates_the_user_it_no_longer_reads_and_rewrites_no_unchanged_link(
    configured_app, emu, dry_run
):
    """A user gone from Entra without a trace (hard-deleted) is found by being absent from the full read; the links
    of the users the read returned unchanged are not written (the cycle remembers it read them)."""
    job = configured_app.job
    run(job)
    gone, kept = list(ProvisionedLink.objects.filter(job=job, active=True).order_by("pk")[:2])
    emu.control.hard_delete_entra_user(gone.source_id)
    before = {link.pk: (link.last_seen_cycle, link.updated_at) for link in ProvisionedLink.objects.filter(job=job)}
    cycle = run(job, kind=CycleKind.INITIAL, dry_run=dry_run)
    entry = ProvisioningLogEntry.objects.get(cycle=cycle, source_id=gone.source_id)
    assert entry.action == LogAction.DISABLE and "Not returned by Microsoft Entra ID" in str(entry.steps)
    assert cycle.disabled == 1
    assert emu.control.get_salesforce_user(id=gone.target_id)["IsActive"] is dry_run
    assert emu.control.get_salesforce_user(id=kept.target_id)["IsActive"] is True
    assert not ProvisioningLogEntry.objects.filter(cycle=cycle, source_id=kept.source_id).exists()
    after = {link.pk: (link.last_seen_cycle, link.updated_at) for link in ProvisionedLink.objects.filter(job=job)}
    rewritten = {pk for pk in before if after[pk] != before[pk]}
    assert rewritten == (set() if dry_run else {gone.pk})


def test_a_user_returned_again_on_the_next_page_is_provisioned_once(configured_app, emu, monkeypatch):
    """The next page's links are read while a page is provisioned (PostgreSQL): a user Graph returns on two pages in
    a row is read again after the first page wrote its link, not created or linked twice."""
    from provisioning.engine.importer import SourceReader

    all_users = SourceReader.all_users

    def repeating(self, also=()):
        users = [user for page in all_users(self, also) for user in page]
        third = len(users) // 3
        again = dict(users[0])
        yield users[:third]
        yield users[third : 2 * third]
        yield [*users[2 * third :], again]  # the next pair of pages: the first user once more

    monkeypatch.setattr(SourceReader, "all_users", repeating)
    job = configured_app.job
    cycle = run(job)
    assert cycle.created > 10
    source_ids = list(ProvisionedLink.objects.filter(job=job).values_list("source_id", flat=True))
    assert len(source_ids) == len(set(source_ids))
    targets = [t for t in ProvisionedLink.objects.filter(job=job).values_list("target_id", flat=True) if t]
    assert len(targets) == len(set(targets))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the pages' rows are read ahead on PostgreSQL")
def test_the_next_pages_rows_are_read_on_a_connection_of_their_own(configured_app, emu, monkeypatch):
    """The reading thread must not share the cycle's connection: a read landing between the page's COMMIT and the
    return to autocommit opened a transaction, and the cycle failed with "can't change 'autocommit' now". Its own
    connection is closed when the full read ends."""
    import threading
    import time

    from provisioning.engine.importer import SourceReader

    all_users = SourceReader.all_users

    def three_pages(self, also=()):
        users = [user for page in all_users(self, also) for user in page]
        third = len(users) // 3
        yield from (users[:third], users[third : 2 * third], users[2 * third :])

    def backend_pid() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    reads: list[tuple[str, int]] = []
    read_rows = cycle_module.page_rows

    def recorded(job_id, ids):
        reads.append((threading.current_thread().name, backend_pid()))
        return read_rows(job_id, ids)

    monkeypatch.setattr(SourceReader, "all_users", three_pages)
    monkeypatch.setattr(cycle_module, "page_rows", recorded)
    mine = backend_pid()
    cycle = run(configured_app.job)
    assert cycle.created > 10
    assert len(reads) >= 2  # every page but the first (Graph pages go in pairs)
    assert all(name != threading.current_thread().name for name, _ in reads)
    theirs = {pid for _, pid in reads}
    assert mine not in theirs
    for _ in range(50):  # a backend leaves pg_stat_activity shortly after its client closes
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [list(theirs)])
            if cursor.fetchone()[0] == 0:
                break
        time.sleep(0.1)
    else:
        pytest.fail(f"the reading thread's connection is still open: {theirs}")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the pages' rows are read ahead on PostgreSQL")
def test_inside_an_outer_transaction_the_pages_are_not_read_ahead(configured_app, emu, monkeypatch):
    """Another connection cannot see an outer transaction's writes (the links of the page before): no reading ahead."""
    from django.db import transaction

    reads = []
    monkeypatch.setattr(cycle_module, "page_rows", lambda *args: reads.append(args))
    with transaction.atomic():
        cycle = run(configured_app.job)
    assert cycle.created > 0
    assert reads == []


def test_a_cycle_freezes_earlier_objects_page_by_page_and_leaves_nothing_frozen(configured_app, emu, monkeypatch):
    frozen_at_pages = []
    page = cycle_module.CycleRunner._page

    def watched(self, *args, **kwargs):
        page(self, *args, **kwargs)
        frozen_at_pages.append(gc.get_freeze_count())

    monkeypatch.setattr(cycle_module.CycleRunner, "_page", watched)
    first = run(configured_app.job)
    assert first.created > 0 and frozen_at_pages and all(count > 0 for count in frozen_at_pages)
    assert gc.get_freeze_count() == 0  # all of it back in the collector's sight


def test_a_cycle_leaves_objects_frozen_by_someone_else_frozen(configured_app, emu):
    gc.freeze()  # e.g. a server that preloads its code and freezes it
    try:
        run(configured_app.job)
        assert gc.get_freeze_count() > 0  # not unfrozen by the cycle (some were freed meanwhile)
    finally:
        gc.unfreeze()
