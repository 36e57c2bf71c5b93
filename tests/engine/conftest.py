"""Engine tests: the session emulators reset before each test, and an application pointed at them."""

from __future__ import annotations

import pytest


@pytest.fixture
def emu(emulator_state_reset):
    """The shared session emulators (tests/fixtures/emulators.py), back at their seed."""
    return emulator_state_reset


def point_at_emulators(application, info: dict) -> None:
    """Fill both connections of `application` from the emulators' info (as an administrator would)."""
    entra, salesforce = application.entra, application.salesforce
    e, s = info["entra"], info["salesforce"]
    entra.tenant_id, entra.client_id = e["tenant_id"], e["client_id"]
    entra.service_principal_id = e["service_principal_id"]
    entra.authority_host, entra.graph_url, entra.ca_bundle = e["authority_host"], e["graph_url"], info["ca_bundle"]
    entra.set_secret("client_secret", e["client_secret"])
    entra.save()
    salesforce.login_url, salesforce.admin_username = s["login_url"], s["username"]
    salesforce.api_version, salesforce.ca_bundle = s["api_version"], info["ca_bundle"]
    salesforce.set_secret("admin_password", s["password"])
    salesforce.set_secret("security_token", s["security_token"])
    salesforce.save()


@pytest.fixture
def configured_app(application, emu):
    point_at_emulators(application, emu.info)
    return application
