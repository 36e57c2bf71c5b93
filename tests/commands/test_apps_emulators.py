"""End to end against the bundled HTTPS emulators: create from their info file, then Test Connection for real."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from connections.models import Application

pytestmark = pytest.mark.integration


@pytest.fixture
def emulated_application(db, emulator_state_reset, tmp_path):
    info = tmp_path / "info.json"
    emulator_state_reset.write_info(str(info))
    call_command("apps", "create", "--from-emulators", str(info), "--name", "Emulated sandbox", stdout=StringIO())
    return Application.objects.get(slug="emulated-sandbox")


def test_test_connection_command_succeeds_against_the_emulators(emulated_application):
    out = StringIO()
    call_command("apps", "test-connection", "emulated-sandbox", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Salesforce: Succeeded")
    assert lines[1].startswith("Microsoft Entra ID: Succeeded")


def test_wrong_secret_token_fails_with_the_same_message_on_button_and_command(emulated_application, admin_client):
    sf = emulated_application.salesforce
    sf.set_secret("security_token", "not-the-token")
    sf.save()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("apps", "test-connection", "emulated-sandbox", "--salesforce", stdout=out)
    command_message = out.getvalue().split(" - ", 1)[1].strip()
    assert "INVALID_LOGIN" in command_message

    response = admin_client.post(
        reverse("test_connection", args=[emulated_application.slug, "salesforce"]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    sf.refresh_from_db()
    assert sf.last_test_outcome == "failure"
    assert sf.last_test_message == command_message
    assert "Failed" in response.content.decode()


def test_export_of_an_emulated_application_has_no_secret(emulated_application, emulators):
    out = StringIO()
    call_command("apps", "export", "emulated-sandbox", stdout=out)
    text = out.getvalue()
    for secret in (
        emulators.info["salesforce"]["password"],
        emulators.info["salesforce"]["security_token"],
        emulators.info["entra"]["client_secret"],
    ):
        assert secret not in text
    assert json.loads(text)["entra"]["secrets_set"] == {"client_secret": True}


@pytest.mark.parametrize(
    ("system", "change", "words"),
    [
        ("salesforce", lambda app: app.salesforce.set_secret("admin_password", "wrong"), "[INVALID_LOGIN]"),
        ("salesforce", lambda app: app.salesforce.set_secret("security_token", ""), "LOGIN_MUST_USE_SECURITY_TOKEN"),
        ("entra", lambda app: app.entra.set_secret("client_secret", "wrong"), "AADSTS7000215"),
        ("entra", lambda app: setattr(app.entra, "client_id", "0" * 8 + "-0000-0000-0000-" + "0" * 12), "AADSTS700016"),
        ("entra", lambda app: setattr(app.entra, "tenant_id", "1" * 8 + "-1111-1111-1111-" + "1" * 12), "AADSTS90002"),
        ("entra", lambda app: setattr(app.entra, "service_principal_id", "2" * 8 + "-2222-2222-2222-" + "2" * 12),
         "service principal"),
    ],
    ids=["wrong-password", "no-token", "wrong-client-secret", "unknown-client", "unknown-tenant", "unknown-sp"],
)  # fmt: skip
def test_wrong_settings_give_the_specific_error_against_the_emulators(emulated_application, system, change, words):
    """The foundation's error mappings, end to end: the real clients against the emulators' real answers."""
    change(emulated_application)
    emulated_application.salesforce.save()
    emulated_application.entra.save()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("apps", "test-connection", "emulated-sandbox", f"--{system}", stdout=out)
    message = out.getvalue()
    assert "Failed" in message and words.lower() in message.lower(), message
    assert "invalid credentials" not in message.lower()


def test_api_disabled_for_the_org_against_the_emulators(emulated_application, emulator_state_reset):
    emulator_state_reset.control.reject_logins("API_DISABLED_FOR_ORG")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("apps", "test-connection", "emulated-sandbox", "--salesforce", stdout=out)
    assert "API_DISABLED_FOR_ORG" in out.getvalue() and "API Enabled" in out.getvalue()
