"""The unit of work that flows through the pipeline: one source user in one cycle, and the plan made for it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from connections.clients.errors import RemoteError
from mappings.target_types import is_redacted
from provisioning.models import ProvisionedLink

WARNING = "warning"  # the category of an ItemError logged as a warning (deactivation refused, frozen instead)
# Why a write (a user's, a grant) failed when the cycle stopped before sending it (PageStopped).
NOT_WRITTEN = (
    "Not written: the cycle stopped before it could be written to Salesforce; it is retried in the next cycle."
)


class PlanKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    ENABLE = "enable"
    DISABLE = "disable"
    SKIP = "skip"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class TargetState:
    """A Salesforce user as the engine knows it: its Id, IsActive and attribute values."""

    id: str
    active: bool
    values: Mapping[str, Any]


@dataclass
class Plan:
    kind: PlanKind
    changes: dict[str, Any] = field(default_factory=dict)  # attribute -> value to send
    old: dict[str, Any] = field(default_factory=dict)  # attribute -> value before (changed attributes only)
    reason: str = ""

    @property
    def writes(self) -> bool:
        return self.kind in (PlanKind.CREATE, PlanKind.UPDATE, PlanKind.ENABLE, PlanKind.DISABLE)


@dataclass
class ItemError:
    """A per-user failure: logged, escrowed, never stops the cycle."""

    code: str
    reason: str
    recommendation: str = ""
    step: str = "export"  # import / scoping / matching / processing / export / access
    category: str = "failure"  # failure / nonServiceFailure / warning (logged as a warning, retried, not mailed)
    remote_code: str = ""  # Salesforce's own status code, when Salesforce refused the write


@dataclass
class AccessChange:
    """One grant or revoke of Salesforce access for a user (engine/access.py), and how it went."""

    action: str  # "grant" or "revoke"
    kind: str  # mappings.access.models.AccessKind value, or "flag"
    item_id: str
    name: str
    kind_label: str
    roles: tuple[str, ...] = ()
    record_id: str = ""
    ok: bool = True
    code: str = ""
    message: str = ""
    outside: bool = False  # granted outside this console (a revoke of it, or a grant found already there)


@dataclass
class WorkItem:
    source_id: str
    upn: str = ""
    display_name: str = ""
    user: dict[str, Any] | None = None  # Graph properties + pseudo-attributes; None when only the link is known
    change: str = "Add"  # Add / Update / Delete, as Entra names the imported change
    in_scope: bool = False
    scope_reasons: list[str] = field(default_factory=list)
    roles_key: str = ""
    assigned: bool = False
    link: ProvisionedLink | None = None
    target: TargetState | None = None
    match_note: str = ""
    desired: dict[str, Any] | None = None
    plan: Plan | None = None
    error: ItemError | None = None
    target_id: str = ""
    target_name: str = ""
    access: Any = None  # mappings.access.effective.EffectiveAccess of a user in scope, when access is configured
    access_changes: list[AccessChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # logged as a warning when nothing failed (a manager missing)
    escrow_attempt: int | None = None
    next_attempt_at: datetime | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def outcome(self) -> str:
        """The cycle counter this item lands in."""
        if self.error is not None:
            return "skipped" if self.error.category == WARNING else "failed"
        kind = self.plan.kind if self.plan else PlanKind.SKIP
        return {
            PlanKind.CREATE: "created",
            PlanKind.UPDATE: "updated",
            PlanKind.ENABLE: "enabled",
            PlanKind.DISABLE: "disabled",
            PlanKind.SKIP: "skipped",
            PlanKind.UNCHANGED: "unchanged",
        }[kind]

    def fail(self, error: ItemError) -> None:
        if self.error is None:
            self.error = self._without_redacted(error)

    def _without_redacted(self, error: ItemError) -> ItemError:
        """Salesforce quotes the refused value in its message ("data value too large: <value>"): a Redact()-ed
        value, or the start of one, becomes "[Redact]" before the error reaches the log, escrows or emails."""
        values = list((self.desired or {}).values()) + list(self.plan.changes.values() if self.plan else ())
        secrets = sorted({str(v) for v in values if is_redacted(v) and str(v)}, key=len, reverse=True)
        if not secrets:
            return error
        return replace(
            error, reason=redact_in(error.reason, secrets), recommendation=redact_in(error.recommendation, secrets)
        )


MIN_QUOTED_PREFIX = 4  # shorter beginnings of a redacted value are too common to be telling


def redact_in(text: str, secrets: list[str]) -> str:
    """`text` with each secret, and each beginning of one a remote system truncated it to, replaced."""
    for secret in secrets:
        for length in range(len(secret), min(len(secret), MIN_QUOTED_PREFIX) - 1, -1):
            if secret[:length] in text:
                text = text.replace(secret[:length], "[Redact]")
                break
    return text


class PageStopped(Exception):
    """A page's writes were cut short by `error`, which ends the cycle (the org's request limit, a stop-class
    error), after some went through: the items hold what Salesforce answered and the page is to be recorded (links,
    log, ledger) before `error` is raised."""

    def __init__(self, error: RemoteError) -> None:
        super().__init__(str(error))
        self.error = error
