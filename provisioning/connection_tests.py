"""Running Test Connection for an application's connection: shared by the button and `manage.py apps`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from connections import testing
from connections.crypto import UnreadableSecret
from connections.models import ConnectionBase

logger = logging.getLogger(__name__)

SYSTEMS = {"salesforce": "Salesforce", "entra": "Microsoft Entra ID"}


@dataclass
class ConnectionCheck:
    system: str
    ok: bool
    message: str
    steps: list[str] = field(default_factory=list)


def run_connection_test(connection: ConnectionBase, system: str) -> ConnectionCheck:
    """Run the Test Connection of `system` ("salesforce" or "entra"); the result is stored on the connection.

    Never raises: an unreadable secret or an unexpected error becomes a stored failure with a message,
    so the page shows it instead of an error page.
    """
    started = time.monotonic()
    try:
        test = testing.test_salesforce_connection if system == "salesforce" else testing.test_entra_connection
        result = test(connection)
    except UnreadableSecret as exc:
        message = f"{exc} (Enter the secret again to replace the unreadable one.)"
    except Exception as exc:
        # The exception text could quote a credential, so only its type reaches the page and the log.
        logger.error("Test Connection of %s crashed: %s", system, type(exc).__name__)
        message = (
            f"The test stopped on an unexpected error ({type(exc).__name__}). "
            "Try again; if it happens again, look in the console's log at this time."
        )
    else:
        return ConnectionCheck(system, result.ok, result.message, list(getattr(result, "steps", None) or []))
    connection.record_test(False, message, int((time.monotonic() - started) * 1000))
    return ConnectionCheck(system, False, message)
