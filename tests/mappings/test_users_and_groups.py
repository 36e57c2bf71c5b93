"""Users and groups at tenant scale, against the HTTPS emulators: the stored assignment snapshot (what it holds, that
a page view makes no Graph call, that a failed read keeps it), the paged, searchable and filtered list, the warnings
counted at refresh, a group's members, and assignments added or removed going into the snapshot at once."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from connections.clients.errors import RemoteError
from connections.clients.graph import GraphClient
from mappings import assignment_list
from mappings.access.models import AccessKind, AccessSettings, AppRoleAccess, OrgAccessItem
from mappings.directory import snapshot as snapshot_module
from mappings.directory.assignments import DEFAULT_ACCESS_ID, AssignmentReader
from mappings.directory.models import (
    AssignmentSnapshot,
    SnapshotAssignment,
    SnapshotGrant,
    SnapshotSource,
    SnapshotUser,
)
from mappings.directory.snapshot import StoredAssignments, refresh, snapshot_of
from mappings.views import assignments as assignment_views


def _version(app) -> int:
    """The version of the assignments the page was loaded with (console/concurrency.py)."""
    return snapshot_of(app).edit_version


pytestmark = pytest.mark.django_db


def _refresh(app):
    return refresh(app, AssignmentReader(GraphClient(app.entra)))


@pytest.fixture
def stored(live_app):
    """The application with its assignments read and stored once."""
    _refresh(live_app)
    return live_app


def _page(client, app, **params) -> str:
    response = client.get(reverse("users_and_groups", args=[app.slug]), params)
    assert response.status_code == 200
    return response.content.decode()


def _names(html: str) -> list[str]:
    """The display names of the assignment rows, in order."""
    table = html.split('<div id="assignment-table">', 1)[1].split("</table>", 1)[0]
    return [escape_back(m) for m in re.findall(r"<tr>\s*<td>([^<]+)<br>", table)]


def escape_back(text: str) -> str:
    return text.replace("&#x27;", "'").replace("&amp;", "&").strip()


def _group(emu, name: str) -> dict:
    return next(g for g in emu.entra_app.state.groups.values() if g["displayName"] == name)


def _entra_calls(emu) -> int:
    return emu.control.counters()["totals"]["entra"]


# The snapshot ------------------------------------------------------------------------------------------------------


def test_the_snapshot_holds_what_the_live_reader_reads_nested_groups_included(live_app, emu):
    live = AssignmentReader(GraphClient(live_app.entra)).roles_by_user()
    refreshed = _refresh(live_app)
    assert refreshed.stored and refreshed.roles_by_user == live
    assert StoredAssignments(live_app).roles_by_user() == live
    # Sales Interns is nested in Sales Team: its members hold Sales Representative through it.
    intern = _group(emu, "Sales Interns")["members"][0]
    assert live[intern] == ("Sales Representative",)
    assert StoredAssignments(live_app).roles_of(intern) == ("Sales Representative",)
    snapshot = AssignmentSnapshot.objects.get(application=live_app)
    assert snapshot.reached == len(live) and snapshot.groups == 2
    assert snapshot.assignments == SnapshotAssignment.objects.filter(application=live_app).count()


def test_a_plain_page_view_makes_no_graph_call_and_shows_when_the_snapshot_was_read(reader_client, stored, emu):
    before = _entra_calls(emu)
    html = _page(reader_client, stored)
    html += _page(reader_client, stored, q="a", type="User")
    assert _entra_calls(emu) == before
    snapshot = AssignmentSnapshot.objects.get(application=stored)
    when = f"{snapshot.refreshed_at:%Y-%m-%dT%H:%M:%S}"
    assert f'Assignments as read from Microsoft Entra ID at <time datetime="{when}' in html
    assert "by Refresh from Entra" in html


def test_a_read_that_fails_part_way_keeps_the_previous_snapshot_and_says_so(admin_client, stored, emu):
    before = list(SnapshotAssignment.objects.filter(application=stored).values_list("assignment_id", "warnings"))
    users_before = SnapshotUser.objects.filter(application=stored).count()
    emu.control.unassign("Sales Team")  # a change the failed read must not half-store
    emu.control.set_fault_rates("entra", rate_500=1.0)
    with pytest.raises(RemoteError):
        _refresh(stored)
    emu.control.set_fault_rates("entra")
    after = list(SnapshotAssignment.objects.filter(application=stored).values_list("assignment_id", "warnings"))
    assert after == before and SnapshotUser.objects.filter(application=stored).count() == users_before
    snapshot = AssignmentSnapshot.objects.get(application=stored)
    assert snapshot.error.startswith("Reading the assignments from Microsoft Graph failed")
    html = _page(admin_client, stored)
    assert "The list shows the last good read." in html and "Sales Team" in html
    # The next good read stores the change and clears the error.
    _refresh(stored)
    assert "Sales Team" not in _names(_page(admin_client, stored, q="sales"))
    assert not AssignmentSnapshot.objects.get(application=stored).error


def test_a_group_whose_members_cannot_be_read_stores_nothing(stored, emu, monkeypatch):
    rows_before = SnapshotAssignment.objects.filter(application=stored).count()
    emu.control.create_group("Late joiners", [])
    emu.control.assign("Late joiners", "Standard User")
    real = GraphClient.batch

    def failing_member_reads(self, requests):
        answers = real(self, requests)
        if "transitiveMembers" in requests[0]["url"]:
            answers["0"] = {"id": "0", "status": 503, "body": {"error": {"message": "Service unavailable"}}}
        return answers

    monkeypatch.setattr(GraphClient, "batch", failing_member_reads)
    with pytest.raises(RemoteError, match="Reading the members of group .* failed: Service unavailable"):
        _refresh(stored)
    assert SnapshotAssignment.objects.filter(application=stored).count() == rows_before


def test_a_read_older_than_a_change_made_here_is_not_stored_over_it(admin_client, stored, emu):
    reader = AssignmentReader(GraphClient(stored.entra))
    directory = snapshot_module._read(reader)  # a cycle read the tenant...
    user = _unassigned_user(emu)
    role = _role_id(emu, "Read Only")
    add = reverse("assignment_add", args=[stored.slug])
    admin_client.post(add, {"edit_version": _version(stored), "principal": user["userPrincipalName"], "role": role})
    assert SnapshotAssignment.objects.filter(application=stored, principal_id=user["id"]).exists()
    # ...and stores what it read only after the change was made here: the change stays.
    computed = snapshot_module._compute(directory)
    old = AssignmentSnapshot.objects.get(application=stored).as_of
    stored_it = snapshot_module._store(stored, directory, computed, old.replace(year=old.year - 1), "cycle", 0, 0.0)
    assert not stored_it
    assert SnapshotAssignment.objects.filter(application=stored, principal_id=user["id"]).exists()


def test_the_first_visit_reads_the_assignments(admin_client, live_app, emu, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        html = _page(admin_client, live_app)
    assert "Reading the assignments from Microsoft Entra ID" in html
    assert AssignmentSnapshot.objects.get(application=live_app).refreshed_by == SnapshotSource.REFRESH
    assert "Sales Team" in _names(_page(admin_client, live_app))


def test_refresh_from_entra_reads_again_and_the_status_line_reloads_the_page(
    admin_client, stored, emu, django_capture_on_commit_callbacks
):
    emu.control.unassign("Support Team")
    assert "Support Team" in _names(_page(admin_client, stored, type="Group"))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("assignments_refresh", args=[stored.slug]), follow=True)
    assert "Reading the assignments from Microsoft Entra ID; the list below is updated when done." in (
        response.content.decode()
    )
    assert "Support Team" not in _names(_page(admin_client, stored, type="Group"))
    status_url = reverse("assignments_status", args=[stored.slug])
    status = admin_client.get(status_url, {"pending": "1"}, HTTP_HX_REQUEST="true")
    assert status["HX-Refresh"] == "true"


# The list ----------------------------------------------------------------------------------------------------------


def test_the_list_pages_by_display_name_with_next_and_previous(reader_client, stored, monkeypatch):
    monkeypatch.setattr(assignment_list, "PAGE_SIZE", 10)
    everyone = sorted(
        SnapshotAssignment.objects.filter(application=stored).values_list("name_key", "id"), key=lambda r: r
    )
    first = _page(reader_client, stored)
    assert len(_names(first)) == 10
    next_url = re.search(r'href="(\?after=[^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = reader_client.get(reverse("users_and_groups", args=[stored.slug]) + next_url).content.decode()
    seen = _names(first) + _names(second)
    expected = [SnapshotAssignment.objects.get(id=pk).display_name for _, pk in everyone[:20]]
    assert seen == expected
    previous_url = re.search(r'href="(\?before=[^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
    back = reader_client.get(reverse("users_and_groups", args=[stored.slug]) + previous_url).content.decode()
    assert _names(back) == _names(first)
    # htmx asks for the table only.
    partial = reader_client.get(reverse("users_and_groups", args=[stored.slug]) + next_url, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and _names(partial.content.decode()) == _names(second)


def test_search_by_name_upn_mail_prefix_and_object_id(reader_client, stored, emu):
    state = emu.entra_app.state
    direct = next(
        state.users[a["principalId"]]
        for a in state.assignments.values()
        if a["principalType"] == "User" and a["principalId"] in state.users and state.users[a["principalId"]]["mail"]
    )
    name = direct["displayName"]
    for text in (name[:4].upper(), direct["userPrincipalName"][:6], direct["mail"][:5].upper(), direct["id"].upper()):
        assert name in _names(_page(reader_client, stored, q=text)), text
    assert _names(_page(reader_client, stored, q="zzzz-nobody")) == []
    assert "No assignment matches" in _page(reader_client, stored, q="zzzz-nobody")


def test_a_search_also_finds_users_reached_only_through_groups(reader_client, stored, emu):
    intern = emu.entra_app.state.users[_group(emu, "Sales Interns")["members"][0]]
    html = _page(reader_client, stored, q=intern["userPrincipalName"][:8])
    assert "Users reached through groups matching" in html
    through = html.split("Users reached through groups matching", 1)[1]
    assert escape(intern["displayName"]) in through
    assert 'Sales Representative <span class="muted small">(through group Sales Team)</span>' in through


def test_filters_by_type_role_and_warning_live_in_the_url(reader_client, stored, emu):
    assert _names(_page(reader_client, stored, type="Group")) == ["Sales Team", "Support Team"]
    support_role = _role_id(emu, "Support Agent")
    assert _names(_page(reader_client, stored, role=support_role)) == ["Support Team"]
    several = _names(_page(reader_client, stored, warning="several_roles"))
    two_roles = _two_role_user(emu)["displayName"]
    assert several == [two_roles, two_roles]  # both of their own assignments
    html = _page(reader_client, stored, type="User", q=two_roles[:3])
    assert f'name="q" value="{escape(two_roles[:3])}"' in html and '<option value="User" selected>' in html


def test_bad_input_gets_a_message_never_an_error(reader_client, stored):
    too_long = _page(reader_client, stored, q="x" * 300)
    assert "The search was not applied: type at most 100 characters (this one has 300)." in too_long
    assert len(_names(too_long)) > 0  # the search is dropped, the list shown
    control = _page(reader_client, stored, q="ab\x00cd")
    assert "The search was not applied: remove the control or invisible characters" in control
    odd = _page(reader_client, stored, q="%_'\"<script>")
    assert "No assignment matches" in odd and "<script>" not in odd
    unknown = _page(reader_client, stored, type="Printer", role="not-a-role", warning="loud")
    assert "Unknown object type &#x27;Printer&#x27;; showing every object type." in unknown
    assert "Unknown role &#x27;not-a-role&#x27;; showing every role." in unknown
    assert "Unknown warning &#x27;loud&#x27;; showing every assignment." in unknown
    first = _page(reader_client, stored)
    for token in ("eyJhIjoxfQ:1abc:xyz", "garbage", _tampered_token(stored)):
        tampered = _page(reader_client, stored, after=token)
        assert "The page link was changed or cut short" in tampered
        assert _names(tampered) == _names(first)
    assert "The page link was changed" in _page(reader_client, stored, before="x" * 5000)


def _tampered_token(app) -> str:
    """A real page token with one character of its position changed."""
    row = SnapshotAssignment.objects.filter(application=app).order_by("name_key", "id")[5]
    token = assignment_list.PAGES.encode(row)
    return token[:3] + ("A" if token[3] != "A" else "B") + token[4:]


def test_members_of_a_group_page_with_nested_members_and_the_role_each_receives(
    reader_client, stored, emu, monkeypatch
):
    monkeypatch.setattr(assignment_views, "MEMBERS_PAGE_SIZE", 4)
    team = _group(emu, "Sales Team")
    state = emu.entra_app.state
    expected = {state.users[m]["displayName"] for m in state.transitive_members(team["id"]) if m in state.users}
    row = SnapshotAssignment.objects.get(application=stored, principal_id=team["id"])
    assert row.members == len(expected)
    url = reverse("assignment_members", args=[stored.slug, row.assignment_id])
    seen: list[str] = []
    response = reader_client.get(url, HTTP_HX_REQUEST="true")
    while True:
        html = response.content.decode()
        assert "<html" not in html
        names = re.findall(r"<tr>\s*<td>([^<]+)<br>", html)
        assert len(names) <= 4
        seen += [escape_back(n) for n in names]
        assert "<td>Sales Representative</td>" in html
        more = re.search(r'href="([^"]+)" rel="next"', html)
        if not more:
            break
        response = reader_client.get(more.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true")
    assert sorted(seen) == sorted(expected) and seen == sorted(seen, key=str.lower)
    page = reader_client.get(url).content.decode()
    assert "Members of Sales Team" in page and "nested groups included" in page
    assert reader_client.get(reverse("assignment_members", args=[stored.slug, "no-such-id"])).status_code == 404


def test_readers_see_everything_and_no_control_to_change_it(reader_client, stored):
    html = _page(reader_client, stored)
    assert "Read only" in html and "Sales Team" in html
    assert "Add assignment" not in html and ">Remove<" not in html and "Refresh from Entra</button>" not in html


# Warnings ----------------------------------------------------------------------------------------------------------


def _default_access_assignments(emu) -> list[dict]:
    state = emu.entra_app.state
    live = state.users.keys() | state.groups.keys()
    return [a for a in state.assignments.values() if a["appRoleId"] == DEFAULT_ACCESS_ID and a["principalId"] in live]


def test_warnings_are_counted_at_refresh_with_links_to_the_filtered_list(admin_client, live_app, emu):
    AccessSettings.objects.update_or_create(application=live_app, defaults={"profile_by_precedence": False})
    two_roles = _two_role_user(emu)
    lonely = _unassigned_user(emu)
    emu.control.assign(lonely["userPrincipalName"], None)
    team = _group(emu, "Sales Team")
    member = next(emu.entra_app.state.users[m] for m in team["members"] if m in emu.entra_app.state.users)
    emu.control.assign(member["userPrincipalName"], "Standard User")
    emu.control.create_group("Empty group", [])
    emu.control.assign("Empty group", "Standard User")
    _refresh(live_app)
    html = _page(admin_client, live_app)
    default_access = _default_access_assignments(emu)
    assert f"{len(default_access)} assignments with Default Access, which is not a Salesforce profile" in html
    assert "its default value &#x27;Chatter Free User&#x27;" in html
    several = "2 users receive more than one role: SingleAppRoleAssignment([appRoleAssignments]) provisions only one"
    assert several in html
    assert "1 user is a member of a group assigned another role and is also assigned directly." in html
    assert "1 assignment reaches nobody" in html
    assert "Warnings (4)" in html
    assert '<a href="?warning=default_access">Show them</a>' in html
    shown = _names(_page(admin_client, live_app, warning="default_access"))
    assert sorted(shown) == sorted(a["principalDisplayName"] for a in default_access) and lonely["displayName"] in shown
    direct_and_group = _names(_page(admin_client, live_app, warning="direct_and_group"))
    assert sorted(direct_and_group) == sorted([member["displayName"], "Sales Team"])
    assert two_roles["displayName"] in _names(_page(admin_client, live_app, warning="any"))
    assert _names(_page(admin_client, live_app, warning="reaches_nobody")) == ["Empty group"]
    counts = AssignmentSnapshot.objects.get(application=live_app).warning_counts
    assert counts == {
        "default_access": len(default_access),
        "several_roles": 2,
        "direct_and_group": 1,
        "missing_role": 0,
        "reaches_nobody": 1,
    }


def test_a_user_through_a_nested_group_is_warned_like_a_direct_member(admin_client, live_app, emu):
    intern = emu.entra_app.state.users[_group(emu, "Sales Interns")["members"][0]]
    emu.control.assign(intern["userPrincipalName"], "Standard User")
    _refresh(live_app)
    user = SnapshotUser.objects.get(application=live_app, user_id=intern["id"])
    assert user.warnings  # several roles, direct beside group
    html = _page(admin_client, live_app, warning="direct_and_group")
    assert intern["displayName"] in _names(html) and "Sales Team" in _names(html)
    assert 'Sales Representative <span class="muted small">(through group Sales Team)</span>' in html


def test_with_profile_by_precedence_several_roles_are_notes_not_warnings(admin_client, stored, emu):
    AccessSettings.objects.update_or_create(application=stored, defaults={"profile_by_precedence": False})
    before = _page(admin_client, stored)
    assert "1 user receives more than one role: SingleAppRoleAssignment" in before
    assert "Warnings (2)" in before  # Default Access, several roles
    AccessSettings.objects.filter(application=stored).update(profile_by_precedence=True)
    html = _page(admin_client, stored)
    assert "Warnings (1)" in html and "<h3>Notes</h3>" in html
    notes = html.split("<h3>Notes</h3>", 1)[1].split("</section>", 1)[0]
    assert "1 user receives more than one role: the profile comes from the role with the lowest precedence" in notes
    assert "Default Access" not in notes


def test_each_user_shows_their_salesforce_access_and_the_role_behind_each_piece(admin_client, stored, emu):
    AccessSettings.objects.update_or_create(application=stored, defaults={"profile_by_precedence": True})
    item = OrgAccessItem.objects.create(
        application=stored, kind=AccessKind.PERMISSION_SET, salesforce_id="0PS5g0000000001AAA", name="Sales_Console"
    )
    access = AppRoleAccess.objects.create(application=stored, role_value="Marketing User", role_label="Marketing User")
    access.items.add(item)
    two_roles = _two_role_user(emu)
    html = _page(admin_client, stored, q=two_roles["displayName"])
    assert 'Permission set: Sales_Console <span class="muted">(from Marketing User)</span>' in html
    assert "Profile: Marketing User" in html


# Changes made here go into the snapshot at once ----------------------------------------------------------------------


def _unassigned_user(emu) -> dict:
    """A new user no assignment reaches (the seed's spare users are all reached, some through a nested group)."""
    return emu.control.create_entra_user(
        userPrincipalName="nora.unassigned@contoso.onmicrosoft.com",
        displayName="Nora Unassigned",
        mail="nora.unassigned@contoso.com",
    )


def _two_role_user(emu) -> dict:
    state = emu.entra_app.state
    for uid, user in state.users.items():
        if len([a for a in state.assignments.values() if a["principalId"] == uid]) == 2:
            return user
    raise AssertionError("the seed has a user with two roles")


def _role_id(emu, value: str) -> str:
    return next(r["id"] for r in emu.entra_app.state.service_principal["appRoles"] if r["value"] == value)


def test_an_assignment_added_here_is_in_the_list_at_once(admin_client, stored, emu):
    user = _unassigned_user(emu)
    before = _entra_calls(emu)
    response = admin_client.post(
        reverse("assignment_add", args=[stored.slug]),
        {"edit_version": _version(stored), "principal": user["userPrincipalName"], "role": _role_id(emu, "Read Only")},
        follow=True,
    )
    html = response.content.decode()
    assert f"Assigned user {user['userPrincipalName']} the role Read Only" in html
    assert _entra_calls(emu) - before <= 4  # the role list, the user, the assignment: no full read
    assert user["displayName"] in _names(_page(admin_client, stored, q=user["userPrincipalName"][:10]))
    snapshot = AssignmentSnapshot.objects.get(application=stored)
    assert snapshot.changed_at is not None
    assert StoredAssignments(stored).roles_of(user["id"]) == ("Read Only",)
    assert StoredAssignments(stored).roles_by_user() == AssignmentReader(GraphClient(stored.entra)).roles_by_user()


def test_a_group_added_here_brings_its_members_and_their_warnings(admin_client, stored, emu):
    everyone = _group(emu, "All Staff")
    response = admin_client.post(
        reverse("assignment_add", args=[stored.slug]),
        {"edit_version": _version(stored), "principal": everyone["id"], "role": _role_id(emu, "Standard User")},
        follow=True,
    )
    assert "Assigned group All Staff the role Standard User" in response.content.decode()
    live = AssignmentReader(GraphClient(stored.entra)).roles_by_user()
    assert StoredAssignments(stored).roles_by_user() == live
    row = SnapshotAssignment.objects.get(application=stored, principal_id=everyone["id"])
    assert row.members == len([u for u in emu.entra_app.state.transitive_members(everyone["id"])
                               if u in emu.entra_app.state.users])  # fmt: skip
    assert row.members_warned > 0  # the Sales and Support members now hold two roles
    # The counts match what a full read computes.
    counts = AssignmentSnapshot.objects.get(application=stored).warning_counts
    _refresh(stored)
    assert AssignmentSnapshot.objects.get(application=stored).warning_counts == counts


def test_an_assignment_removed_here_leaves_the_list_at_once(admin_client, stored, emu):
    two_roles = _two_role_user(emu)
    row = SnapshotAssignment.objects.filter(application=stored, principal_id=two_roles["id"]).first()
    response = admin_client.post(
        reverse("assignment_remove", args=[stored.slug]),
        {"edit_version": _version(stored), "assignment": row.assignment_id},
        follow=True,
    )
    assert f"Removed the assignment of {escape(two_roles['displayName'])} ({row.role_label})" in (
        response.content.decode()
    )
    assert not SnapshotAssignment.objects.filter(application=stored, assignment_id=row.assignment_id).exists()
    user = SnapshotUser.objects.get(application=stored, user_id=two_roles["id"])
    assert user.warnings == 0  # one role left
    assert StoredAssignments(stored).roles_by_user() == AssignmentReader(GraphClient(stored.entra)).roles_by_user()


def test_a_change_before_the_first_read_asks_for_one(admin_client, live_app, emu, django_capture_on_commit_callbacks):
    user = _unassigned_user(emu)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("assignment_add", args=[live_app.slug]),
            {
                "edit_version": _version(live_app),
                "principal": user["userPrincipalName"],
                "role": _role_id(emu, "Read Only"),
            },
        )
    snapshot = AssignmentSnapshot.objects.get(application=live_app)
    assert snapshot.refreshed_at is not None  # read in full, not a snapshot of one assignment
    assert snapshot.assignments > 40


def test_a_change_of_someone_whose_assignments_changed_since_the_page_was_loaded_is_refused_then_kept(
    admin_client, stored, emu
):
    two_roles = _two_role_user(emu)
    opened = _version(stored)  # two administrators load the page
    row = SnapshotAssignment.objects.filter(application=stored, principal_id=two_roles["id"]).first()
    removed = admin_client.post(
        reverse("assignment_remove", args=[stored.slug]),
        {"edit_version": opened, "assignment": row.assignment_id, "principal": row.principal_id},
    )
    assert removed.status_code == 302
    before = dict(emu.entra_app.state.assignments)
    asked = {"edit_version": opened, "principal": two_roles["userPrincipalName"], "role": _role_id(emu, "Read Only")}
    refused = admin_client.post(reverse("assignment_add", args=[stored.slug]), asked)
    html = refused.content.decode()
    assert refused.status_code == 409
    assert emu.entra_app.state.assignments == before  # nothing was written to Entra
    assert "Not saved" in html and f"Removed the assignment of {escape(two_roles['displayName'])}" in html
    assert f"Roles of {two_roles['userPrincipalName']}" in html  # their change beside yours
    assert f'value="{two_roles["userPrincipalName"]}"' in html  # what was typed is kept
    assert f'name="edit_version" value="{_version(stored)}"' in html
    # Sending the kept form again means it: the assignment is made.
    again = admin_client.post(
        reverse("assignment_add", args=[stored.slug]), {**asked, "edit_version": _version(stored)}
    )
    assert again.status_code == 302
    assert "Read Only" in StoredAssignments(stored).roles_of(two_roles["id"])


def test_changes_of_other_users_since_the_page_was_loaded_do_not_refuse(admin_client, stored, emu):
    opened = _version(stored)
    user = _unassigned_user(emu)
    added = admin_client.post(
        reverse("assignment_add", args=[stored.slug]),
        {"edit_version": opened, "principal": user["userPrincipalName"], "role": _role_id(emu, "Read Only")},
    )
    assert added.status_code == 302
    two_roles = _two_role_user(emu)
    row = SnapshotAssignment.objects.filter(application=stored, principal_id=two_roles["id"]).first()
    removed = admin_client.post(
        reverse("assignment_remove", args=[stored.slug]),
        {"edit_version": opened, "assignment": row.assignment_id, "principal": row.principal_id},
    )
    assert removed.status_code == 302
    assert not SnapshotAssignment.objects.filter(application=stored, assignment_id=row.assignment_id).exists()
    assert _version(stored) == opened + 2


def test_a_change_without_the_page_version_is_refused_not_applied_blind(admin_client, stored, emu):
    row = SnapshotAssignment.objects.filter(application=stored, principal_type="User").first()
    before = dict(emu.entra_app.state.assignments)
    response = admin_client.post(reverse("assignment_remove", args=[stored.slug]), {"assignment": row.assignment_id})
    assert response.status_code == 409
    assert emu.entra_app.state.assignments == before
    assert SnapshotAssignment.objects.filter(application=stored, assignment_id=row.assignment_id).exists()


def test_a_change_entra_refuses_leaves_a_record_that_refuses_nobody(admin_client, stored, emu, monkeypatch):
    opened = _version(stored)
    user = _unassigned_user(emu)
    monkeypatch.setattr(GraphClient, "add_assignment", _refusing)
    asked = {"edit_version": opened, "principal": user["userPrincipalName"], "role": _role_id(emu, "Read Only")}
    response = admin_client.post(reverse("assignment_add", args=[stored.slug]), asked, follow=True)
    assert "Nothing was assigned: Entra says no" in response.content.decode()
    monkeypatch.undo()
    again = admin_client.post(reverse("assignment_add", args=[stored.slug]), asked)
    assert again.status_code == 302  # the failed attempt changed nothing, so the page's version still holds
    assert StoredAssignments(stored).roles_of(user["id"]) == ("Read Only",)


def _refusing(self, principal_id, app_role_id):
    raise RemoteError("Entra says no")


def test_membership_changes_applied_as_a_delta_would_give_them_equal_a_full_read(stored, emu):
    """The seam for an incremental refresh: users joining or leaving an assigned group go in through apply()."""
    state = emu.entra_app.state
    newcomer = _unassigned_user(emu)
    leaver = _group(emu, "Support Team")["members"][0]
    with emu.entra_app.lock:
        _group(emu, "Sales Interns")["members"].append(newcomer["id"])  # nested in Sales Team
        _group(emu, "Support Team")["members"].remove(leaver)
    book = StoredAssignments(stored).book
    assert snapshot_module.apply(
        stored,
        book,
        joined={_group(emu, "Sales Team")["id"]: [newcomer]},
        left={_group(emu, "Support Team")["id"]: [leaver]},
    )
    live = AssignmentReader(GraphClient(stored.entra)).roles_by_user()
    assert StoredAssignments(stored).roles_by_user() == live
    assert live[newcomer["id"]] == ("Sales Representative",) and leaver not in live
    applied = AssignmentSnapshot.objects.get(application=stored)
    rows = dict(SnapshotAssignment.objects.filter(application=stored).values_list("assignment_id", "members"))
    _refresh(stored)
    full = AssignmentSnapshot.objects.get(application=stored)
    assert (applied.warning_counts, applied.reached) == (full.warning_counts, full.reached)
    assert rows == dict(SnapshotAssignment.objects.filter(application=stored).values_list("assignment_id", "members"))
    assert state.users[newcomer["id"]]


def test_a_refresh_asked_for_that_fails_is_said_on_the_page_and_stops_waiting(admin_client, stored, emu):
    snapshot_module.request_refresh(stored)  # on_commit never runs here: the task is run by hand
    emu.control.set_fault_rates("entra", rate_500=1.0)
    snapshot_module.run_requested_refresh(stored.pk)
    emu.control.set_fault_rates("entra")
    snapshot = AssignmentSnapshot.objects.get(application=stored)
    assert snapshot.refresh_requested_at is None and snapshot.error
    html = _page(admin_client, stored)
    assert "Reading the assignments from Microsoft Graph failed" in html and "Reading the assignments from" in html
    assert "hx-trigger" not in html.split('id="snapshot-status"', 1)[1].split(">", 1)[0]


def _stored_rows(app) -> list:
    return [
        sorted(model.objects.filter(application=app).values_list("pk", *fields))
        for model, fields in (
            (SnapshotAssignment, snapshot_module.ASSIGNMENT_FIELDS),
            (SnapshotGrant, snapshot_module.GRANT_FIELDS),
            (SnapshotUser, snapshot_module.USER_FIELDS),
        )
    ]


def test_an_unchanged_refresh_after_the_first_writes_nothing_and_reads_no_row_back(live_app, emu, monkeypatch):
    _refresh(live_app)
    first = _stored_rows(live_app)
    compared = []
    sync = snapshot_module._sync
    monkeypatch.setattr(snapshot_module, "_sync", lambda *args: compared.append(args[0]) or sync(*args))
    _refresh(live_app)
    assert compared == []  # the digests stored by the first refresh say every table is unchanged
    assert _stored_rows(live_app) == first
    emu.control.unassign("Sales Team")
    _refresh(live_app)
    assert compared  # a change is compared row by row: only what changed is written
    assert not SnapshotAssignment.objects.filter(application=live_app, display_name="Sales Team").exists()


def test_a_user_joining_a_group_twice_has_one_grant_of_it(stored, emu):
    newcomer = _unassigned_user(emu)
    group = _group(emu, "Sales Team")
    book = StoredAssignments(stored).book
    for _ in range(2):
        assert snapshot_module.apply(stored, book, joined={group["id"]: [newcomer]})
    grants = SnapshotGrant.objects.filter(application=stored, user_id=newcomer["id"])
    assert grants.count() == SnapshotAssignment.objects.filter(application=stored, principal_id=group["id"]).count()
    assert SnapshotUser.objects.get(application=stored, user_id=newcomer["id"]).groups == grants.count()


def _rows_without_pk(app) -> list:
    return [sorted(row[1:] for row in rows) for rows in _stored_rows(app)]


def test_a_refresh_that_writes_only_what_changed_leaves_the_rows_and_digests_a_first_refresh_writes(stored, emu):
    """The rows compared one by one (a later refresh) and the rows written at once (the first) are the same rows."""
    newcomer = _unassigned_user(emu)
    with emu.entra_app.lock:
        _group(emu, "Sales Interns")["members"].append(newcomer["id"])  # nested in Sales Team
        _group(emu, "Support Team")["members"].pop(0)
    emu.control.assign(newcomer["userPrincipalName"], "Standard User")  # directly too: a second way in
    emu.control.unassign(_two_role_user(emu)["userPrincipalName"], "Marketing User")
    emu.control.create_group("Nobody yet", [])
    emu.control.assign("Nobody yet", "Standard User")
    _refresh(stored)
    compared = _rows_without_pk(stored)
    digests = AssignmentSnapshot.objects.get(application=stored).row_digests
    for model in (SnapshotAssignment, SnapshotGrant, SnapshotUser):
        model.objects.filter(application=stored).delete()
    _refresh(stored)
    assert _rows_without_pk(stored) == compared
    assert AssignmentSnapshot.objects.get(application=stored).row_digests == digests and all(digests.values())
    assert SnapshotGrant.objects.filter(application=stored, user_id=newcomer["id"]).count() >= 2
