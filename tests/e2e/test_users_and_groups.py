"""Users and groups in the browser, under the Content-Security-Policy: the stored assignments paged with htmx, a
search and a warning filter that live in the URL, a group row that expands to its members page by page, a user's
effective Salesforce access with the role behind each piece, and an assignment added and removed from the page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from connections.clients.graph import GraphClient
from mappings import assignment_list
from mappings.access.models import AccessKind, AppRoleAccess, OrgAccessItem
from mappings.directory.assignments import AssignmentReader
from mappings.directory.snapshot import refresh
from mappings.views import assignments as assignment_views
from provisioning.applications import create_application, point_at_emulators
from tests.e2e.a11y import check_keyboard_reaches_every_button, check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_users_and_groups_pages_searches_and_expands_a_group(
    signed_in: Page, emulator_state_reset, monkeypatch, screenshots
):
    page = signed_in
    emu = emulator_state_reset
    application = create_application("Groups sandbox", suffix="grp")
    point_at_emulators(application, emu.info)
    refresh(application, AssignmentReader(GraphClient(application.entra)))
    # The seed's user with two app roles: each gives a permission set; the precedence decides the profile.
    for role, name in (("Standard User", "Sales_Console"), ("Marketing User", "Reports_Builder")):
        item = OrgAccessItem.objects.create(
            application=application, kind=AccessKind.PERMISSION_SET, salesforce_id=f"0PS{name[:12]:0<12}AAA", name=name
        )
        AppRoleAccess.objects.create(application=application, role_value=role, role_label=role).items.add(item)
    state = emu.entra_app.state
    two_roles = next(
        user
        for uid, user in state.users.items()
        if len([a for a in state.assignments.values() if a["principalId"] == uid]) == 2
    )
    monkeypatch.setattr(assignment_list, "PAGE_SIZE", 10)
    monkeypatch.setattr(assignment_views, "MEMBERS_PAGE_SIZE", 3)
    url = reverse("users_and_groups", args=[application.slug])

    page.goto(url)
    expect(page.get_by_text("Assignments as read from Microsoft Entra ID at")).to_be_visible()
    rows = page.locator("#assignment-table tbody > tr:not(.members-row)")
    expect(rows).to_have_count(10)
    check_page(page)
    check_keyboard_reaches_every_button(page)
    first = rows.first.locator("code").inner_text()  # the object ID

    # Next page through htmx: the address follows, the rows are the next ten.
    page.get_by_role("link", name="Next", exact=True).click()
    expect(page).to_have_url(re.compile(r"after="))
    expect(rows.first.locator("code")).not_to_have_text(first)
    page.get_by_role("link", name="Previous").click()
    expect(rows.first.locator("code")).to_have_text(first)

    # A group row expands to its members, three at a time, nested groups included.
    page.goto(url + "?type=Group")
    team = page.locator("details.members", has_text="Sales Team")
    team.locator("summary").click()
    members = team.locator(".members-list tbody > tr")
    expect(members).to_have_count(3)
    expect(members.first).to_contain_text("Sales Representative")
    team.get_by_role("link", name="Next members").click()
    expect(members.first).to_be_visible()
    check_page(page)
    screenshots(page, "12-users-and-groups", show=team)

    # A search and a warning filter are in the URL.
    page.goto(url)
    page.get_by_label("Search", exact=True).fill("sales")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"q=sales"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Sales Team")
    page.goto(url)
    page.locator(".warning-list a").first.click()
    expect(page).to_have_url(re.compile(r"warning=default_access"))
    expect(rows.first).to_contain_text("Default Access")
    check_page(page)

    # A user's effective Salesforce access: which role gave each piece.
    page.goto(url)
    page.get_by_label("Search", exact=True).fill(two_roles["displayName"])
    page.get_by_role("button", name="Apply").click()
    row = rows.filter(has_text=two_roles["userPrincipalName"]).first
    expect(row).to_contain_text("Several roles")
    access = row.locator("details.access")
    access.locator("summary").click()
    expect(access.locator("li", has_text="Permission set: Sales_Console")).to_contain_text("(from Standard User)")
    expect(access.locator("li", has_text="Permission set: Reports_Builder")).to_contain_text("(from Marketing User)")
    expect(access.locator("li", has_text="Profile:")).to_be_visible()
    check_page(page)
    screenshots(page, "13-effective-access", show=row)

    # Remove one of their roles from the page: the list and the warning follow at once.
    page.once("dialog", lambda dialog: dialog.accept())
    rows.filter(has_text=two_roles["userPrincipalName"]).get_by_role(
        "button", name=re.compile(r"Remove the assignment of .*\(Marketing User\)")
    ).click()
    expect(page.get_by_text(re.compile(r"Removed the assignment of .*\(Marketing User\)"))).to_be_visible()
    page.get_by_label("Search", exact=True).fill(two_roles["displayName"])
    page.get_by_role("button", name="Apply").click()
    expect(rows.filter(has_text=two_roles["userPrincipalName"])).to_have_count(1)
    expect(rows.filter(has_text=two_roles["userPrincipalName"]).first).not_to_contain_text("Several roles")
