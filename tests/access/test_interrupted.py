"""A page's access writes cut short by the org's daily API limit keep what Salesforce did: the grants made are the
console's (so revoked when the role goes), the page is recorded, what was not written fails and the cycle pauses.
A membership Salesforce could not lock is written again after a pause, within the retry budget."""

from __future__ import annotations

import pytest
from django.utils import timezone

from connections.clients import salesforce
from connections.clients.salesforce import SalesforceClient
from provisioning.engine import access as access_step
from provisioning.engine.grants import RECORDS
from provisioning.models import AccessGrant, CycleStatus, Escrow, ProvisioningLogEntry
from tests.access.helpers import give, refresh
from tests.access.test_lanes import access_failures
from tests.access.test_reconcile import run, sales_users

pytestmark = pytest.mark.django_db(transaction=True)

ACCESS_SOBJECTS = {"PermissionSetAssignment", "PermissionSetLicenseAssign", "GroupMember"}
NOT_WRITTEN = "Not written: the cycle stopped before it could be written to Salesforce"


@pytest.fixture
def access_app(configured_app, emu):
    refresh(configured_app)
    emu.control.set_permission_set_licence_seats("CRMAnalyticsPlusPsl", 500)
    # A licence and the permission set needing it, another permission set, a public group.
    give(configured_app, "Sales Representative", "CRM_Analytics_Viewer", "Reports_Builder", "EMEA_Sales")
    return configured_app


@pytest.fixture
def limit_after_first_access_call(emu, monkeypatch):
    """Once armed (call it), the org's daily API allowance runs out as soon as a Composite call of access writes has
    been answered."""
    send = SalesforceClient._send_composite
    armed = []

    def send_then_run_out(self, subrequests, **kwargs):
        results = send(self, subrequests, **kwargs)
        writes_access = any(
            sub.get("method") == "DELETE"
            or any(
                (r.get("attributes") or {}).get("type") in ACCESS_SOBJECTS
                for r in (sub.get("body") or {}).get("records", [])
            )
            for sub, _ in subrequests
        )
        if armed and writes_access:
            emu.control.set_api_usage(used=emu.control.counters()["api_usage"]["limit"])
        return results

    monkeypatch.setattr(SalesforceClient, "_send_composite", send_then_run_out)
    return lambda: armed.append(True)


def held_ids(emu, target_id: str) -> set[str]:
    access = emu.control.access_of(target_id)
    return {emu.control.access_item_id(n) for n in (*access["licences"], *access["permission_sets"], *access["groups"])}


def owned_ids(job, source_id: str) -> set[str]:
    rows = AccessGrant.objects.filter(job=job, source_id=source_id, owned=True, kind__in=list(RECORDS))
    return set(rows.values_list("item_id", flat=True))


def assert_interrupted_page_kept(app, emu, cycle) -> int:
    """The cycle paused on the limit, every Sales user is linked and logged, what Salesforce holds is owned, and
    a user missing a grant failed saying it was not written; returns how many grants Salesforce holds."""
    assert cycle.status == CycleStatus.PAUSED and cycle.error_code == "REQUEST_LIMIT_EXCEEDED"
    support = sales_users(emu)  # linked: the page was recorded
    assert len(support) >= 3
    held_total, unwritten = 0, 0
    for source_id, target_id in support:
        held = held_ids(emu, target_id)
        assert owned_ids(app.job, source_id) == held  # every grant made is the console's, none more
        held_total += len(held)
        entry = ProvisioningLogEntry.objects.get(cycle=cycle, source_id=source_id)
        if len(held) < 4:
            unwritten += 1
            assert entry.error_code == "SalesforceAccessRefused" and NOT_WRITTEN in entry.error_reason
            assert "[REQUEST_LIMIT_EXCEEDED]" in entry.error_reason
        else:
            assert NOT_WRITTEN not in entry.error_reason
    assert held_total > 0 and unwritten > 0  # the limit came part way through the page's access writes
    assert cycle.granted == held_total
    return held_total


def assert_role_gone_revokes_everything(app, emu, held_total: int) -> None:
    emu.control.set_api_usage(used=0)
    give(app, "Sales Representative")  # the role gives nothing any more
    again = run(app.job, kind="initial")
    assert not access_failures(again) and again.revoked == held_total
    for _, target_id in sales_users(emu):
        assert held_ids(emu, target_id) == set()


def test_a_limit_part_way_through_the_lanes_keeps_the_grants_made_as_the_consoles(
    access_app, emu, monkeypatch, limit_after_first_access_call
):
    monkeypatch.setattr(access_step, "LANE_SIZE", 3)  # a lane per user, the memberships in one of their own
    limit_after_first_access_call()
    cycle = run(access_app.job)
    held_total = assert_interrupted_page_kept(access_app, emu, cycle)
    assert_role_gone_revokes_everything(access_app, emu, held_total)


def test_a_limit_part_way_through_one_lane_keeps_the_grants_made_as_the_consoles(
    access_app, emu, monkeypatch, limit_after_first_access_call
):
    monkeypatch.setattr(salesforce, "COLLECTIONS_PER_COMPOSITE", 1)
    monkeypatch.setattr(salesforce, "COLLECTION_SIZE", 1)  # one record a call: the page's one lane is many calls
    limit_after_first_access_call()
    cycle = run(access_app.job)
    held_total = assert_interrupted_page_kept(access_app, emu, cycle)
    assert held_total == 1  # the first call went through, the limit stopped every later one
    assert_role_gone_revokes_everything(access_app, emu, held_total)


@pytest.fixture
def users_first(access_app, emu, monkeypatch):
    """Lanes split the page, and the users exist already: the next cycle's writes are the grants alone."""
    monkeypatch.setattr(access_step, "LANE_SIZE", 3)
    give(access_app, "Sales Representative")
    run(access_app.job)
    give(access_app, "Sales Representative", "CRM_Analytics_Viewer", "Reports_Builder", "EMEA_Sales")
    return access_app


def test_a_membership_locked_once_is_written_again_after_a_pause(users_first, emu):
    emu.control.unable_to_lock_row(1, "GroupMember")
    cycle = run(users_first.job, kind="initial")
    assert emu.control._sf.state.unable_to_lock_next == 0  # a membership met the lock
    support = sales_users(emu)
    assert not access_failures(cycle) and cycle.granted == 4 * len(support)
    for source_id, target_id in support:
        assert emu.control.access_of(target_id)["groups"] == ["EMEA_Sales"]
        assert emu.control.access_item_id("EMEA_Sales") in owned_ids(users_first.job, source_id)


def test_a_membership_locked_beyond_the_retry_budget_fails_that_grant_only(users_first, emu):
    users_first.job.retry_budget_minutes = 0  # no time to wait for the lock to go
    users_first.job.save(update_fields=["retry_budget_minutes"])
    emu.control.unable_to_lock_row(1, "GroupMember")
    cycle = run(users_first.job, kind="initial")
    support = sales_users(emu)
    assert cycle.granted == 4 * len(support) - 1
    (entry,) = ProvisioningLogEntry.objects.filter(cycle=cycle, error_code="SalesforceAccessRefused")
    assert "UNABLE_TO_LOCK_ROW" in entry.error_reason and "EMEA Sales" in entry.error_reason
    for source_id, target_id in support:
        access = emu.control.access_of(target_id)
        assert access["licences"] == ["CRMAnalyticsPlusPsl"]
        assert access["permission_sets"] == ["CRM_Analytics_Viewer", "Reports_Builder"]
        assert access["groups"] == ([] if source_id == entry.source_id else ["EMEA_Sales"])


def test_a_leaver_whose_revokes_the_limit_cut_short_loses_the_rest_next_cycle(
    access_app, emu, monkeypatch, limit_after_first_access_call
):
    give(access_app, "Sales Representative", "Reports_Builder", "EMEA_Sales")
    run(access_app.job)
    (source_id, target_id), *_ = sales_users(emu)
    assert len(held_ids(emu, target_id)) == 2
    monkeypatch.setattr(salesforce, "COLLECTIONS_PER_COMPOSITE", 1)
    monkeypatch.setattr(salesforce, "COLLECTION_SIZE", 1)  # a revoke a call: the limit comes after the first
    emu.control.disable_entra_user(source_id)
    limit_after_first_access_call()
    cycle = run(access_app.job)
    assert cycle.status == CycleStatus.PAUSED and cycle.revoked == 1
    assert emu.control.get_salesforce_user(id=target_id)["IsActive"] is False
    assert len(held_ids(emu, target_id)) == 1 and owned_ids(access_app.job, source_id) == held_ids(emu, target_id)
    entry = ProvisioningLogEntry.objects.get(cycle=cycle, source_id=source_id)
    assert NOT_WRITTEN in entry.error_reason

    emu.control.set_api_usage(used=0)
    Escrow.objects.update(next_attempt_at=timezone.now())  # the failed leaver is due: the next cycle reads them again
    again = run(access_app.job)
    assert again.revoked == 1  # the user is deactivated already: what the console granted goes all the same
    assert held_ids(emu, target_id) == set() and owned_ids(access_app.job, source_id) == set()
