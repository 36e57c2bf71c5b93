"""The Content-Security-Policy in the browser: the console's pages work under it (htmx swaps, the confirmation
before Restart provisioning), and what it blocks is caught by the checks every browser test runs."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_q.conf import Conf
from playwright.sync_api import Page, expect

from provisioning.applications import create_application, point_at_emulators
from tests.e2e.a11y import check_page, check_policy, watch_policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Complete connections (nothing is called: the restart's cycle stays queued).
EMULATOR_LIKE_INFO = {
    "salesforce": {
        "login_url": "https://sf.invalid",
        "username": "admin@acme.com.cnf",
        "password": "pw",
        "security_token": "tok",
    },
    "entra": {
        "tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "client_id": "0d3b5c2e-1111-4a5b-9c8d-222233334444",
        "client_secret": "secret",
        "service_principal_id": "a1b2c3d4-5555-4666-8777-88889999aaaa",
        "authority_host": "https://login.invalid",
        "graph_url": "https://graph.invalid/v1.0",
    },
}


def test_every_response_carries_the_policy(page: Page):
    response = page.goto("/login/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    check_page(page)


def test_htmx_swaps_a_result_in_under_the_policy(signed_in: Page):
    page = signed_in
    application = create_application("CSP sandbox", suffix="csp")
    page.goto(reverse("expression_test", args=[application.slug]))
    page.get_by_label("Expression", exact=True).fill('Append([userPrincipalName], ".csp")')
    page.get_by_label("Or a sample user (JSON)").fill('{"userPrincipalName": "ada@contoso.com"}')
    page.get_by_role("button", name="Test").click()
    expect(page.locator("#test-result")).to_contain_text("ada@contoso.com.csp")
    assert page.evaluate("() => document.querySelectorAll('style').length") == 0  # no htmx indicator <style>
    check_page(page)


def test_restart_provisioning_asks_first_and_a_no_sends_nothing(signed_in: Page, monkeypatch):
    page = signed_in
    monkeypatch.setattr(Conf, "SYNC", False)  # the restart's cycle is queued, not run: no worker is needed
    application = create_application("Confirm sandbox", suffix="cnf")
    point_at_emulators(application, EMULATOR_LIKE_INFO)
    page.goto(reverse("application_overview", args=[application.slug]))
    questions: list[str] = []

    def answer(dialog, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.get_by_role("button", name="Restart provisioning").click()
    expect(page.get_by_role("button", name="Restart provisioning")).to_be_visible()
    assert questions and questions[0].startswith("Restart provisioning?")
    assert not page.locator(".messages, [role=status]").filter(has_text="restarts").count()

    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("button", name="Restart provisioning").click()
    expect(page.locator("main")).to_contain_text("Provisioning restarts with an initial cycle")
    assert len(questions) == 2
    check_page(page)


def test_what_the_policy_blocks_fails_the_checks(browser, live_server):
    """An inline style attribute and an inline script added to a real page are blocked and reported."""
    context = browser.new_context(base_url=live_server.url)
    watch_policy(context)
    page = context.new_page()
    try:
        page.goto("/login/")
        check_policy(page)
        page.evaluate(
            """() => {
              document.body.insertAdjacentHTML('beforeend', '<p style="color: red">styled inline</p>');
              const script = document.createElement('script');
              script.textContent = 'window.ranInline = true';
              document.body.append(script);
            }"""
        )
        assert page.evaluate("() => window.ranInline") is None
        with pytest.raises(AssertionError, match=re.compile("Content-Security-Policy blocked.*style-src")):
            check_page(page)
        assert any("script-src" in v for v in page.evaluate("() => window.__policyViolations"))
    finally:
        context.close()
