"""Users and groups in the browser, under the Content-Security-Policy: the stored assignments paged with htmx, a
search and a warning filter that live in the URL, and a group row that expands to its members page by page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from connections.clients.graph import GraphClient
from mappings import assignment_list
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
