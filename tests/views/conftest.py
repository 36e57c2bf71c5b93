"""Fixtures of the view tests: an application with known secrets, and stand-ins for the remote calls."""

from __future__ import annotations

import pytest

from connections import connection_test
from connections.connection_test import TestResult
from connections.models import SalesforceConnection

# Distinctive values: a test fails if any of them shows up in a page, an audit entry or an export.
KNOWN_SECRETS = {
    "admin_password": "Pw-3f9c1a7e-never-shown",
    "security_token": "Tok-8b2d44c1-never-shown",
    "consumer_secret": "Cs-51aa0e9d-never-shown",
    "client_secret": "Es-c07d93b2-never-shown",
}
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "0d3b5c2e-1111-4a5b-9c8d-222233334444"
SP_ID = "a1b2c3d4-5555-4666-8777-88889999aaaa"


@pytest.fixture
def configured_application(application):
    """The UAT application in Automatic mode with every credential and secret filled in."""
    application.provisioning_mode = "automatic"
    application.save()
    sf = application.salesforce
    sf.admin_username = "admin@acme.com.uat"
    sf.consumer_key = "3MVG9consumerkey"
    for name in ("admin_password", "security_token", "consumer_secret"):
        sf.set_secret(name, KNOWN_SECRETS[name])
    sf.save()
    entra = application.entra
    entra.tenant_id, entra.client_id, entra.service_principal_id = TENANT_ID, CLIENT_ID, SP_ID
    entra.set_secret("client_secret", KNOWN_SECRETS["client_secret"])
    entra.save()
    job = application.job
    job.notification_email = "ops@example.com"
    job.save()
    return application


@pytest.fixture
def fake_connection_tests(monkeypatch):
    """Replaces the two real Test Connection calls (tested against wire recordings in tests/connections).

    Each stand-in stores its result on the connection as the real one does, and records the call.
    Set `outcomes["salesforce"]` / `outcomes["entra"]` to (ok, message) to choose the result.
    """
    calls: list[str] = []
    outcomes = {"salesforce": (True, "Signed in to Salesforce."), "entra": (True, "Read the service principal.")}

    def fake(connection):
        system = "salesforce" if isinstance(connection, SalesforceConnection) else "entra"
        calls.append(system)
        ok, message = outcomes[system]
        connection.record_test(ok, message, 42)
        return TestResult(connection.SYSTEM, ok=ok, message=message, duration_ms=42, steps=[f"{system} step"])

    monkeypatch.setattr(connection_test, "test_connection", fake)
    return {"calls": calls, "outcomes": outcomes}
