"""Every change of a mapping goes through here: the version is bumped (so the next cycle is an initial one, as in
Entra, where saving mappings or scope re-evaluates every object) and one audit entry names what changed."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from console.models import AuditActivity, record_audit
from mappings.expressions import Attribute, Call, ExpressionError, String, parse, unparse
from mappings.models import AttributeMapping, MappingType, ObjectMapping

# Rows whose Append(...) expression carries the sandbox suffix.
SUFFIXED_TARGETS = ("Username", "Email")


def record_mapping_change(
    object_mapping: ObjectMapping, *, actor=None, changed_fields: Iterable[str] = (), detail: str = ""
) -> None:
    """Bump the version (atomically, so two concurrent saves both count) and write the audit entry."""
    ObjectMapping.objects.filter(pk=object_mapping.pk).update(version=models.F("version") + 1)
    object_mapping.refresh_from_db(fields=["version", "updated_at"])
    record_audit(
        AuditActivity.UPDATE_MAPPINGS,
        actor=actor,
        application=object_mapping.application,
        changed_fields=list(changed_fields),
        detail=detail,
    )


def record_access_change(application, *, actor=None, changed_fields: Iterable[str] = (), detail: str = "") -> None:
    """A change of Salesforce access: the next cycle reads every user (as after a mapping change), so that users whose
    access changed are reconciled even when nothing else of theirs did; one audit entry names what changed."""
    ObjectMapping.objects.filter(application=application).update(version=models.F("version") + 1)
    record_audit(
        AuditActivity.UPDATE_ACCESS,
        actor=actor,
        application=application,
        changed_fields=list(changed_fields),
        detail=detail,
    )


def resuffix_expression(expression: str, old: str, new: str) -> str | None:
    """`Append([x], ".old")` -> `Append([x], ".new")`; None when the expression is not of that shape."""
    try:
        node = parse(expression)
    except ExpressionError:
        return None
    if not (
        isinstance(node, Call)
        and node.name == "Append"
        and len(node.args) == 2
        and isinstance(node.args[0], Attribute)
        and isinstance(node.args[1], String)
        and node.args[1].value == f".{old}"
    ):
        return None
    return unparse(Call("Append", (node.args[0], String(f".{new}"))))


def apply_sandbox_suffix(object_mapping: ObjectMapping, new_suffix: str) -> tuple[list[str], list[str]]:
    """Set the suffix and rewrite the Username/Email Append expressions that carry the old one.

    Returns (targets rewritten, targets left alone because they no longer have the default shape). The caller
    saves the object mapping and records the change.
    """
    old = object_mapping.sandbox_suffix
    object_mapping.sandbox_suffix = new_suffix
    rewritten: list[str] = []
    skipped: list[str] = []
    rows = AttributeMapping.objects.filter(object_mapping=object_mapping, target_attribute__in=SUFFIXED_TARGETS)
    for row in rows:
        if row.mapping_type != MappingType.EXPRESSION:
            skipped.append(row.target_attribute)
            continue
        updated = resuffix_expression(row.expression, old, new_suffix) if old and new_suffix else None
        if updated is None:
            skipped.append(row.target_attribute)
            continue
        row.expression = updated
        row.save(update_fields=["expression"])
        rewritten.append(row.target_attribute)
    return sorted(rewritten), sorted(skipped)
