"""The org a cycle writes into is the org its links point into: checked once a cycle, right after sign-in and before
anything is written.

A refreshed sandbox is a new org: Salesforce gives it a new organization ID, copies the users from production with
the sandbox name appended to their usernames and ".invalid" to their e-mails. A link made before the refresh names a
record of the old org; updating or deactivating through it would write to the wrong user or to none. So a different
ID stops the cycle (OrgChanged, a stop-class error, nothing written), the connection notes the new ID, and the
Overview offers Re-match after refresh (provisioning/operations/refresh.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from connections.clients.errors import StopError
from connections.models import SalesforceConnection
from provisioning.engine.items import PlanKind, WorkItem
from provisioning.engine.writer import SalesforceWriter

ORG_CHANGED = "SalesforceOrgChanged"
INVALID = ".invalid"  # what a sandbox refresh appends to every user's e-mail
EMAIL = "Email"


class OrgChanged(StopError):
    """Signed in to another org than the one the links point into (a sandbox refresh, or another org configured)."""

    default_code = ORG_CHANGED


def check_organization(client: SalesforceWriter, connection: SalesforceConnection) -> None:
    """Raise OrgChanged when `client` is signed in to another org than the one recorded (recording it when none is)."""
    found = client.organization_id()
    if connection.note_organization(found):
        return
    raise OrgChanged(
        f"The Salesforce org changed: the console signed in to org {found}, but its links point into org "
        f"{connection.organization_id}. A refreshed sandbox is a new org (Salesforce gives it a new ID, copies the "
        "users from production and appends .invalid to their e-mails). Nothing was written.",
        recommendation="If the sandbox was refreshed, choose Re-match after refresh on the Overview: the next cycle "
        "matches every user again in the new org. If the connection points at the wrong org, correct it under Admin "
        "Credentials.",
    )


def repair_invalid_emails(items: Sequence[WorkItem]) -> None:
    """After Re-match after refresh with the repair asked for: a matched user whose Salesforce e-mail ends in
    ".invalid" and whose plan does not set Email anyway gets it back without the suffix, in the same write."""
    for item in items:
        plan, target = item.plan, item.target
        if item.error or plan is None or target is None or not item.in_scope:
            continue
        current = target.values.get(EMAIL)
        if plan.kind not in (PlanKind.UPDATE, PlanKind.UNCHANGED, PlanKind.ENABLE) or EMAIL in plan.changes:
            continue
        if not isinstance(current, str) or not current.lower().endswith(INVALID):
            continue
        plan.changes[EMAIL] = current[: -len(INVALID)]
        plan.old[EMAIL] = current
        if plan.kind == PlanKind.UNCHANGED:
            plan.kind = PlanKind.UPDATE
            plan.reason = "The e-mail a sandbox refresh made invalid is repaired."
