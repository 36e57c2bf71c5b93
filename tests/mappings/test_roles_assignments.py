"""Against the HTTPS emulators: Import roles, Users and groups (list, add, remove; the rest in
test_users_and_groups.py), Test expression on a live user and Refresh target attributes, all through the real Graph
and Salesforce clients."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from connections.clients.graph import GraphClient
from console.models import AuditActivity, AuditEntry
from mappings.directory.assignments import AssignmentReader
from mappings.directory.snapshot import refresh, snapshot_of
from mappings.models import TargetAttribute
from mappings.role_import import DuplicateRolesError, plan_app_roles


def _version(app) -> int:
    """The version of the assignments the page was loaded with (console/concurrency.py)."""
    return snapshot_of(app).edit_version


pytestmark = pytest.mark.django_db


def _app_roles(emu) -> list[dict]:
    return [dict(r) for r in emu.entra_app.state.service_principal["appRoles"]]


def _add_profile(emu, name: str) -> None:
    state = emu.salesforce_app.state
    with emu.salesforce_app.lock:
        template = next(iter(state.profiles.values()))
        pid = state.ids.next("00e")
        state.profiles[pid] = {**template, "Id": pid, "Name": name, "Description": name}


def _two_role_user(emu) -> dict:
    state = emu.entra_app.state
    for uid, user in state.users.items():
        direct = [a for a in state.assignments.values() if a["principalId"] == uid]
        if len(direct) == 2:
            return user
    raise AssertionError("the seed has a user with two roles")


def test_import_roles_publishes_new_profiles_and_keeps_existing_ids(
    admin_client, live_app, emu, django_capture_on_commit_callbacks
):
    before = {r["value"]: r["id"] for r in _app_roles(emu)}
    _add_profile(emu, "Custom: Field Sales")
    with django_capture_on_commit_callbacks(execute=True):  # the assignments (and their app roles) are read again
        response = admin_client.post(reverse("import_roles", args=[live_app.slug]), follow=True)
    assert "1 new role(s): Custom: Field Sales" in response.content.decode()
    roles = {r["value"]: r for r in _app_roles(emu)}
    new = roles["Custom: Field Sales"]
    assert new["allowedMemberTypes"] == ["User"] and new["displayName"] == "Custom: Field Sales"
    assert uuid.UUID(new["id"]).version == 4
    assert {v: roles[v]["id"] for v in before} == before
    entry = AuditEntry.objects.get(activity=AuditActivity.IMPORT_ROLES)
    assert entry.changed_fields == ["appRoles"] and "Custom: Field Sales" in entry.detail
    # The roles are listed in the console and offered when assigning.
    page = admin_client.get(reverse("users_and_groups", args=[live_app.slug])).content.decode()
    assert f'<option value="{new["id"]}">Custom: Field Sales</option>' in page


def test_import_roles_again_publishes_nothing(admin_client, live_app, emu):
    before = _app_roles(emu)
    response = admin_client.post(reverse("import_roles", args=[live_app.slug]), follow=True)
    assert "0 new role(s)" in response.content.decode()
    assert _app_roles(emu) == before


def test_duplicate_profile_names_are_refused(admin_client, live_app, emu):
    before = _app_roles(emu)
    _add_profile(emu, "standard user")
    response = admin_client.post(reverse("import_roles", args=[live_app.slug]), follow=True)
    assert "more than one profile named &#x27;Standard User&#x27;" in response.content.decode()
    assert _app_roles(emu) == before
    assert not AuditEntry.objects.filter(activity=AuditActivity.IMPORT_ROLES).exists()


def test_plan_keeps_default_access_and_refuses_duplicate_roles():
    default = {"id": "00000000-0000-0000-0000-000000000000", "value": "msiam_access", "displayName": "msiam_access"}
    plan = plan_app_roles([default], [{"Name": "Standard User"}])
    assert plan.roles[0] == default and plan.added == ["Standard User"]
    with pytest.raises(DuplicateRolesError, match="already has more than one app role named 'A'"):
        plan_app_roles([{"id": "1", "value": "A"}, {"id": "2", "value": "A"}], [])


def test_users_and_groups_lists_assignments_with_their_roles(reader_client, live_app, emu):
    refresh(live_app, AssignmentReader(GraphClient(live_app.entra)))
    page = reader_client.get(reverse("users_and_groups", args=[live_app.slug]))
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r"<td>Sales Team<br>.*?</td>\s*<td>Group</td>\s*<td>Sales Representative</td>", html, re.S)
    assert "Support Agent" in html
    assert "Read only" in html and "Add assignment" not in html and ">Remove<" not in html


def test_administrator_adds_and_removes_an_assignment(admin_client, live_app, emu):
    refresh(live_app, AssignmentReader(GraphClient(live_app.entra)))
    user = emu.control.create_entra_user(userPrincipalName="new.hire@contoso.onmicrosoft.com", displayName="New Hire")
    role = next(r for r in _app_roles(emu) if r["value"] == "Read Only")
    url = reverse("assignment_add", args=[live_app.slug])
    response = admin_client.post(
        url,
        {"edit_version": _version(live_app), "principal": user["userPrincipalName"], "role": role["id"]},
        follow=True,
    )
    assert f"Assigned user {user['userPrincipalName']} the role Read Only" in response.content.decode()
    created = [a for a in emu.entra_app.state.assignments.values() if a["principalId"] == user["id"]]
    assert [a["appRoleId"] for a in created] == [role["id"]]
    assert "New Hire<br>" in response.content.decode()

    response = admin_client.post(
        reverse("assignment_remove", args=[live_app.slug]),
        {"edit_version": _version(live_app), "assignment": created[0]["id"]},
        follow=True,
    )
    assert "Removed the assignment of New Hire (Read Only)" in response.content.decode()
    assert not [a for a in emu.entra_app.state.assignments.values() if a["principalId"] == user["id"]]
    details = list(
        AuditEntry.objects.filter(activity=AuditActivity.UPDATE_ASSIGNMENTS).values_list("detail", flat=True)
    )
    assert len(details) == 2


def test_assigning_a_group_by_object_id(admin_client, live_app, emu):
    state = emu.entra_app.state
    group = next(g for g in state.groups.values() if g["displayName"] == "All Staff")
    role = next(r for r in _app_roles(emu) if r["value"] == "Standard User")
    response = admin_client.post(
        reverse("assignment_add", args=[live_app.slug]),
        {"edit_version": _version(live_app), "principal": group["id"], "role": role["id"]},
        follow=True,
    )
    assert "Assigned group All Staff the role Standard User" in response.content.decode()
    assert any(a["principalId"] == group["id"] for a in state.assignments.values())


def test_assigning_an_unknown_user_says_so(admin_client, live_app, emu):
    role = _app_roles(emu)[0]
    before = dict(emu.entra_app.state.assignments)
    response = admin_client.post(
        reverse("assignment_add", args=[live_app.slug]), {
            "edit_version": _version(live_app),
            "principal": "nobody@nowhere.example", "role": role["id"]},
        follow=True,
    )  # fmt: skip
    assert "No user nobody@nowhere.example in the tenant" in response.content.decode()
    assert emu.entra_app.state.assignments == before


def test_reader_cannot_change_assignments_or_roles(reader_client, live_app, emu):
    before = (dict(emu.entra_app.state.assignments), _app_roles(emu))
    slug = live_app.slug
    assert reader_client.post(reverse("import_roles", args=[slug])).status_code == 403
    assert (
        reader_client.post(reverse("assignment_add", args=[slug]), {"principal": "x", "role": "y"}).status_code == 403
    )
    assert reader_client.post(reverse("assignment_remove", args=[slug]), {"assignment": "x"}).status_code == 403
    assert (dict(emu.entra_app.state.assignments), _app_roles(emu)) == before


def test_import_roles_without_credentials_names_what_to_fill_in(admin_client, application):
    response = admin_client.post(reverse("import_roles", args=[application.slug]), follow=True)
    html = response.content.decode()
    assert "fill in Salesforce Admin Username, Salesforce Admin Password, Entra Tenant ID" in html
    assert "does not resolve" not in html  # no call was made to the default login URL
    assert not AuditEntry.objects.filter(activity=AuditActivity.IMPORT_ROLES).exists()


def test_an_incomplete_assignment_names_the_missing_field(admin_client, live_app, emu):
    before = dict(emu.entra_app.state.assignments)
    response = admin_client.post(
        reverse("assignment_add", args=[live_app.slug]),
        {"edit_version": _version(live_app), "principal": "", "role": ""},
        follow=True,
    )
    html = response.content.decode()
    assert "Nothing was assigned: User or group: This field is required.; Role: This field is required." in html
    assert emu.entra_app.state.assignments == before


def test_users_and_groups_needs_sign_in(client, application):
    response = client.get(reverse("users_and_groups", args=[application.slug]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_users_and_groups_without_entra_credentials_says_what_to_do(reader_client, application):
    html = reader_client.get(reverse("users_and_groups", args=[application.slug])).content.decode()
    assert "Enter the Microsoft Entra credentials" in html


def test_expression_tester_reads_a_live_user_with_roles(admin_client, live_app, emu):
    user = _two_role_user(emu)
    url = reverse("expression_test", args=[live_app.slug])
    response = admin_client.post(
        url,
        {"expression": "SingleAppRoleAssignment([appRoleAssignments])", "user": user["userPrincipalName"]},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "<code>Marketing User</code>" in html  # of Marketing User and Standard User, the first by name
    assert "<html" not in html  # the htmx partial only

    other = next(u for u in emu.entra_app.state.users.values() if u.get("mail"))
    response = admin_client.post(
        url, {"expression": 'Append([mail], ".uat")', "user": other["id"]}, HTTP_HX_REQUEST="true"
    )
    assert f"<code>{other['mail']}.uat</code>" in response.content.decode()


def test_expression_tester_with_a_sample_and_an_unknown_user(admin_client, live_app, emu):
    url = reverse("expression_test", args=[live_app.slug])
    response = admin_client.post(url, {"expression": "ToUpper([givenName])", "sample": '{"givenName": "Zoë"}'})
    assert response.status_code == 200 and "<code>ZOË</code>" in response.content.decode()
    response = admin_client.post(url, {"expression": "ToUpper([givenName])", "user": "ghost@nowhere.example"})
    assert "Reading ghost@nowhere.example from Microsoft Graph failed" in response.content.decode()
    response = admin_client.post(url, {"expression": "ToUpper([givenName]", "sample": "{}"})
    assert "(column" in response.content.decode()


def test_expression_tester_page_for_reader_and_anonymous(reader_client, client, live_app):
    url = reverse("expression_test", args=[live_app.slug])
    assert reader_client.get(url).status_code == 200
    assert reader_client.post(url, {"expression": "Now()", "sample": "{}"}).status_code == 403
    client.logout()
    assert "/login/" in client.get(url)["Location"]


def test_refresh_target_attributes_reads_custom_fields(admin_client, live_app, emu):
    response = admin_client.post(reverse("mapping_refresh_targets", args=[live_app.slug]), follow=True)
    assert "of them custom" in response.content.decode()
    custom = set(TargetAttribute.objects.filter(application=live_app, custom=True).values_list("name", flat=True))
    assert custom == {"Entra_Object_Id__c", "Cost_Center__c", "Start_Date__c", "Grade__c", "Skills__c"}
    skills = TargetAttribute.objects.get(application=live_app, name="Skills__c")
    assert (skills.type, skills.multivalued, skills.picklist_values[0]) == ("multipicklist", True, "Apex")
    profile = TargetAttribute.objects.get(application=live_app, name="ProfileId")
    assert (profile.type, profile.reference_to) == ("reference", "Profile")
    assert not TargetAttribute.objects.filter(application=live_app, name="CreatedDate").exists()
    assert TargetAttribute.objects.get(application=live_app, name="Alias").required
    response = admin_client.post(
        reverse("attribute_mapping_add", args=[live_app.slug]),
        {"mapping_type": "Direct", "source_attribute": "id", "target_attribute": "Entra_Object_Id__c",
         "flow_type": "ObjectAddOnly"},
    )  # fmt: skip
    assert response.status_code == 302


def test_testing_an_expression_against_a_live_user_reads_the_roles_that_reach_them(live_app, emu):
    from mappings.tester import evaluate_for_user

    state = emu.entra_app.state
    sales_team = next(g for g in state.groups.values() if g["displayName"] == "Sales Team")
    interns = next(g for g in state.groups.values() if g["displayName"] == "Sales Interns")
    direct_member = next(m for m in sales_team["members"] if m in state.users)
    nested_member = interns["members"][0]
    for user_id in (direct_member, nested_member):
        upn = state.users[user_id]["userPrincipalName"]
        outcome = evaluate_for_user(live_app, "SingleAppRoleAssignment([appRoleAssignments])", upn)
        assert outcome.ok, outcome.error
        assert outcome.result == "Sales Representative"
