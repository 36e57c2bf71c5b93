"""Test Connection: the real call, made synchronously, with a result an administrator can act on.

The outcome is stored on the connection (time, outcome, message, duration) by `record_test`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from connections.clients.errors import RemoteError
from connections.crypto import UnreadableSecret
from connections.models import EntraConnection, SalesforceAuthMethod, SalesforceConnection


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class

    ok: bool
    message: str
    duration_ms: int
    steps: list[str] = field(default_factory=list)


def salesforce_missing_fields(connection: SalesforceConnection) -> list[str]:
    if connection.auth_method == SalesforceAuthMethod.CLIENT_CREDENTIALS:
        required = [
            ("Consumer key", bool(connection.consumer_key)),
            ("Consumer secret", connection.has_secret("consumer_secret")),
        ]
    else:
        required = [
            ("Admin Username", bool(connection.admin_username)),
            ("Admin Password", connection.has_secret("admin_password")),
        ]
    required.insert(0, ("Login URL", bool(connection.login_url)))
    return [label for label, present in required if not present]


def entra_missing_fields(connection: EntraConnection) -> list[str]:
    required = [
        ("Tenant ID", bool(connection.tenant_id)),
        ("Client (application) ID", bool(connection.client_id)),
        ("Client secret", connection.has_secret("client_secret")),
        ("Service principal object ID", bool(connection.service_principal_id)),
    ]
    return [label for label, present in required if not present]


def _finish(
    connection: SalesforceConnection | EntraConnection, ok: bool, message: str, started: float, steps: list[str]
) -> TestResult:
    duration_ms = int((time.monotonic() - started) * 1000)
    connection.record_test(ok, message, duration_ms)
    return TestResult(ok=ok, message=message, duration_ms=duration_ms, steps=steps)


def _failure_message(exc: Exception) -> str:
    if isinstance(exc, RemoteError):
        return exc.full_message
    if isinstance(exc, UnreadableSecret):
        return f"{exc} (Enter the secret again to replace the unreadable one.)"
    raise exc


def test_salesforce_connection(connection: SalesforceConnection) -> TestResult:
    """Sign in at the configured login URL, then run one cheap query (a Profile)."""
    from connections.clients.salesforce import SalesforceClient

    started = time.monotonic()
    steps: list[str] = []
    missing = salesforce_missing_fields(connection)
    if missing:
        return _finish(
            connection, False, f"Fill in {', '.join(missing)} before testing the connection.", started, steps
        )
    client = SalesforceClient(connection, max_retries=1)
    client._sleep = lambda seconds: time.sleep(min(seconds, 2.0))  # an administrator is waiting
    try:
        client.login()
        steps.append(f"Signed in at {connection.login_url} (instance {client.instance}).")
        profile = next(iter(client.query("SELECT Id, Name FROM Profile LIMIT 1")), None)
        steps.append("Read a profile through the REST API." if profile else "Queried profiles (none visible).")
    except (RemoteError, UnreadableSecret) as exc:
        steps.append(f"Failed: {getattr(exc, 'code', type(exc).__name__)}")
        return _finish(connection, False, _failure_message(exc), started, steps)
    who = connection.admin_username if connection.auth_method == SalesforceAuthMethod.PASSWORD else "the connected app"
    message = f"Connected to Salesforce at {client.instance} as {who}."
    if client.api_usage:
        used, total = client.api_usage
        message += f" API requests in the last 24 hours: {used:,} of {total:,}."
    return _finish(connection, True, message, started, steps)


def test_entra_connection(connection: EntraConnection) -> TestResult:
    """Get a Graph token with the client secret, then read the configured service principal."""
    from connections.clients.graph import GraphClient

    started = time.monotonic()
    steps: list[str] = []
    missing = entra_missing_fields(connection)
    if missing:
        return _finish(
            connection, False, f"Fill in {', '.join(missing)} before testing the connection.", started, steps
        )
    client = GraphClient(connection, max_retries=1)
    client._sleep = lambda seconds: time.sleep(min(seconds, 2.0))
    try:
        client.token()
        steps.append(f"Got a Microsoft Graph token from {connection.authority_host} for tenant {connection.tenant_id}.")
        principal = client.service_principal()
        steps.append("Read the service principal.")
    except (RemoteError, UnreadableSecret) as exc:
        steps.append(f"Failed: {getattr(exc, 'code', type(exc).__name__)}")
        return _finish(connection, False, _failure_message(exc), started, steps)
    roles = [r for r in principal.get("appRoles") or [] if r.get("isEnabled", True)]
    message = (
        f"Connected to tenant {connection.tenant_id} and read the enterprise application "
        f"“{principal.get('displayName') or connection.service_principal_id}” ({len(roles)} app roles)."
    )
    return _finish(connection, True, message, started, steps)


# Importing these into a test module must not make pytest collect them as tests.
test_salesforce_connection.__test__ = False  # type: ignore[attr-defined]
test_entra_connection.__test__ = False  # type: ignore[attr-defined]
