"""The newcomer's first ten minutes, click by click in Chromium, against the real stack.

Sign in -> Applications -> the application -> Provisioning -> Mode Automatic -> Admin Credentials ->
Test Connection (a wrong secret token, then the right one) -> Notification Email -> Mappings (the suffix) ->
Settings: scope -> Provisioning Status On -> Save -> Overview with the progress bar -> Provisioning logs with
the created users -> one entry's steps, a failure (a username taken in another org) with its recommendation and
its notification email at the SMTP server, Salesforce access given to an app role, and provision on demand granting
it, seen in the entry's Modified Properties.
"""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import Page, expect

from console.permissions import APPLICATION_ADMINISTRATOR, ROLES
from provisioning.applications import create_application
from provisioning.models import ProvisioningCycle
from tests.e2e.a11y import check_keyboard_reaches_every_button, check_page

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "e2e-correct-horse-battery"
NOTIFY = "provisioning-ops@example.com"
CYCLE_TIMEOUT_MS = 120_000


@pytest.fixture
def admin(db) -> User:
    # Transactional tests flush the groups the migrations created; bring them back.
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    user = User.objects.create_user("ada.admin", "ada@example.com", PASSWORD)
    user.groups.add(Group.objects.get(name=APPLICATION_ADMINISTRATOR))
    return user


@pytest.fixture
def victim(emulator_state_reset) -> dict:
    """An assigned user whose sandbox username is already taken in another Salesforce org."""
    control = emulator_state_reset.control
    for uid in control.assigned_user_ids():
        user = control.get_entra_user(uid)
        username = f"{user['userPrincipalName']}.uat"
        if user.get("mail") and user.get("accountEnabled") and control.get_salesforce_user(username=username) is None:
            control.add_taken_username(username)
            return user
    raise AssertionError("the seeded tenant has no assigned user without a sandbox account")


def visit(page: Page, shots, name: str, *, keyboard: bool = False, show=None) -> None:
    """Every main page: accessibility basics, then a screenshot (with `show` in view)."""
    check_page(page)
    if keyboard:
        check_keyboard_reaches_every_button(page)
    shots(page, name, show=show)


def test_first_ten_minutes(page: Page, admin, emulator_state_reset, victim, cluster, smtp_server, screenshots):
    emu = emulator_state_reset
    info = emu.info
    application = create_application("Demo sandbox", suffix="uat")

    # Sign in.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Username").fill(admin.username)
    page.get_by_label("Password").fill(PASSWORD)
    visit(page, screenshots, "01-sign-in")
    page.get_by_role("button", name="Sign in").click()

    # Applications -> the application -> Provisioning.
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Applications").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Applications")
    visit(page, screenshots, "02-applications")
    page.get_by_role("link", name="Demo sandbox").first.click()
    blade = page.get_by_role("navigation", name="Demo sandbox")
    blade.get_by_role("link", name="Provisioning", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Provisioning")

    # Mode Automatic reveals the Admin Credentials.
    page.get_by_role("combobox", name="Provisioning Mode").select_option(label="Automatic")
    page.locator("#mode").get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Admin Credentials")).to_be_visible()

    # Salesforce Sandbox credentials with a wrong secret token: Test Connection says what is wrong.
    sf, sf_info = page.locator("section#salesforce"), info["salesforce"]
    sf.get_by_label("Login URL", exact=True).fill(sf_info["login_url"])
    sf.get_by_label("Admin Username", exact=True).fill(sf_info["username"])
    sf.get_by_label("CA bundle path", exact=True).fill(info["ca_bundle"])
    sf.get_by_label("Admin Password", exact=True).fill(sf_info["password"])
    sf.get_by_label("Secret Token", exact=True).fill("not-the-token")
    sf.get_by_role("button", name="Save Salesforce Sandbox").click()
    expect(page.locator(".messages, [role=status], .notice").first).to_contain_text("Saved")
    sf = page.locator("section#salesforce")
    sf.get_by_role("button", name="Test Connection").click()
    result = page.locator("#test-result-salesforce")
    expect(result).to_contain_text("Failed")
    expect(result).to_contain_text("Secret Token")
    expect(result).to_contain_text("INVALID_LOGIN")
    assert "not-the-token" not in page.content()  # secrets are write-only, even a wrong one
    visit(page, screenshots, "03-test-connection-error", show=page.locator("#test-salesforce"))

    # The right token: success.
    sf.get_by_label("Secret Token", exact=True).fill(sf_info["security_token"])
    sf.get_by_role("button", name="Save Salesforce Sandbox").click()
    page.locator("section#salesforce").get_by_role("button", name="Test Connection").click()
    expect(page.locator("#test-result-salesforce")).to_contain_text("Succeeded")

    # Microsoft Entra ID.
    entra, e_info = page.locator("section#entra"), info["entra"]
    entra.get_by_label("Tenant ID", exact=True).fill(e_info["tenant_id"])
    entra.get_by_label("Client (application) ID", exact=True).fill(e_info["client_id"])
    entra.get_by_label("Service principal object ID", exact=True).fill(e_info["service_principal_id"])
    entra.get_by_label("Authority host", exact=True).fill(e_info["authority_host"])
    entra.get_by_label("Graph endpoint", exact=True).fill(e_info["graph_url"])
    entra.get_by_label("CA bundle path", exact=True).fill(info["ca_bundle"])
    entra.get_by_label("Client secret", exact=True).fill(e_info["client_secret"])
    entra.get_by_role("button", name="Save Microsoft Entra ID").click()
    page.locator("section#entra").get_by_role("button", name="Test Connection").click()
    expect(page.locator("#test-result-entra")).to_contain_text("Succeeded")
    expect(page.locator("#test-result-salesforce")).to_contain_text("Succeeded")

    # Mappings: the default mapping carries the sandbox suffix.
    mappings = page.locator("section#mappings")
    expect(mappings.get_by_role("cell", name="uat", exact=True)).to_be_visible()

    # Settings: notification email (a test mail arrives over SMTP) and the scope.
    settings_form = page.locator("section#settings")
    settings_form.get_by_label("Notification Email", exact=True).fill(NOTIFY)
    settings_form.get_by_label("Send an email notification when a failure occurs", exact=True).check()
    settings_form.get_by_label("Scope", exact=True).select_option(label="Sync only assigned users and groups")
    settings_form.get_by_role("button", name="Save settings").click()
    expect(page.locator(".messages, [role=status], .notice").first).to_contain_text("Saved")
    page.locator("section#settings").get_by_role("button", name="Send test email").click()
    expect(page.locator("#test-email-result")).to_contain_text(NOTIFY)
    _wait(lambda: any(NOTIFY in m.rcpt_tos for m in smtp_server.messages), "the test email")
    visit(page, screenshots, "04-provisioning", keyboard=True)

    # The mapping editor shows the suffix too.
    page.locator("section#mappings").get_by_role("link").first.click()
    expect(page.locator("main")).to_contain_text("uat")
    visit(page, screenshots, "05-mappings")
    page.go_back()

    # Provisioning Status On -> Save. Slow remote systems so that the running cycle can be watched.
    emu.control.set_latency(500)
    status = page.locator("section#status")
    status.get_by_label("On", exact=True).check()
    status.get_by_role("button", name="Save").click()
    expect(page.locator("section#status")).to_contain_text("On")

    # Overview: the progress bar of the initial cycle, then its counters.
    page.get_by_role("navigation", name="Demo sandbox").get_by_role("link", name="Overview").click()
    bar = page.locator("#cycle-progress-bar")
    try:
        expect(bar).to_be_visible(timeout=CYCLE_TIMEOUT_MS)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nThe worker said:\n{cluster.output()}") from None
    expect(bar).to_have_attribute("aria-label", re.compile("Cycle progress"))
    visit(page, screenshots, "06-overview-progress", keyboard=True)
    expect(page.locator("#cycle-progress")).to_contain_text("No cycle is running", timeout=CYCLE_TIMEOUT_MS)
    emu.control.set_latency(0)
    cycle = ProvisioningCycle.objects.get(job=application.job)
    assert cycle.created > 20, cycle.counters()
    assert cycle.failed >= 1, cycle.counters()
    page.reload()
    expect(page.locator("main")).to_contain_text(f"Created {cycle.created}")
    visit(page, screenshots, "07-overview")

    # Provisioning logs: the created users.
    page.get_by_role("link", name="View provisioning logs").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Provisioning logs")
    table = page.locator("#log-table table")
    expect(table.get_by_text("Create", exact=True).first).to_be_visible()
    expect(table.get_by_text("Success", exact=True).first).to_be_visible()
    visit(page, screenshots, "08-provisioning-logs", keyboard=True)

    # One created user's entry: its steps.
    created_row = table.locator("tr", has_text="Success").filter(has_text="Create").first
    created_row.get_by_role("link", name=re.compile("Details")).click()
    page.get_by_role("link", name="Steps").click()
    expect(page.get_by_role("heading", name="Steps")).to_be_visible()
    expect(page.locator("ol.steps li").first).to_be_visible()
    visit(page, screenshots, "09-log-entry-steps")

    # The failure: the username is taken in another org; the entry recommends what to do.
    page.get_by_role("link", name="Back to the list").click()
    page.get_by_role("combobox", name="Status").select_option(label="Failure")
    page.get_by_role("textbox", name="Identity").fill(victim["userPrincipalName"])
    page.get_by_role("button", name="Apply").click()
    row = page.locator("#log-table table tr", has_text=victim["userPrincipalName"]).first
    expect(row).to_contain_text("Failure")
    row.get_by_role("link", name=re.compile("Details")).click()
    page.get_by_role("link", name=re.compile("Troubleshooting")).click()
    troubleshooting = page.locator("main")
    expect(troubleshooting).to_contain_text("SalesforceDuplicateUserName")
    recommendation = troubleshooting.locator("dt", has_text="Recommended action").locator("xpath=following::dd[1]")
    expect(recommendation).not_to_have_text("—")
    visit(page, screenshots, "10-log-entry-failure")

    # The failure notification reached the SMTP server, with what to do.
    digest = _wait(lambda: next((m for m in smtp_server.messages if "failure" in m.message["Subject"]), None), "mail")
    assert digest.rcpt_tos == [NOTIFY] and "Demo sandbox" in digest.message["Subject"]
    text = digest.part("text/plain")
    assert victim["userPrincipalName"] in text and "SalesforceDuplicateUserName" in text and "What to do:" in text

    # Salesforce access: read the org's items, give the Standard User app role a permission set.
    page.get_by_role("navigation", name="Demo sandbox").get_by_role("link", name="Salesforce access").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Salesforce access")
    page.get_by_role("button", name="Refresh from Salesforce").click()
    expect(page.locator("main")).to_contain_text("Refresh from Salesforce:")
    page.get_by_role("link", name="Edit the Salesforce access of Standard User").click()
    page.get_by_role("checkbox", name="Permission set: Reports Builder").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("Saved the Salesforce access of the app role Standard User")
    expect(page.locator("main")).to_contain_text("Permission set: Reports Builder")
    visit(page, screenshots, "12-salesforce-access", keyboard=True)

    # Provision on demand: a user assigned after the cycle, provisioned at once with Entra's steps.
    upn = f"grace.hopper@{info['entra']['tenant_domain']}"
    newcomer = emu.control.create_entra_user(
        userPrincipalName=upn,
        mail=f"grace.hopper@{info['entra']['tenant_domain']}",
        givenName="Grace",
        surname="Hopper",
        displayName="Grace Hopper",
        accountEnabled=True,
    )
    emu.control.assign(newcomer["id"], "Standard User")
    page.get_by_role("navigation", name="Demo sandbox").get_by_role("link", name="Provision on demand").click()
    page.get_by_role("searchbox", name="User").fill(upn)
    page.get_by_role("button", name="Provision").click()
    result = page.locator("#pod-result")
    expect(result.get_by_role("heading", name="Grace Hopper")).to_be_visible(timeout=30_000)
    expect(result).to_contain_text("Success")
    expect(result).to_contain_text("Permission set 'Reports Builder' was granted")
    visit(page, screenshots, "11-provision-on-demand", keyboard=True)
    created = emu.control.get_salesforce_user(username=f"{upn}.uat")
    assert created["LastName"] == "Hopper"
    assert emu.control.access_of(created["Id"])["permission_sets"] == ["Reports_Builder"]

    # The grant in the provisioning log: the entry's Modified Properties.
    page.get_by_role("navigation", name="Demo sandbox").get_by_role("link", name="Provisioning logs").click()
    page.get_by_role("textbox", name="Identity").fill(upn)
    page.get_by_role("button", name="Apply").click()
    page.locator("#log-table table tr", has_text=upn).first.get_by_role("link", name=re.compile("Details")).click()
    page.get_by_role("link", name="Modified Properties").click()
    properties = page.locator("main")
    expect(properties).to_contain_text("Permission set")
    expect(properties).to_contain_text("Reports Builder")
    visit(page, screenshots, "13-log-entry-grant")

    # What the browser showed happened in the emulated sandbox: the users exist with the suffix; the victim does not.
    link = application.job.links.exclude(target_id="").first()
    record = emu.control.get_salesforce_user(id=link.target_id)
    assert record["Username"] == f"{link.user_principal_name}.uat"
    assert emu.control.get_salesforce_user(username=f"{victim['userPrincipalName']}.uat") is None


def _wait(predicate, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
