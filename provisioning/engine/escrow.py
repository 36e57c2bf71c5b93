"""Escrow back-off: when a user whose change failed is tried again. The engine decides it as it records the failure
(pipeline -> record), so the log entry and the email can say when the next attempt is.

Most failures back off: +6 h after the first failure, +12 h after the second, +24 h after the third, then
daily. Failures Entra documents as "retried in 40 minutes" or "next cycle" (a username taken in another org,
a server error, a timeout), refused grants of Salesforce access, and users whose write a stopped cycle did not send,
are due again at the next scheduled cycle.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from provisioning.models import escrow_delay

# Entra's error codes (exporter.ERROR_CODES) and transport codes retried next cycle.
NEXT_CYCLE_CODES = frozenset(
    {
        "SalesforceDuplicateUserName",
        "InternalServerError",
        "InternalError",
        "WebExceptionProtocolError",
        "Timeout",
        "TooManyRequests",
        "TRANSIENT",
        "UNABLE_TO_LOCK_ROW",
        "REQUEST_LIMIT_EXCEEDED",
        # A refused grant fails the user while the rest of their access stands: the next cycle tries what is missing.
        "SalesforceAccessRefused",
        "SalesforceAccessItemDeleted",
        # Salesforce refused a deactivation (the user was frozen instead): tried again next cycle.
        "SalesforceDeactivationRefused",
        # The cycle stopped (request limit, refused credentials) before the user's write was sent.
        "SalesforceNotWritten",
    }
)
# A scheduled cycle starts about one interval after the previous one started; a little slack makes the
# escrow due by then even when the schedule fires a few seconds early.
NEXT_CYCLE_SLACK = timedelta(minutes=1)


def retries_next_cycle(error_code: str) -> bool:
    return error_code in NEXT_CYCLE_CODES or error_code.startswith(("Graph5", "HTTP5"))


def next_attempt_at(
    attempts: int, error_code: str, *, failed_at: datetime, cycle_started_at: datetime | None, interval_minutes: int
) -> datetime:
    """When the escrowed user is due again, `attempts` being how many times it has failed so far."""
    if retries_next_cycle(error_code):
        start = cycle_started_at or failed_at
        return max(failed_at, start + timedelta(minutes=interval_minutes) - NEXT_CYCLE_SLACK)
    return failed_at + escrow_delay(attempts)
