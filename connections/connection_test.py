"""Test Connection: the real call to a connection's remote system, made synchronously, with a result an
administrator can act on, stored on the connection (time, outcome, message, duration).

`test_connection(connection)` is what the button and `manage.py apps test-connection` run. The check is chosen by
the connection's type (CHECKS: one function per remote system, which returns the success message and raises
RemoteError or UnreadableSecret); a new kind of connection adds its model and one entry there. It never raises: an
unexpected error becomes a stored failure whose message names only the error's type (its text could quote a
credential).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from connections.clients.errors import RemoteError
from connections.clients.graph import GraphClient
from connections.clients.salesforce import SalesforceClient
from connections.crypto import UnreadableSecret
from connections.models import ConnectionBase, EntraConnection, SalesforceAuthMethod, SalesforceConnection

logger = logging.getLogger(__name__)
PATIENCE_SECONDS = 2.0  # an administrator is waiting: back-off pauses are cut to this


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class

    system: str
    ok: bool
    message: str
    duration_ms: int
    steps: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """What the audit log records: "Salesforce: failed"."""
        return f"{self.system}: {'succeeded' if self.ok else 'failed'}"


def _patient_sleep(seconds: float) -> None:
    time.sleep(min(seconds, PATIENCE_SECONDS))


def check_salesforce(connection: SalesforceConnection, steps: list[str]) -> str:
    """Sign in at the configured login URL, then run one cheap query (a Profile)."""
    client = SalesforceClient(connection, max_retries=1)
    client._sleep = _patient_sleep
    client.login()
    steps.append(f"Signed in at {connection.login_url} (instance {client.instance}).")
    profile = next(iter(client.query("SELECT Id, Name FROM Profile LIMIT 1")), None)
    steps.append("Read a profile through the REST API." if profile else "Queried profiles (none visible).")
    org_id = client.organization_id()
    same_org = connection.note_organization(org_id)
    steps.append(f"Organization ID {org_id}.")
    who = connection.admin_username if connection.auth_method == SalesforceAuthMethod.PASSWORD else "the connected app"
    message = f"Connected to Salesforce at {client.instance} as {who}."
    if not same_org:
        message += (
            f" This is org {org_id}, not org {connection.organization_id} the console provisioned into: a refreshed "
            "sandbox is a new org. Cycles stop before writing until you choose Re-match after refresh on the Overview."
        )
    if client.api_usage:
        used, total = client.api_usage
        message += f" API requests in the last 24 hours: {used:,} of {total:,}."
    return message


def check_entra(connection: EntraConnection, steps: list[str]) -> str:
    """Get a Graph token with the client secret, then read the configured service principal."""
    client = GraphClient(connection, max_retries=1)
    client._sleep = _patient_sleep
    client.token()
    steps.append(f"Got a Microsoft Graph token from {connection.authority_host} for tenant {connection.tenant_id}.")
    principal = client.service_principal()
    steps.append("Read the service principal.")
    roles = [r for r in principal.get("appRoles") or [] if r.get("isEnabled", True)]
    return (
        f"Connected to tenant {connection.tenant_id} and read the enterprise application "
        f"“{principal.get('displayName') or connection.service_principal_id}” ({len(roles)} app roles)."
    )


Check = Callable[..., str]  # (connection, steps) -> the success message
CHECKS: dict[type[ConnectionBase], Check] = {
    SalesforceConnection: check_salesforce,
    EntraConnection: check_entra,
}


def test_connection(connection: SalesforceConnection | EntraConnection) -> TestResult:
    """Run the connection's Test Connection and store the outcome on it."""
    started = time.monotonic()
    steps: list[str] = []
    ok = False
    missing = connection.missing_fields()
    if missing:
        message = f"Fill in {', '.join(missing)} before testing the connection."
    else:
        try:
            message = CHECKS[type(connection)](connection, steps)
            ok = True
        except (RemoteError, UnreadableSecret) as exc:
            steps.append(f"Failed: {getattr(exc, 'code', type(exc).__name__)}")
            message = failure_message(exc)
        except Exception as exc:
            logger.error("Test Connection of %s crashed: %s", connection.SYSTEM, type(exc).__name__)
            message = (
                f"The test stopped on an unexpected error ({type(exc).__name__}). "
                "Try again; if it happens again, look in the console's log at this time."
            )
    duration_ms = int((time.monotonic() - started) * 1000)
    connection.record_test(ok, message, duration_ms)
    return TestResult(connection.SYSTEM, ok, message, duration_ms, steps)


def failure_message(exc: RemoteError | UnreadableSecret) -> str:
    if isinstance(exc, UnreadableSecret):
        return f"{exc} (Enter the secret again to replace the unreadable one.)"
    return exc.full_message


test_connection.__test__ = False  # type: ignore[attr-defined]  # imported into tests, never collected
