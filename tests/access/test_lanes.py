"""A page's access writes go out in lanes, several Composite calls at a time (engine/access.py `_lanes`): each user's
dependent writes stay in order, every result still reaches its own user, and a dry run writes nothing.

The seed's pages are small enough for one call, so the lanes are made small here to split them."""

from __future__ import annotations

import pytest

from connections.clients import salesforce
from connections.clients.salesforce import AccessOperation, SalesforceClient
from provisioning.engine import access as access_step
from provisioning.models import LogStatus, ProvisioningLogEntry
from tests.access.helpers import give, refresh
from tests.access.test_reconcile import run, sales_users

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lanes(configured_app, emu, monkeypatch):
    monkeypatch.setattr(access_step, "LANE_SIZE", 3)
    refresh(configured_app)
    emu.control.set_permission_set_licence_seats("CRMAnalyticsPlusPsl", 500)
    # A licence and the permission set needing it (the licence first), another permission set, a public group.
    give(configured_app, "Sales Representative", "CRM_Analytics_Viewer", "Reports_Builder", "EMEA_Sales")
    return configured_app


def access_failures(cycle) -> list[str]:
    entries = ProvisioningLogEntry.objects.filter(cycle=cycle, error_code="SalesforceAccessRefused")
    return list(entries.values_list("error_reason", flat=True))


def composite_calls(emu) -> int:
    return sum(n for label, n in emu.control.counters()["salesforce"].items() if label.endswith("/composite"))


def test_lanes_keep_each_users_order_and_every_result(lanes, emu):
    emu.control.reset_counters()
    cycle = run(lanes.job)
    support = sales_users(emu)
    assert len(support) >= 3, "the seed's Sales Team has several members"
    assert not access_failures(cycle) and cycle.granted == 4 * len(support)
    assert composite_calls(emu) > 2  # the grants went out in several lanes, not in one call
    for _, target_id in support:
        access = emu.control.access_of(target_id)
        assert access["licences"] == ["CRMAnalyticsPlusPsl"]
        assert access["permission_sets"] == ["CRM_Analytics_Viewer", "Reports_Builder"]
        assert access["groups"] == ["EMEA_Sales"]

    give(lanes, "Sales Representative")  # everything goes: the permission set before the licence it needs, user by user
    again = run(lanes.job, kind="initial")
    assert not access_failures(again) and again.revoked == 4 * len(support)
    for _, target_id in support:
        access = emu.control.access_of(target_id)
        assert access["licences"] == access["permission_sets"] == access["groups"] == []


def test_a_refused_record_in_one_lane_fails_its_own_user_only(lanes, emu):
    give(lanes, "Sales Representative")
    run(lanes.job)  # the users first
    support = sales_users(emu)
    licence = emu.control.access_item_id("CRMAnalyticsPlusPsl")
    used = emu.control._sf.state.access.used(licence)
    emu.control.set_permission_set_licence_seats("CRMAnalyticsPlusPsl", used + len(support) - 1)  # one seat short
    give(lanes, "Sales Representative", "CRM_Analytics_Viewer", "Reports_Builder", "EMEA_Sales")
    cycle = run(lanes.job, kind="initial")
    # Whichever lane came last to the seats, its user alone lacks the licence and the permission set needing it.
    assert cycle.granted == 4 * len(support) - 2
    (entry,) = ProvisioningLogEntry.objects.filter(cycle=cycle, error_code="SalesforceAccessRefused")
    assert entry.status == LogStatus.FAILURE
    assert "LICENSE_LIMIT_EXCEEDED" in entry.error_reason and "FIELD_INTEGRITY_EXCEPTION" in entry.error_reason
    for source_id, target_id in support:
        access = emu.control.access_of(target_id)
        assert access["groups"] == ["EMEA_Sales"]
        if source_id == entry.source_id:
            assert access["licences"] == [] and access["permission_sets"] == ["Reports_Builder"]
        else:
            assert access["licences"] == ["CRMAnalyticsPlusPsl"]
            assert access["permission_sets"] == ["CRM_Analytics_Viewer", "Reports_Builder"]


def test_a_dry_run_in_lanes_writes_nothing_and_counts_what_a_run_writes(lanes, emu):
    give(lanes, "Sales Representative")
    run(lanes.job)  # the users first: a dry run grants nothing to a user it would create
    give(lanes, "Sales Representative", "CRM_Analytics_Viewer", "Reports_Builder", "EMEA_Sales")
    emu.control.reset_counters()
    dry = run(lanes.job, dry_run=True, kind="initial")
    assert emu.control.counters()["writes"]["salesforce"] == 0
    real = run(lanes.job, kind="initial")
    assert dry.granted == real.granted == 4 * len(sales_users(emu)) > 0


def test_a_transient_failure_fails_the_rest_of_its_lane_and_no_other(lanes, emu, monkeypatch):
    monkeypatch.setattr(salesforce, "COLLECTIONS_PER_COMPOSITE", 1)
    monkeypatch.setattr(salesforce, "COLLECTION_SIZE", 1)  # one record a call: a lane of two is two calls
    run(lanes.job)
    users = [target_id for _, target_id in sales_users(emu)][:3]
    client = SalesforceClient(lanes.salesforce, max_retries=0)
    viewer, builder = (emu.control.access_item_id(n) for n in ("CRM_Analytics_Viewer", "Reports_Builder"))
    for user in users:  # what the cycle granted goes, so that the lanes below grant it again
        for record_id in emu.control._sf.state.access.by_owner["PermissionSetAssignment"].get(user, set()).copy():
            client.write_access([AccessOperation("PermissionSetAssignment", record_id=record_id)])

    def lane(user: str) -> list[AccessOperation]:
        return [
            AccessOperation("PermissionSetAssignment", {"AssigneeId": user, "PermissionSetId": builder}),
            AccessOperation("PermissionSetAssignment", {"AssigneeId": user, "PermissionSetId": viewer}),
        ]

    emu.control.throttle("salesforce", 1)  # the next call answers 429, and no retry is allowed
    results = client.write_access_lanes([lane(user) for user in users])
    failed = [n for n, lane_results in enumerate(results) if not lane_results[0].ok]
    assert len(failed) == 1  # one lane met the 429: its first call failed, and its second was not sent
    for n, (user, lane_results) in enumerate(zip(users, results, strict=True)):
        held = emu.control.access_of(user)["permission_sets"]
        if n in failed:
            assert [r.ok for r in lane_results] == [False, False] and lane_results[1].code == lane_results[0].code
            assert held == []
        else:
            assert [r.ok for r in lane_results] == [True, True] and all(r.id for r in lane_results)
            assert held == ["CRM_Analytics_Viewer", "Reports_Builder"]
