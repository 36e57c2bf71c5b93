"""The provisioning log writer: one entry per object that changed or failed, built in memory, written in bulk."""

from __future__ import annotations

import time
from typing import Any

from django.utils import timezone

from console.bulk import insert_rows
from mappings.target_types import is_redacted
from provisioning.engine.items import WARNING, AccessChange, PlanKind, WorkItem
from provisioning.models import LogAction, LogStatus, ProvisioningCycle, ProvisioningLogEntry, new_guid

SOURCE_SYSTEM = "Microsoft Entra ID"
TARGET_SYSTEM = "Salesforce Sandbox"
REDACTED = "[Redact]"

ACTIONS = {
    PlanKind.CREATE: LogAction.CREATE,
    PlanKind.UPDATE: LogAction.UPDATE,
    PlanKind.ENABLE: LogAction.UPDATE,
    PlanKind.DISABLE: LogAction.DISABLE,
    PlanKind.SKIP: LogAction.OTHER,
    PlanKind.UNCHANGED: LogAction.OTHER,
}
EXPORT_VERBS = {
    PlanKind.CREATE: ("EntryExportAdd", "created", "create"),
    PlanKind.UPDATE: ("EntryExportUpdate", "updated", "update"),
    PlanKind.ENABLE: ("EntryExportUpdate", "enabled", "enable"),
    PlanKind.DISABLE: ("EntryExportUpdate", "disabled", "disable"),
}


def shown(value: Any) -> str:
    """A value as the log shows it: Redact()-ed values never appear."""
    if type(value) is str:  # most values; a Redact()-ed one is of a subclass of str
        return value
    if value is None:
        return ""
    if is_redacted(value):
        return REDACTED
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list | tuple):
        return ";".join(shown(v) for v in value)
    return str(value)


def step(name: str, kind: str, status: str, description: str, **details: Any) -> dict:
    return {"name": name, "type": kind, "status": status, "description": description, "details": details}


def steps_for(item: WorkItem, dry_run: bool) -> list[dict]:
    who = f"User '{item.upn or item.source_id}'"
    failed_at = item.error.step if item.error else None
    steps = [
        step(
            "EntryImport",
            "import",
            "failure" if failed_at == "import" else "success",
            f"Received {who} change of type ({item.change}) from {SOURCE_SYSTEM}",
            ReportableIdentifier=item.upn or item.source_id,
        )
    ]
    if failed_at == "import":
        return steps
    scope_text = "; ".join(item.scope_reasons) or ("in scope" if item.in_scope else "not in scope")
    steps.append(
        step(
            "EntrySynchronizationScoping",
            "scoping",
            "failure" if failed_at == "scoping" else ("success" if item.in_scope else "skipped"),
            f"{who} is {'in scope' if item.in_scope else 'not in scope'}: {scope_text}",
        )
    )
    if failed_at == "scoping":
        return steps
    steps.append(
        step(
            "EntryMatching",
            "matching",
            "failure" if failed_at == "matching" else "success",
            item.match_note or ("No matching user was looked up." if not item.in_scope else ""),
            TargetId=item.target_id,
        )
    )
    if failed_at == "matching":
        return steps
    if failed_at == "processing":
        steps.append(step("EntrySynchronizationEvaluate", "processing", "failure", item.error.reason))
        return steps
    plan = item.plan
    if plan is None:
        return steps
    if plan.kind in EXPORT_VERBS:
        name, done, verb = EXPORT_VERBS[plan.kind]
        failed = item.error is not None and failed_at != "access"  # a refused grant leaves the user's write done
        if failed:
            text = f"Failed to {verb} {who} in {TARGET_SYSTEM}: {item.error.reason}"
        elif dry_run:
            text = f"{who} would be {done} in {TARGET_SYSTEM} (dry run: nothing was sent)"
        else:
            text = f"{who} was {done} in {TARGET_SYSTEM}"
        steps.append(step(name, "export", "failure" if failed else "success", text, Reason=plan.reason))
    else:
        steps.append(step("EntrySynchronizationSkipped", "processing", "skipped", plan.reason))
    if item.access_changes:
        steps.append(access_summary_step(item.access_changes, who, dry_run))
    return steps


def access_summary_step(changes: list[AccessChange], who: str, dry_run: bool) -> dict:
    """The grants and revokes of one user as one log step (each one is a row of Modified Properties; provision on
    demand shows them one step each): the failed ones first, with their codes."""
    failed = [c for c in changes if not c.ok]
    texts = [access_text(c, who, dry_run) for c in (failed + [c for c in changes if c.ok] if failed else changes)]
    codes = ", ".join(dict.fromkeys(c.code for c in failed))
    return step("EntryExportAccess", "export", "failure" if failed else "success", " ".join(
        t if t.endswith(".") else t + "." for t in texts), **({"ErrorCode": codes} if codes else {}))  # fmt: skip


ACCESS_STEPS = {  # action -> (step name, past participle)
    "grant": ("EntryExportAccessGrant", "granted"),
    "revoke": ("EntryExportAccessRevoke", "revoked"),
    "freeze": ("EntryExportFreeze", "frozen"),
    "unfreeze": ("EntryExportUnfreeze", "unfrozen"),
}


def access_step(change: AccessChange, who: str, dry_run: bool) -> dict:
    """One grant or revoke of Salesforce access as a log step."""
    name = ACCESS_STEPS[change.action][0]
    text = access_text(change, who, dry_run)
    if not change.ok:
        return step(name, "export", "failure", text, ErrorCode=change.code)
    return step(name, "export", "success", text, RecordId=change.record_id)


def access_text(change: AccessChange, who: str, dry_run: bool) -> str:
    """What a grant or revoke did, as its log step says it (the user's summary step joins these)."""
    what = f"{change.kind_label} '{change.name}'"
    given = f" (app role {', '.join(change.roles)})" if change.roles else ""
    done = ACCESS_STEPS[change.action][1]
    if change.action in ("freeze", "unfreeze"):
        what = who
        who = "the user"
    if not change.ok:
        return f"{what} was not {done} for {who}: {change.message}"
    if change.action == "grant" and change.outside:
        text = f"{who} already has {what}, granted outside this console: left as it is"
    elif change.action in ("freeze", "unfreeze"):
        why = f": {change.message}" if change.message else ""
        text = f"{what} {'would be' if dry_run else 'was'} {done} in {TARGET_SYSTEM}{why}"
    elif dry_run:
        text = f"{what} would be {done} for {who}{given} (dry run: nothing was sent)"
    else:
        outside = " (granted outside this console; removal of outside grants is on for it)" if change.outside else ""
        text = f"{what} was {done} for {who}{given}{outside}"
    return text


def access_properties(item: WorkItem) -> list[dict]:
    """Modified Properties rows of the grants and revokes that went through (or would, in a dry run)."""
    rows = []
    for change in item.access_changes:
        if not change.ok or (change.action == "grant" and change.outside):
            continue
        if change.action in ("freeze", "unfreeze"):
            frozen = change.action == "freeze"
            rows.append({"displayName": "UserLogin.IsFrozen", "oldValue": str(not frozen), "newValue": str(frozen)})
            continue
        old, new = ("", change.name) if change.action == "grant" else (change.name, "")
        rows.append({"displayName": change.kind_label, "oldValue": old, "newValue": new})
    return rows


def modified_properties(item: WorkItem, redacted: frozenset[str] = frozenset()) -> list[dict]:
    if item.plan is None or not item.plan.changes:
        return access_properties(item)
    rows = []
    for name, value in item.plan.changes.items():
        old = item.plan.old.get(name)
        if name in redacted:  # neither the new value nor what Salesforce held before
            old, value = (REDACTED if old not in (None, "") else None), REDACTED
        rows.append({"displayName": name, "oldValue": shown(old), "newValue": shown(value)})
    return rows + access_properties(item)


def entry_values(item: WorkItem, cycle: ProvisioningCycle, redacted: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The log entry of an item, as its fields' values (attribute names; its change id and key left to the row)."""
    plan = item.plan
    if (item.error and item.error.category == WARNING) or (item.error is None and item.warnings):
        status = LogStatus.WARNING
    elif item.error:
        status = LogStatus.FAILURE
    elif plan is not None and plan.kind == PlanKind.SKIP:
        status = LogStatus.SKIPPED
    else:
        status = LogStatus.SUCCESS
    if plan is not None:
        action = ACTIONS[plan.kind]
        if plan.kind in (PlanKind.UNCHANGED, PlanKind.SKIP) and any(c.ok for c in item.access_changes):
            action = LogAction.UPDATE  # only the user's access changed
    else:
        action = LogAction.CREATE if item.target is None and item.in_scope else LogAction.OTHER
    error = item.error
    return {
        "job_id": cycle.job_id,
        "cycle_id": cycle.pk,
        "activity_at": timezone.now(),
        "action": action,
        "status": status,
        "dry_run": cycle.dry_run,
        "source_id": item.source_id,
        "source_display_name": item.display_name or "",
        "source_upn": item.upn or "",
        "target_id": item.target_id or "",
        "target_display_name": item.target_name or "",
        "modified_properties": modified_properties(item, redacted),
        "steps": steps_for(item, cycle.dry_run),
        "error_code": error.code if error else "",
        "error_reason": error.reason if error else " ".join(item.warnings),
        "error_recommendation": error.recommendation if error else "",
        "error_category": error.category if error else "",
        "duration_ms": max(0, int((time.monotonic() - item.started) * 1000)),
        "escrow_attempt": item.escrow_attempt,
        "next_attempt_at": item.next_attempt_at,
    }


def entry_for(item: WorkItem, cycle: ProvisioningCycle, redacted: frozenset[str] = frozenset()) -> ProvisioningLogEntry:
    values = entry_values(item, cycle, redacted)
    del values["cycle_id"]
    return ProvisioningLogEntry(cycle=cycle, **values).fit_columns()


def should_log(item: WorkItem, *, initial: bool) -> bool:
    """Unchanged users are counted, not logged; skips of users never provisioned are only logged outside
    initial cycles (an initial cycle over "Sync all users" would otherwise log the whole tenant)."""
    if item.error or item.access_changes or item.warnings:
        return True
    if item.plan is None or item.plan.kind == PlanKind.UNCHANGED:
        return False
    if item.plan.kind == PlanKind.SKIP:
        return not initial or item.target is not None
    return True


# The columns a log row is written with (console/bulk.py), and the strings among them cut to their column's length as
# the model's fit_columns() does.
_LOGGED = [field for field in ProvisioningLogEntry._meta.concrete_fields if not field.primary_key]
LOG_COLUMNS = [field.column for field in _LOGGED]
_NAMES = [field.attname for field in _LOGGED]
_LIMITS = [(n, field.max_length) for n, field in enumerate(_LOGGED) if field.max_length]


def log_row(item: WorkItem, cycle: ProvisioningCycle, redacted: frozenset[str] = frozenset()) -> list[Any]:
    """The row of LOG_COLUMNS that `entry_for(...)` would save, without building the model instance."""
    values = entry_values(item, cycle, redacted)
    values["change_id"] = new_guid()
    row = [values[name] for name in _NAMES]
    for n, limit in _LIMITS:
        value = row[n]
        if isinstance(value, str) and len(value) > limit:
            row[n] = value[:limit]
    return row


class LogWriter:
    """Collects a page's entries and writes them at once per flush (COPY on PostgreSQL: console/bulk.py)."""

    def __init__(
        self, cycle: ProvisioningCycle, *, redacted_targets: frozenset[str] = frozenset(), batch_size: int = 500
    ) -> None:
        self.cycle = cycle
        self.redacted_targets = redacted_targets
        self.batch_size = batch_size
        self.pending: list[list[Any]] = []
        self.written = 0

    def add(self, item: WorkItem) -> None:
        self.pending.append(log_row(item, self.cycle, self.redacted_targets))

    def flush(self) -> int:
        if not self.pending:
            return 0
        count = insert_rows(ProvisioningLogEntry, LOG_COLUMNS, self.pending)
        self.written += count
        self.pending = []
        return count
