"""Salesforce access per app role: Refresh from Salesforce fills the catalogue, a user's effective access combines
their roles (union, precedence) and names the role behind each piece."""

from __future__ import annotations

import pytest

from mappings.access.effective import AccessDefinition, effective_access
from mappings.access.models import AccessKind, OrgAccessItem
from tests.access.helpers import give, item, refresh

pytestmark = pytest.mark.django_db


def test_refresh_reads_every_kind_of_item_from_the_org(configured_app):
    result = refresh(configured_app)
    kinds = {row.kind for row in OrgAccessItem.objects.filter(application=configured_app)}
    assert kinds == {k.value for k in AccessKind}
    assert "Permission set Sales Console" in result.added
    queue = item(configured_app, "Support_Tier_1")
    assert queue.kind == AccessKind.QUEUE
    # profile-owned permission sets are never offered
    assert not OrgAccessItem.objects.filter(application=configured_app, label="Standard User").exists()
    assert item(configured_app, "CRM_Analytics_Viewer").licence_id.startswith("0PL")
    again = refresh(configured_app)
    assert again.added == [] and again.kept == len(kinds and OrgAccessItem.objects.filter(application=configured_app))


def test_refresh_names_items_deleted_in_the_org_with_the_roles_they_affect(configured_app, emu):
    refresh(configured_app)
    give(configured_app, "Sales Representative", "Sales_Console", "EMEA_Sales")
    emu.control.delete_access_item("Sales_Console")
    emu.control.delete_access_item("Knowledge_Author")  # used by no role: simply forgotten
    result = refresh(configured_app)
    assert result.gone == ["Permission set Sales Console (used by: Sales Representative)"]
    assert item(configured_app, "Sales_Console").missing is True
    assert not OrgAccessItem.objects.filter(application=configured_app, name="Knowledge_Author").exists()
    assert "deleted in Salesforce but still chosen" in result.summary()


def test_several_roles_add_up_and_single_valued_access_follows_precedence(configured_app):
    refresh(configured_app)
    give(configured_app, "Sales Representative", "Sales_Console", "EMEA_Sales", precedence=2, user_role="Sales_Rep")
    give(
        configured_app,
        "Support Agent",
        "Reports_Builder",
        "CRM_Analytics_Viewer",
        precedence=1,
        user_role="Support_Lead",
        flags=["UserPermissionsSupportUser"],
    )
    access = effective_access(configured_app, ["Sales Representative", "Support Agent"])
    assert access.profile.name == "Support Agent" and access.profile.roles == ("Support Agent",)
    assert access.user_role.name == "Support Lead" and access.user_role.roles == ("Support Agent",)
    by_name = {p.name: p for p in access.items}
    assert set(by_name) == {
        "Sales Console",
        "EMEA Sales",
        "Reports Builder",
        "CRM Analytics Viewer",
        "CRM Analytics Plus",
    }
    assert by_name["Sales Console"].roles == ("Sales Representative",)
    assert by_name["CRM Analytics Plus"].needed_by == "CRM Analytics Viewer"
    # the licence comes before the permission set that needs it
    order = [p.name for p in access.items]
    assert order.index("CRM Analytics Plus") < order.index("CRM Analytics Viewer")
    assert [p.id for p in access.flags] == ["UserPermissionsSupportUser"]


def test_precedence_swapped_changes_the_profile_and_role_only(configured_app):
    refresh(configured_app)
    give(configured_app, "Sales Representative", "Sales_Console", precedence=1, user_role="Sales_Rep")
    give(configured_app, "Support Agent", "Reports_Builder", precedence=2, user_role="Support_Lead")
    access = AccessDefinition.for_application(configured_app).effective(["Support Agent", "Sales Representative"])
    assert access.profile.name == "Sales Representative" and access.user_role.name == "Sales Rep"
    assert {p.name for p in access.items} == {"Sales Console", "Reports Builder"}


def test_a_role_without_access_gives_its_value_as_profile_and_nothing_else(configured_app):
    access = effective_access(configured_app, ["Read Only"])
    assert access.profile.name == "Read Only" and access.items == () and access.user_role is None
    assert effective_access(configured_app, []).pieces == ()
