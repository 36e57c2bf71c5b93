"""A page's export cut short by the org's daily API limit keeps what Salesforce did: the users created by the calls
that went through are linked and logged (with the Role set on them remembered as the console's), the users not
written fail saying so and are escrowed, nothing more is sent, the cycle pauses, and the next cycle writes the rest
without creating anyone twice. The same once the export is done: a limit met by the managers' update or by the freeze
of a refused deactivation still records the page."""

from __future__ import annotations

import pytest
from django.utils import timezone

from connections.clients import salesforce
from connections.clients.salesforce import SalesforceClient
from mappings.access.models import AccessKind, AccessSettings
from provisioning.engine.exporter import NOT_WRITTEN_CODE
from provisioning.models import AccessGrant, CycleStatus, Escrow, LogStatus, ProvisionedLink, ProvisioningLogEntry
from provisioning.tasks import run_cycle
from tests.access.helpers import give, refresh
from tests.access.test_reconcile import sales_users

pytestmark = pytest.mark.django_db(transaction=True)

NOT_WRITTEN = "Not written: the cycle stopped before it could be written to Salesforce"


def run(job):
    cycle = run_cycle(job.pk)
    cycle.refresh_from_db()
    return cycle


def writes_users(payload) -> bool:
    records = [
        r for sub in (payload or {}).get("compositeRequest", []) for r in (sub.get("body") or {}).get("records", [])
    ]
    return any((r.get("attributes") or {}).get("type") == "User" for r in records)


@pytest.fixture
def limit_after_first_user_call(emu, monkeypatch):
    """The org's daily API allowance runs out once the first Composite call writing users has been answered; the
    returned list holds every Salesforce request made from then on."""
    request = SalesforceClient._request
    after: list[str] = []

    def request_then_run_out(self, method, path, **kwargs):
        if emu.control.counters()["api_usage"]["used"] >= emu.control.counters()["api_usage"]["limit"]:
            after.append(f"{method} {path}")
        body = request(self, method, path, **kwargs)
        if not after and path == "composite" and writes_users(kwargs.get("json")):
            emu.control.set_api_usage(used=emu.control.counters()["api_usage"]["limit"])
        return body

    monkeypatch.setattr(SalesforceClient, "_request", request_then_run_out)
    return after


@pytest.fixture
def two_calls(monkeypatch):
    """Collections of 8 users: the seed's page (45 creates, 5 matched users to update) needs 6 collections, so two
    Composite calls, the second carrying creates and updates."""
    monkeypatch.setattr(salesforce, "COLLECTION_SIZE", 8)


def not_written(cycle) -> list[ProvisioningLogEntry]:
    return list(ProvisioningLogEntry.objects.filter(cycle=cycle, error_code=NOT_WRITTEN_CODE))


def assert_page_kept(app, emu, cycle, seed_ids: set[str]) -> None:
    """The cycle paused on the limit; every user Salesforce created is linked and logged as created."""
    assert cycle.status == CycleStatus.PAUSED and cycle.error_code == "REQUEST_LIMIT_EXCEEDED"
    created_ids = {u["Id"] for u in emu.control.salesforce_users()} - seed_ids
    assert created_ids and cycle.created == len(created_ids)
    linked = dict(
        ProvisionedLink.objects.filter(job=app.job).exclude(target_id="").values_list("target_id", "source_id")
    )
    assert created_ids <= set(linked)
    logged = ProvisioningLogEntry.objects.filter(cycle=cycle, action="create", status="success")
    assert {linked[t] for t in created_ids} == set(logged.values_list("source_id", flat=True))
    for entry in not_written(cycle):
        assert NOT_WRITTEN in entry.error_reason and "[REQUEST_LIMIT_EXCEEDED]" in entry.error_reason
        escrow = Escrow.objects.get(job=app.job, source_id=entry.source_id)
        assert escrow.error_code == NOT_WRITTEN_CODE and escrow.next_attempt_at > timezone.now()


def assert_next_cycle_writes_the_rest(app, emu, cycle) -> None:
    unwritten = {e.source_id: e.action for e in not_written(cycle)}
    emu.control.set_api_usage(used=0)
    Escrow.objects.update(next_attempt_at=timezone.now())  # the next scheduled cycle: the escrows are due
    again = run(app.job)
    assert again.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), again.error_message
    assert not ProvisioningLogEntry.objects.filter(cycle=again, error_code=NOT_WRITTEN_CODE).exists()
    assert again.created == list(unwritten.values()).count("create")
    usernames = [u["Username"].lower() for u in emu.control.salesforce_users()]
    assert len(usernames) == len(set(usernames))
    links = ProvisionedLink.objects.filter(job=app.job, source_id__in=unwritten)
    assert links.count() == len(unwritten) and not links.filter(target_id="").exists()
    targets = list(
        ProvisionedLink.objects.filter(job=app.job).exclude(target_id="").values_list("target_id", flat=True)
    )
    assert len(targets) == len(set(targets))  # nobody linked twice: no Salesforce user created twice


def test_a_limit_on_the_second_export_call_keeps_the_users_the_first_created(
    configured_app, emu, two_calls, limit_after_first_user_call
):
    seed_ids = {u["Id"] for u in emu.control.salesforce_users()}
    cycle = run(configured_app.job)
    assert_page_kept(configured_app, emu, cycle, seed_ids)
    actions = sorted(e.action for e in not_written(cycle))
    assert actions == ["create"] * 5 + ["update"] * 5  # the second call: the last collection of creates, the updates
    assert len(limit_after_first_user_call) == 1  # the refused call, and nothing after it
    assert_next_cycle_writes_the_rest(configured_app, emu, cycle)


def test_a_limit_on_the_second_export_call_remembers_the_role_set_on_the_users_created(
    configured_app, emu, two_calls, limit_after_first_user_call
):
    refresh(configured_app)
    give(configured_app, "Sales Representative", "Reports_Builder", user_role="Sales_Rep")
    seed_ids = {u["Id"] for u in emu.control.salesforce_users()}
    cycle = run(configured_app.job)
    assert_page_kept(configured_app, emu, cycle, seed_ids)
    assert len(limit_after_first_user_call) == 1  # no grant, freeze or manager update after the refused call
    role_id = emu.control.access_item_id("Sales_Rep")
    created = [u for u in emu.control.salesforce_users() if u["Id"] not in seed_ids]
    with_role = [u for u in created if u.get("UserRoleId") == role_id]
    assert with_role, "the seed's Sales Representatives are among the users the first call created"
    for user in with_role:
        source_id = ProvisionedLink.objects.get(job=configured_app.job, target_id=user["Id"]).source_id
        grant = AccessGrant.objects.get(job=configured_app.job, source_id=source_id, kind=AccessKind.ROLE)
        assert grant.item_id == role_id and grant.owned  # the console's: cleared when the role no longer gives it
        assert emu.control.access_of(user["Id"])["permission_sets"] == []  # no access write after the limit

    assert_next_cycle_writes_the_rest(configured_app, emu, cycle)
    for user in with_role:
        assert emu.control.access_of(user["Id"])["permission_sets"] == ["Reports_Builder"]


def test_a_limit_on_the_locked_records_second_try_fails_only_those(configured_app, emu, limit_after_first_user_call):
    emu.control.unable_to_lock_row(2, "User")  # the first two users of the page's only call are locked
    seed_ids = {u["Id"] for u in emu.control.salesforce_users()}
    cycle = run(configured_app.job)
    assert_page_kept(configured_app, emu, cycle, seed_ids)
    assert len(not_written(cycle)) == 2  # sent again after a pause: refused by the limit
    assert len(limit_after_first_user_call) == 1
    assert_next_cycle_writes_the_rest(configured_app, emu, cycle)


# -- the steps after a completed export: the managers' update, the freeze of a refused deactivation ---------------


def linked(job, source_id: str) -> str:
    return ProvisionedLink.objects.get(job=job, source_id=source_id).target_id


def test_a_limit_on_the_managers_update_keeps_the_page(configured_app, emu, limit_after_first_user_call):
    AccessSettings.objects.filter(application=configured_app).update(sync_manager=True)
    seed_ids = {u["Id"] for u in emu.control.salesforce_users()}
    cycle = run(configured_app.job)
    assert cycle.status == CycleStatus.PAUSED and cycle.error_code == "REQUEST_LIMIT_EXCEEDED"
    created = {u["Id"] for u in emu.control.salesforce_users()} - seed_ids
    links = dict(ProvisionedLink.objects.filter(job=configured_app.job).values_list("target_id", "source_id"))
    assert created and created <= set(links)  # before: the page was not recorded, no link
    logged = ProvisioningLogEntry.objects.filter(cycle=cycle, action="create").exclude(status=LogStatus.FAILURE)
    assert {links[t] for t in created} == set(logged.values_list("source_id", flat=True))
    assert len(limit_after_first_user_call) == 1  # the refused ManagerId update, and nothing after it
    waiting = ProvisioningLogEntry.objects.filter(cycle=cycle, error_reason__contains=NOT_WRITTEN)
    assert waiting.exists() and all("ManagerId" in e.error_reason for e in waiting)
    managers = emu.control._entra.state.managers
    written = ProvisionedLink.objects.filter(job=configured_app.job).exclude(target_id="")
    pairs = [(u, m) for u, m in managers.items() if written.filter(source_id__in=[u, m]).count() == 2]
    assert pairs
    for user, _ in pairs:  # refused: none was set
        assert not emu.control.get_salesforce_user(id=linked(configured_app.job, user)).get("ManagerId")

    emu.control.set_api_usage(used=0)
    again = run(configured_app.job)
    assert again.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), again.error_message
    for user, manager in pairs:
        record = emu.control.get_salesforce_user(id=linked(configured_app.job, user))
        assert record["ManagerId"] == linked(configured_app.job, manager), user


@pytest.fixture
def limit_after_next_user_write(emu, monkeypatch):
    """arm(calls): from then on, the org's daily API allowance runs out once that many calls writing users have been
    answered; the returned list holds every Salesforce request made after that."""
    request = SalesforceClient._request
    state = {"armed": 0, "after": []}

    def user_records(payload) -> list[dict]:
        payload = payload or {}
        records = list(payload.get("records") or [])
        records += [
            r for sub in payload.get("compositeRequest", []) for r in (sub.get("body") or {}).get("records", [])
        ]
        return [r for r in records if (r.get("attributes") or {}).get("type") == "User"]

    def request_then_run_out(self, method, path, **kwargs):
        if (
            state["after"]
            or emu.control.counters()["api_usage"]["used"] >= emu.control.counters()["api_usage"]["limit"]
        ):
            state["after"].append(f"{method} {path}")
        body = request(self, method, path, **kwargs)
        if state["armed"] and path.startswith("composite") and user_records(kwargs.get("json")):
            state["armed"] -= 1
            if not state["armed"]:
                emu.control.set_api_usage(used=emu.control.counters()["api_usage"]["limit"])
                state["after"].append("(allowance used up)")
        return body

    monkeypatch.setattr(SalesforceClient, "_request", request_then_run_out)

    def arm(calls: int) -> list[str]:
        state["armed"] = calls
        return state["after"]

    return arm


def test_a_limit_on_the_freeze_after_a_refused_deactivation_keeps_the_page(
    configured_app, emu, limit_after_next_user_write
):
    run(configured_app.job)
    (leaver_id, leaver_target), (changed_id, _changed_target) = sales_users(emu)[:2]
    emu.control.disable_entra_user(leaver_id)
    emu.control.block_deactivation(leaver_target, "You cannot deactivate a user who is the default lead owner.")
    emu.control.update_entra_user(changed_id, surname="Moved-On")
    after = limit_after_next_user_write(2)  # the update, then the refused deactivation
    cycle = run(configured_app.job)
    assert cycle.status == CycleStatus.PAUSED and cycle.error_code == "REQUEST_LIMIT_EXCEEDED"
    assert after[0] == "(allowance used up)" and len(after) == 2  # the UserLogin read refused, nothing after it
    changed = ProvisioningLogEntry.objects.get(cycle=cycle, source_id=changed_id)  # before: the page was not logged
    assert changed.status == LogStatus.SUCCESS and changed.action == "update"
    refused = ProvisioningLogEntry.objects.get(cycle=cycle, source_id=leaver_id)
    assert refused.error_code == "SalesforceDeactivationRefused" and "default lead owner" in refused.error_reason
    assert Escrow.objects.filter(job=configured_app.job, source_id=leaver_id).exists()
    assert emu.control.access_of(leaver_target)["frozen"] is False  # not frozen: the read was refused

    emu.control.set_api_usage(used=0)
    Escrow.objects.update(next_attempt_at=timezone.now())
    run(configured_app.job)
    assert emu.control.access_of(leaver_target)["frozen"] is True  # the next cycle freezes the user
