"""Plan: what one user needs in Salesforce, decided from values alone (no I/O, no database).

Given the mapped values (or that the user is out of scope), the target as known (from the link's last
exported values or the matched Salesforce record) and the object mapping's actions, decide: create, update
only the attributes that changed, disable, enable, skip, or nothing at all. Values are compared as their
target attribute's type says (mappings/target_types.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mappings.target_types import TargetTypes, comparable_checkbox
from provisioning.engine.items import Plan, PlanKind, TargetState, WorkItem

ACTIVE = "IsActive"


@dataclass(frozen=True)
class Policy:
    """The Target Object Actions and the skip flag that bound what a plan may do."""

    create: bool = True
    update: bool = True
    delete: bool = True  # "Delete" deactivates: Salesforce users are never deleted
    skip_out_of_scope_deletions: bool = False


def is_true(value: Any) -> bool:
    """An IsActive value that activates."""
    return comparable_checkbox(value) == "true"


STANDARD_TYPES = TargetTypes()
PLAIN = frozenset({str, bool, int})  # exact types whose equal values are equal when compared (not Redacted, a list)


def plan(
    desired: Mapping[str, Any] | None,
    *,
    in_scope: bool,
    target: TargetState | None,
    policy: Policy,
    types: TargetTypes = STANDARD_TYPES,
) -> Plan:
    """Decide the action for one user.

    `desired` is what the mappings produce (evaluated with creating=True when `target` is None); it is
    ignored for a user out of scope. `in_scope` is False for a user unassigned, filtered out, disabled or
    soft-deleted in Entra. `types` are the application's target attribute types.
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
    changes = {}
    for name, value in wanted.items():
        current = baseline.get(name)
        if type(value) is type(current) and type(value) in PLAIN and value == current:
            continue  # the same plain value compares the same: most values of an unchanged user
        if types.comparable(name, value) != types.comparable(name, current):
            changes[name] = value
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


def plan_items(items: Sequence[WorkItem], policy: Policy, types: TargetTypes = STANDARD_TYPES) -> None:
    """Plan each item that has not failed (its mapped values in item.desired)."""
    for item in items:
        if item.error:
            continue
        item.plan = plan(item.desired, in_scope=item.in_scope, target=item.target, policy=policy, types=types)
        if item.desired and not item.target_name:
            item.target_name = str(item.desired.get("Username") or "")
