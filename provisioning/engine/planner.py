"""Plan: what one user needs in Salesforce, decided from values alone (no I/O, no database).

Given the mapped values (or that the user is out of scope), the target as known (from the link's last
exported values or the matched Salesforce record) and the object mapping's actions, decide: create, update
only the attributes that changed, disable, enable, skip, or nothing at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mappings.expressions import Redacted

ACTIVE = "IsActive"


class PlanKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    ENABLE = "enable"
    DISABLE = "disable"
    SKIP = "skip"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Policy:
    """The Target Object Actions and the skip flag that bound what a plan may do."""

    create: bool = True
    update: bool = True
    delete: bool = True  # "Delete" deactivates: Salesforce users are never deleted
    skip_out_of_scope_deletions: bool = False


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


def redaction_marker(value: str) -> str:
    """What is remembered of a Redact()-ed value: enough to notice a change, nothing to read it back."""
    return "[Redact]:" + hashlib.sha256(value.encode()).hexdigest()[:32]


def is_redacted(value: Any) -> bool:
    return isinstance(value, Redacted)


def comparable(value: Any) -> Any:
    """Values as compared: booleans and "True"/"false" alike, blanks as None, lists as tuples."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if is_redacted(value):
            return redaction_marker(value)
        if value.lower() in ("true", "false"):
            return value.lower()
        return value
    if isinstance(value, list | tuple):
        return tuple(comparable(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def is_true(value: Any) -> bool:
    return comparable(value) == "true"


def plan(desired: Mapping[str, Any] | None, *, in_scope: bool, target: TargetState | None, policy: Policy) -> Plan:
    """Decide the action for one user.

    `desired` is what the mappings produce (evaluated with creating=True when `target` is None); it is
    ignored for a user out of scope. `in_scope` is False for a user unassigned, filtered out, disabled or
    soft-deleted in Entra.
    """
    if not in_scope:
        if target is None:
            return Plan(PlanKind.SKIP, reason="The user is not in scope and has no Salesforce user.")
        if not target.active:
            return Plan(PlanKind.UNCHANGED, reason="The Salesforce user is already deactivated.")
        if not policy.delete:
            return Plan(PlanKind.SKIP, reason="Out of scope; the Delete target object action is off.")
        if policy.skip_out_of_scope_deletions:
            return Plan(PlanKind.SKIP, reason="Out of scope; Skip out of scope deletions is on.")
        return Plan(PlanKind.DISABLE, changes={ACTIVE: False}, old={ACTIVE: True}, reason="Out of scope.")

    wanted = dict(desired or {})
    wanted.setdefault(ACTIVE, True)
    if target is None:
        if not policy.create:
            return Plan(PlanKind.SKIP, reason="No matching Salesforce user; the Create target object action is off.")
        return Plan(PlanKind.CREATE, changes=wanted, reason="No matching Salesforce user was found.")

    baseline = dict(target.values)
    baseline[ACTIVE] = target.active
    changes = {name: value for name, value in wanted.items() if comparable(value) != comparable(baseline.get(name))}
    if not changes:
        return Plan(PlanKind.UNCHANGED, reason="Source and target already match.")
    if not policy.update:
        return Plan(PlanKind.SKIP, reason="Attributes differ; the Update target object action is off.")
    old = {name: baseline.get(name) for name in changes}
    if not target.active and is_true(changes.get(ACTIVE)):
        return Plan(PlanKind.ENABLE, changes=changes, old=old, reason="The user is in scope again.")
    if target.active and ACTIVE in changes and not is_true(changes[ACTIVE]):
        return Plan(PlanKind.DISABLE, changes=changes, old=old, reason="The mappings deactivate the user.")
    return Plan(PlanKind.UPDATE, changes=changes, old=old, reason="Attributes changed.")
