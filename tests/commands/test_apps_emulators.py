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
