"""Signing in with Microsoft Entra ID in Chromium, through the Entra emulator's sign-in page: an administrator who
can change things, a reader who cannot, and a person without a console role who is told which role to ask for."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from provisioning.applications import create_application
from tests.e2e.a11y import check_page
from tests.signin.helpers import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signin(entra_signin_on, live_server, emulator_state_reset):
    emulator_state_reset.control.register_redirect_uri(f"{live_server.url}/login/entra/callback/")
    return create_application("Demo sandbox", suffix="uat")


def sign_in_with_microsoft(page: Page, upn: str, screenshots=None, name: str = "") -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    check_page(page)
    page.get_by_role("link", name="Sign in with Microsoft").click()
    expect(page).to_have_title("Sign in to your account")  # the emulator's page, not the console's
    check_page(page)
    page.get_by_label("Email or username").fill(upn)
    page.get_by_label("Password").fill(PASSWORD)
    if screenshots is not None:
        screenshots(page, name)
    page.get_by_role("button", name="Sign in").click()


def test_an_administrator_signs_in_through_entra_and_can_change_things(page: Page, signin, people, screenshots):
    upn = people["admin"]["userPrincipalName"]
    sign_in_with_microsoft(page, upn, screenshots, "12-entra-sign-in")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Applications")
    expect(page.locator(".account")).to_contain_text(upn)
    expect(page.locator(".account")).to_contain_text("Application Administrator")

    page.get_by_role("link", name="Demo sandbox").first.click()
    page.get_by_role("navigation", name="Demo sandbox").get_by_role("link", name="Provisioning", exact=True).click()
    mode = page.get_by_role("combobox", name="Provisioning Mode")
    expect(mode).to_be_enabled()
    mode.select_option(label="Automatic")
    page.locator("#mode").get_by_role("button", name="Save").click()
    expect(page.locator(".messages, [role=status], .notice").first).to_contain_text("Saved")
    expect(page.get_by_role("heading", name="Admin Credentials")).to_be_visible()


def test_a_reader_signs_in_through_entra_and_cannot_change_anything(page: Page, signin, people):
    sign_in_with_microsoft(page, people["reader"]["userPrincipalName"])
    expect(page.locator(".account")).to_contain_text("Reports Reader")
    page.get_by_role("link", name="Demo sandbox").first.click()
    expect(page.get_by_role("button", name="Start provisioning")).to_have_count(0)
    page.get_by_role("navigation", name="Demo sandbox").get_by_role("link", name="Provisioning", exact=True).click()
    expect(page.get_by_role("combobox", name="Provisioning Mode")).to_be_disabled()
    expect(page.locator("main button:enabled", has_text="Save")).to_have_count(0)
    # Even a request made by hand is refused.
    status = page.evaluate(
        """async (url) => (await fetch(url, {method: 'POST', headers: {'X-CSRFToken':
        document.cookie.match(/csrftoken=([^;]+)/)[1]}})).status""",
        "/apps/demo-sandbox/overview/start/",
    )
    assert status == 403


def test_a_person_without_a_console_role_is_refused(page: Page, signin, people, screenshots):
    sign_in_with_microsoft(page, people["nobody"]["userPrincipalName"])
    expect(page.get_by_role("heading", level=1)).to_have_text("You have no role in this console")
    expect(page.locator("main")).to_contain_text("ApplicationAdministrator")
    expect(page.locator("main")).to_contain_text("ReportsReader")
    check_page(page)
    screenshots(page, "13-entra-no-role")
    page.goto("/apps/")
    expect(page).to_have_url(re.compile(r"/login/"))
