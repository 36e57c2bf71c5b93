"""Leavers: freezing (UserLogin.IsFrozen) before or instead of deactivating, as the access settings say; a
deactivation Salesforce refuses; unfreezing a user back in scope.

- `before_export`: Freeze leavers "before" freezes a user the plan deactivates, "instead" freezes them and sends no
  deactivation (the plan becomes a skip; a user already frozen is unchanged and costs nothing).
- `after_export`: Salesforce refuses to deactivate a user who is a default lead or case owner, the default workflow
  user, an approver, or selected in a custom hierarchy field (Salesforce Help, "Considerations for Deactivating
  Users"; knowledge articles 000384586 and 000384761), with FIELD_INTEGRITY_EXCEPTION on the IsActive change. The user
  is frozen instead, the failure becomes a warning with what to reassign, and the deactivation is due next cycle.
- `unfreeze_returning`: a user this console froze who is in scope again.

Freezing is an update of the user's UserLogin row: one query for the page's rows and one collection update.
"""

from __future__ import annotations

from collections.abc import Sequence

from connections.clients.errors import TransientError
from connections.clients.salesforce import IN_CLAUSE_SIZE, RecordResult, WriteInterrupted, soql_quote
from mappings.access.models import FreezeLeavers
from provisioning.engine.grants import FROZEN, Ledger
from provisioning.engine.items import (
    NOT_WRITTEN,
    WARNING,
    AccessChange,
    ItemError,
    PageStopped,
    Plan,
    PlanKind,
    WorkItem,
)

DEACTIVATION_REFUSED = frozenset({"FIELD_INTEGRITY_EXCEPTION"})
REFUSED_RECOMMENDATION = (
    "The user was frozen instead: they cannot sign in, and keep their licence. Reassign what Salesforce names (default "
    "lead or case owner, web-to-lead or default workflow user, approval processes, custom hierarchy fields) to "
    "another user; deactivation is tried again in the next cycle."
)


class Leavers:
    def __init__(self, client, ledger: Ledger, freeze_leavers: str) -> None:
        self.client = client
        self.ledger = ledger
        self.freeze_leavers = freeze_leavers

    def before_export(self, items: Sequence[WorkItem]) -> None:
        """Freeze leavers first (before or instead of deactivating); instead of deactivating, none is sent."""
        if self.freeze_leavers == FreezeLeavers.NEVER:
            return
        to_freeze = []
        for item in items:
            if item.error or item.plan is None or item.plan.kind != PlanKind.DISABLE or not item.target_id:
                continue
            frozen = self.ledger.frozen(item.source_id)
            if not frozen:
                to_freeze.append(item)
            if self.freeze_leavers == FreezeLeavers.INSTEAD:
                reason = "Out of scope: frozen instead of deactivated (Freeze leavers)."
                item.plan = Plan(PlanKind.UNCHANGED if frozen else PlanKind.SKIP, reason=reason)
        try:
            self.freeze(to_freeze, True, "out of scope (Freeze leavers)")
        except PageStopped as stopped:
            # Before the export nothing of the page can be recorded as written: the cycle ends, and the next one
            # freezes these leavers again (freezing a frozen user changes nothing).
            raise stopped.error from None

    def after_export(self, items: Sequence[WorkItem]) -> None:
        """A deactivation Salesforce refused: the user is frozen instead, logged as a warning, retried next cycle."""
        refused = [
            item
            for item in items
            if item.plan is not None
            and item.plan.kind == PlanKind.DISABLE
            and item.error is not None
            and item.error.remote_code in DEACTIVATION_REFUSED
        ]
        if not refused:
            return
        unfrozen = [i for i in refused if not self.ledger.frozen(i.source_id)]
        for item in refused:
            reason = item.error.reason
            item.error = None
            item.fail(
                ItemError(
                    "SalesforceDeactivationRefused",
                    f"Salesforce refused to deactivate the user: {reason}",
                    REFUSED_RECOMMENDATION,
                    step="export",
                    category=WARNING,
                )
            )
        self.freeze(unfrozen, True, "Salesforce refused to deactivate the user")

    def unfreeze_returning(self, items: Sequence[WorkItem]) -> None:
        returning = [
            item
            for item in items
            if item.error is None
            and item.in_scope
            and item.target_id
            and self.ledger.frozen(item.source_id)
            and item.plan is not None
            and item.plan.kind != PlanKind.SKIP
        ]
        self.freeze(returning, False, "in scope again")

    def freeze(self, items: Sequence[WorkItem], frozen: bool, why: str) -> None:
        """Freeze (or unfreeze) users through their UserLogin rows: one query and one write a page.

        A write cut short by the org's request limit or a stop-class error keeps what Salesforce did (the ledger
        remembers who was frozen), fails the rest as not written and raises PageStopped."""
        if not items:
            return
        stopped = None
        ids = [item.target_id for item in items]
        queries = [
            "SELECT Id, UserId FROM UserLogin WHERE UserId IN "  # noqa: S608 - ids quoted by soql_quote
            f"({', '.join(soql_quote(u) for u in ids[start : start + IN_CLAUSE_SIZE])})"
            for start in range(0, len(ids), IN_CLAUSE_SIZE)
        ]
        try:
            logins = {row.get("UserId"): row.get("Id") for rows in self.client.query_many(queries) for row in rows}
            found = [(item, logins[item.target_id]) for item in items if logins.get(item.target_id)]
            results = self.client.update_records("UserLogin", [{"Id": lid, "IsFrozen": frozen} for _, lid in found])
        except WriteInterrupted as stop:  # the org's request limit, refused credentials: the cycle ends
            stopped, results = stop.error, list(stop.results)
        except TransientError as exc:
            found = [(item, "") for item in items]
            results = [RecordResult(False, None, exc.code, exc.message)] * len(items)
        done = {item.source_id for item, _ in found}
        for item in items:
            if item.source_id not in done:
                found.append((item, ""))
                results.append(RecordResult(False, None, "NOT_FOUND", "The user's UserLogin row was not found."))
        action = "freeze" if frozen else "unfreeze"
        for (item, login_id), result in zip(found, results, strict=True):
            change = AccessChange(action, FROZEN[0], FROZEN[1], "Frozen", "Frozen", record_id=login_id, message=why)
            if result is None:
                change.ok, change.code, change.message = False, stopped.code, NOT_WRITTEN
            elif result.ok:
                if frozen:
                    self.ledger.remember(item, FROZEN[0], FROZEN[1], "Frozen", login_id, owned=True)
                else:
                    self.ledger.forget(item, FROZEN)
            else:
                change.ok, change.code, change.message = False, result.code, result.message
            item.access_changes.append(change)
        if stopped is not None:
            raise PageStopped(stopped)
