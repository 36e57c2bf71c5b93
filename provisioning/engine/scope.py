"""Scope: is a source user one Salesforce should have (assigned, passing the scoping filters, active)?"""

from __future__ import annotations

from mappings.compiled import CompiledMapping
from provisioning.engine.items import ItemError, WorkItem


def decide_scope(item: WorkItem, compiled: CompiledMapping, *, sync_all: bool, assigned: bool, removed: bool) -> None:
    """Set item.in_scope and the reasons Entra's "Determine if user is in scope" step shows."""
    user = item.user or {}
    reasons: list[str] = []
    in_scope = True
    if removed:
        in_scope = False
        reasons.append("Active in source system: no (soft-deleted in Microsoft Entra ID)")
    elif user.get("accountEnabled") is False:
        in_scope = False
        reasons.append("Active in source system: no (sign-in blocked in Microsoft Entra ID)")
    else:
        reasons.append("Active in source system: yes")
    if sync_all:
        reasons.append("Scope sync all: yes")
    elif assigned:
        reasons.append("Assigned to application: yes")
    else:
        in_scope = False
        reasons.append("Assigned to application: no")
    if in_scope:
        try:
            decision = compiled.scope(user)
        except Exception as exc:  # doubt: this user fails (escrowed) and nothing is written, never out of scope
            reasons.extend(getattr(exc, "reasons", ()))
            item.fail(
                ItemError(
                    "ScopingFilterError",
                    f"The scoping filters could not be evaluated: {exc}",
                    "Nothing was changed for this user in Salesforce (a provisioned user stays as they are, never "
                    "deactivated on doubt); the user is retried. Fix the scoping filter (simplify the regular "
                    "expression, check the value) or the user's attribute in Entra.",
                    step="scoping",
                )
            )
            decision = None
        if decision is not None:
            reasons.extend(decision.reasons)
            in_scope = bool(decision.in_scope)
    item.in_scope = in_scope
    item.scope_reasons = reasons
