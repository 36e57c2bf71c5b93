"""Cycles reconcile Salesforce access beyond the profile against the emulator: grants, revokes of what the console
granted only, licences first, per-grant failures, drift found and repaired, dry runs, leavers."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connections.clients.graph import GraphClient
from mappings.access.models import AccessSettings
from mappings.compiled import CompiledMapping
from mappings.directory.assignments import AssignmentReader
from provisioning.models import AccessGrant, Escrow, LogStatus, ProvisionedLink, ProvisioningLogEntry
from provisioning.operations.on_demand import provision_on_demand
from provisioning.tasks import run_cycle
from tests.access.helpers import give, item, refresh

pytestmark = pytest.mark.django_db(transaction=True)


def run(job, **kwargs):
    cycle = run_cycle(job.pk, **kwargs)
    cycle.refresh_from_db()
    return cycle


def members_of(emu, role: str) -> list[tuple[str, str]]:
    """(Entra id, Salesforce id) of the linked users whose roles include `role`."""
    found = []
    for link in ProvisionedLink.objects.exclude(target_id=""):
        user = emu.control.get_entra_user(link.source_id)
        roles = {a.get("appRoleValue") or a.get("roleValue") for a in user["appRoleAssignments"]}
        if role in roles or role in link.roles_key.split(";"):
            found.append((link.source_id, link.target_id))
    return found


def sales_users(emu):
    users = [
        (s, t) for s, t in members_of(emu, "Sales Representative") if emu.control.get_salesforce_user(id=t)["IsActive"]
    ]
    assert users, "the seed has a Sales Team assigned Sales Representative"
    return users


@pytest.fixture
def sales_access(configured_app):
    refresh(configured_app)
    give(
        configured_app,
        "Sales Representative",
        "Sales_Console",
        "EMEA_Sales",
        user_role="Sales_Rep",
        flags=["UserPermissionsMarketingUser"],
    )
    return configured_app


def test_initial_cycle_grants_each_roles_access_and_logs_it(sales_access, emu):
    cycle = run(sales_access.job)
    assert cycle.granted >= 2
    for source_id, target_id in sales_users(emu):
        access = emu.control.access_of(target_id)
        assert access["permission_sets"] == ["Sales_Console"] and access["groups"] == ["EMEA_Sales"]
        record = emu.control.get_salesforce_user(id=target_id)
        assert record["UserRoleId"] == emu.control.access_item_id("Sales_Rep")
        assert record["UserPermissionsMarketingUser"] is True
        owned = set(AccessGrant.objects.filter(source_id=source_id, owned=True).values_list("kind", "item_name"))
        assert {("permission_set", "Sales Console"), ("group", "EMEA Sales"), ("role", "Sales Rep")} <= owned
        entry = ProvisioningLogEntry.objects.filter(cycle=cycle, source_id=source_id).get()
        rows = {(p["displayName"], p["newValue"]) for p in entry.modified_properties}
        assert ("Permission set", "Sales Console") in rows and ("Public group", "EMEA Sales") in rows
        (access_step,) = [s for s in entry.steps if s["name"] == "EntryExportAccess"]
        assert (
            access_step["status"] == "success"
            and "Permission set 'Sales Console' was granted" in access_step["description"]
        )


def test_an_unchanged_cycle_writes_nothing_and_reads_little(sales_access, emu):
    run(sales_access.job)
    emu.control.reset_counters()
    cycle = run(sales_access.job, kind="initial")
    assert cycle.granted == 0 and cycle.revoked == 0
    assert emu.control.counters()["writes"]["salesforce"] == 0
    # The org check after sign-in (one query on Organization), then the drift check: one Composite call of aggregate
    # queries (+ baseline).
    assert cycle.salesforce_calls <= 4


def test_removing_an_item_revokes_only_what_the_console_granted(sales_access, emu):
    run(sales_access.job)
    (source_id, target_id), *_ = sales_users(emu)
    emu.control.grant_outside(target_id, "Reports_Builder")  # an administrator's own grant in Salesforce
    give(sales_access, "Sales Representative", "EMEA_Sales", user_role="Sales_Rep")  # Sales Console removed
    cycle = run(sales_access.job, kind="initial")
    assert cycle.revoked >= 1
    access = emu.control.access_of(target_id)
    assert access["permission_sets"] == ["Reports_Builder"] and access["groups"] == ["EMEA_Sales"]
    assert not AccessGrant.objects.filter(source_id=source_id, item_name="Sales Console").exists()
    entry = ProvisioningLogEntry.objects.filter(cycle=cycle, source_id=source_id).get()
    assert {"displayName": "Permission set", "oldValue": "Sales Console", "newValue": ""} in entry.modified_properties


def test_outside_grants_go_when_the_item_says_so(sales_access, emu):
    run(sales_access.job)
    (_, target_id), *_ = sales_users(emu)
    emu.control.grant_outside(target_id, "Reports_Builder")
    builder = item(sales_access, "Reports_Builder")
    builder.remove_unmanaged = True
    builder.save()
    run(sales_access.job, kind="initial")
    assert emu.control.access_of(target_id)["permission_sets"] == ["Sales_Console"]


def test_a_grant_removed_in_salesforce_is_granted_again_by_the_next_incremental_cycle(sales_access, emu):
    run(sales_access.job)
    (source_id, target_id), *_ = sales_users(emu)
    emu.control.revoke_outside(target_id, "EMEA_Sales")
    cycle = run(sales_access.job)
    assert cycle.kind == "incremental"
    assert emu.control.access_of(target_id)["groups"] == ["EMEA_Sales"]
    assert cycle.granted == 1
    emu.control.reset_counters()
    again = run(sales_access.job)
    assert again.granted == 0 and emu.control.counters()["writes"]["salesforce"] == 0


def test_a_licence_is_granted_before_the_permission_set_that_needs_it(configured_app, emu):
    refresh(configured_app)
    give(configured_app, "Support Agent", "CRM_Analytics_Viewer")
    cycle = run(configured_app.job)
    support = members_of(emu, "Support Agent")
    assert support and cycle.granted == 2 * len(support)
    for _, target_id in support:
        access = emu.control.access_of(target_id)
        assert access == {**access, "permission_sets": ["CRM_Analytics_Viewer"], "licences": ["CRMAnalyticsPlusPsl"]}


def test_an_item_deleted_in_the_org_fails_that_grant_alone(sales_access, emu):
    emu.control.delete_access_item("Sales_Console")
    refresh(sales_access)
    cycle = run(sales_access.job)
    for source_id, target_id in sales_users(emu):
        assert emu.control.access_of(target_id)["groups"] == ["EMEA_Sales"]  # the rest stands
        entry = ProvisioningLogEntry.objects.filter(cycle=cycle, source_id=source_id).get()
        assert entry.status == LogStatus.FAILURE and entry.error_code == "SalesforceAccessItemDeleted"
        assert "Sales Console" in entry.error_reason and "Refresh from Salesforce" in entry.error_recommendation
        assert ProvisionedLink.objects.get(source_id=source_id).target_id == target_id


def test_refused_grants_are_logged_per_grant_and_retried_alone(configured_app, emu):
    refresh(configured_app)
    give(configured_app, "Sales Representative", "EMEA_Sales", "Reports_Builder", "CRM_Analytics_Viewer")
    emu.control.set_permission_set_licence_seats("CRMAnalyticsPlusPsl", 0)
    cycle = run(configured_app.job)
    (source_id, target_id), *_ = sales_users(emu)
    entry = ProvisioningLogEntry.objects.filter(cycle=cycle, source_id=source_id).get()
    assert entry.status == LogStatus.FAILURE and entry.error_code == "SalesforceAccessRefused"
    assert "LICENSE_LIMIT_EXCEEDED" in entry.error_reason and "CRM Analytics Viewer" in entry.error_reason
    assert "seat" in entry.error_recommendation
    failed = [s for s in entry.steps if s["status"] == "failure"]
    assert [s["name"] for s in failed] == ["EntryExportAccess"]
    assert failed[0]["details"]["ErrorCode"] == "LICENSE_LIMIT_EXCEEDED, FIELD_INTEGRITY_EXCEPTION"
    assert "EMEA Sales' was granted" in failed[0]["description"]
    access = emu.control.access_of(target_id)
    assert access["permission_sets"] == ["Reports_Builder"] and access["groups"] == ["EMEA_Sales"]  # the others stand
    escrow = Escrow.objects.get(source_id=source_id)
    assert escrow.next_attempt_at <= cycle.started_at + timedelta(minutes=configured_app.job.interval_minutes)
    emu.control.set_permission_set_licence_seats("CRMAnalyticsPlusPsl", 50)
    Escrow.objects.update(next_attempt_at=timezone.now())  # the next scheduled cycle has come
    again = run(configured_app.job, kind="initial")
    assert again.granted == 2 * len(sales_users(emu)) and again.revoked == 0  # only what was missing
    assert emu.control.access_of(target_id)["licences"] == ["CRMAnalyticsPlusPsl"]
    grants = AccessGrant.objects.filter(source_id=source_id, owned=True).values_list("item_name", flat=True)
    assert sorted(grants) == ["CRM Analytics Plus", "CRM Analytics Viewer", "EMEA Sales", "Reports Builder"]


def test_dry_run_lists_grants_and_changes_nothing(sales_access, emu):
    cycle = run(sales_access.job, dry_run=True)
    assert cycle.dry_run and cycle.granted > 0
    assert not AccessGrant.objects.exists()
    for _, target_id in [(s, t) for s, t in members_of(emu, "Sales Representative")]:
        assert emu.control.access_of(target_id)["permission_sets"] == []
    entry = ProvisioningLogEntry.objects.filter(cycle=cycle, steps__icontains="would be granted").first()
    assert entry is not None


def test_leavers_lose_the_access_the_console_granted(sales_access, emu):
    run(sales_access.job)
    (source_id, target_id), *_ = sales_users(emu)
    emu.control.grant_outside(target_id, "Reports_Builder")
    emu.control.disable_entra_user(source_id)
    cycle = run(sales_access.job)
    assert emu.control.get_salesforce_user(id=target_id)["IsActive"] is False
    access = emu.control.access_of(target_id)
    assert access["groups"] == [] and access["permission_sets"] == ["Reports_Builder"]
    assert cycle.revoked == 2
    assert not AccessGrant.objects.filter(source_id=source_id, kind__in=["permission_set", "group"]).exists()


def test_leavers_keep_their_access_when_the_setting_is_off(sales_access, emu):
    AccessSettings.objects.filter(application=sales_access).update(revoke_on_deactivation=False)
    run(sales_access.job)
    (source_id, target_id), *_ = sales_users(emu)
    emu.control.disable_entra_user(source_id)
    run(sales_access.job)
    assert emu.control.access_of(target_id)["permission_sets"] == ["Sales_Console"]


def test_a_user_whose_evaluation_fails_keeps_every_grant(sales_access, emu, monkeypatch):
    run(sales_access.job)
    (source_id, target_id), *_ = sales_users(emu)
    give(sales_access, "Sales Representative")  # the role now gives nothing: everyone else loses their grants
    original = CompiledMapping.evaluate

    def failing(self, user, **kwargs):
        if user.get("id") == source_id:
            raise ValueError("cannot evaluate this user")
        return original(self, user, **kwargs)

    monkeypatch.setattr(CompiledMapping, "evaluate", failing)
    run(sales_access.job, kind="initial")
    assert emu.control.access_of(target_id)["permission_sets"] == ["Sales_Console"]  # doubt never revokes
    others = [t for s, t in sales_users(emu) if s != source_id]
    assert all(emu.control.access_of(t)["permission_sets"] == [] for t in others)


def test_the_overview_counts_grants_and_revokes(role_groups, sales_access, emu, admin_client):
    cycle = run(sales_access.job)
    html = admin_client.get(reverse("application_overview", args=[sales_access.slug])).content.decode()
    assert f"Access granted {cycle.granted}" in html and f"Granted {cycle.granted} · Revoked 0" in html


def test_provision_on_demand_shows_each_grant_as_a_step(sales_access, emu):
    roles = AssignmentReader(GraphClient(sales_access.entra)).roles_by_user()
    member_id = next(uid for uid, values in roles.items() if values == ("Sales Representative",))
    sales_member = emu.control.get_entra_user(member_id)
    result = provision_on_demand(sales_access, sales_member["userPrincipalName"])
    grants = [s for s in result.steps if s.name == "Grant Salesforce access"]
    assert {s.status for s in grants} == {"success"} and len(grants) == 2
    assert any("Permission set 'Sales Console' was granted" in s.description for s in grants)
    link = ProvisionedLink.objects.get(source_id=sales_member["id"])
    assert emu.control.access_of(link.target_id)["permission_sets"] == ["Sales_Console"]
    emu.control.reset_counters()
    cycle = run(sales_access.job)
    assert emu.control.access_of(link.target_id)["groups"] == ["EMEA_Sales"]
    assert cycle.granted > 0  # the others, not this user again
    assert AccessGrant.objects.filter(source_id=sales_member["id"], owned=True).count() == 4  # set, group, role, flag


def two_role_user(emu):
    """The seeded user assigned both Standard User and Marketing User (enabled: the seed blocks their sign-in)."""
    roles = AssignmentReader(GraphClient(AccessSettings.objects.first().application.entra)).roles_by_user()
    user = next(uid for uid, values in roles.items() if values == ("Marketing User", "Standard User"))
    emu.control.enable_entra_user(user)
    return user


def test_a_user_with_two_roles_gets_the_profile_of_the_role_with_the_lowest_precedence(configured_app, emu):
    refresh(configured_app)
    give(configured_app, "Standard User", "Reports_Builder", precedence=1)
    give(configured_app, "Marketing User", "Sales_Console", precedence=2, flags=["UserPermissionsMarketingUser"])
    user = two_role_user(emu)
    run(configured_app.job)
    target = ProvisionedLink.objects.get(source_id=user).target_id
    record = emu.control.get_salesforce_user(id=target)
    assert record["ProfileName"] == "Standard User" and record["UserPermissionsMarketingUser"] is True
    assert emu.control.access_of(target)["permission_sets"] == ["Reports_Builder", "Sales_Console"]
    give(configured_app, "Marketing User", "Sales_Console", precedence=0)
    run(configured_app.job, kind="initial")
    assert emu.control.get_salesforce_user(id=target)["ProfileName"] == "Marketing User"


def test_a_mapping_imported_from_entra_keeps_single_app_role_assignment(configured_app, emu):
    refresh(configured_app)
    give(configured_app, "Standard User", precedence=1)
    settings = AccessSettings.objects.get(application=configured_app)
    settings.profile_by_precedence = False
    settings.save()
    user = two_role_user(emu)
    run(configured_app.job)
    target = ProvisionedLink.objects.get(source_id=user).target_id
    # Entra's SingleAppRoleAssignment: one of the roles, here always the first by value
    assert emu.control.get_salesforce_user(id=target)["ProfileName"] == "Marketing User"


def test_downloads_carry_each_grant_in_the_modified_properties(role_groups, sales_access, emu, reader_client):
    cycle = run(sales_access.job)
    (source_id, _), *_ = sales_users(emu)
    change_id = ProvisioningLogEntry.objects.get(cycle=cycle, source_id=source_id).change_id
    response = reader_client.get(reverse("provisioning_logs_download_csv", args=[sales_access.slug]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    text = archive.read("ProvisioningLogs_ModifiedProperties.csv").decode("utf-8-sig")
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["Change ID"] == str(change_id)]
    assert {
        "Change ID": str(change_id),
        "Property": "Permission set",
        "Old Value": "",
        "New Value": "Sales Console",
    } in rows
    response = reader_client.get(reverse("provisioning_logs_download_json", args=[sales_access.slug]))
    entries = json.loads(b"".join(response.streaming_content))
    mine = next(e for e in entries if source_id in json.dumps(e))
    assert "Sales Console" in json.dumps(mine) and "Permission set" in json.dumps(mine)
