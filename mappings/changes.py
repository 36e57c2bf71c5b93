"""Every change of a mapping goes through here: the version is bumped (so the next cycle is an initial one, as in
Entra, where saving mappings or scope re-evaluates every object) and one audit entry names what changed.

Rows and filters replaced wholesale (an import, Restore default mappings) are updated in place where they keep their
target attribute or title, so a form open on one of them is refused with the change shown rather than answered
"not found"; those that go leave a record of who deleted them (console/concurrency.py)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from console.concurrency import (
    Conflict,
    EditConflict,
    change,
    history,
    record_deletion,
    save_changes,
    snapshot,
    write_record,
)
from console.models import AuditActivity, record_audit
from mappings.expressions import Attribute, Call, ExpressionError, String, parse, unparse
from mappings.models import AttributeMapping, MappingType, ObjectMapping, ScopingClause, ScopingFilter

# Rows whose Append(...) expression carries the sandbox suffix.
SUFFIXED_TARGETS = ("Username", "Email")


def record_mapping_change(
    object_mapping: ObjectMapping,
    *,
    actor=None,
    changed_fields: Iterable[str] = (),
    detail: str = "",
    expected_version: int | None = None,
) -> None:
    """Bump the version (atomically, so two concurrent saves both count) and write the audit entry.

    With `expected_version` (an import or a restore from a page or a command that saw that version), the bump is
    conditional and EditConflict is raised when the mapping changed since: call it before writing anything else.
    """
    rows = ObjectMapping.objects.filter(pk=object_mapping.pk)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    if not rows.update(version=models.F("version") + 1):
        records = history(ObjectMapping, object_mapping.pk, after=expected_version or 0, version_field="version")
        current = ObjectMapping.objects.filter(pk=object_mapping.pk).values_list("version", flat=True).first()
        raise EditConflict(Conflict(records=records, current_version=current))
    object_mapping.refresh_from_db(fields=["version", "updated_at"])
    changed_fields = list(changed_fields)
    write_record(
        object_mapping,
        object_mapping.version,
        [change(name, name, "", "") for name in changed_fields],
        actor=actor,
        summary=detail,
        version_field="version",
    )
    record_audit(
        AuditActivity.UPDATE_MAPPINGS,
        actor=actor,
        application=object_mapping.application,
        changed_fields=changed_fields,
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


# The columns of a row an import or a restore sets (all but its identity and version).
ROW_FIELDS = tuple(
    f.name for f in AttributeMapping._meta.concrete_fields if f.name not in ("id", "object_mapping", "edit_version")
)


def replace_attribute_rows(
    object_mapping: ObjectMapping, rows: Iterable[AttributeMapping], *, actor=None, summary: str = ""
) -> None:
    """Make the mapping's rows `rows`: a row whose target attribute is kept is updated in place (its version bumped
    when it changes), the others are created or deleted."""
    existing = {
        row.target_attribute: row
        for row in AttributeMapping.objects.select_for_update().filter(object_mapping=object_mapping)
    }
    new = []
    for row in rows:
        current = existing.pop(row.target_attribute, None)
        if current is None:
            row.object_mapping = object_mapping
            new.append(row)
            continue
        before = snapshot(current, ROW_FIELDS)
        for name in ROW_FIELDS:
            setattr(current, name, getattr(row, name))
        save_changes(current, ROW_FIELDS, before=before, actor=actor, summary=summary, quiet=("graph_source",))
    for gone in existing.values():
        record_deletion(gone, actor=actor, summary=summary)
        gone.delete()
    AttributeMapping.objects.bulk_create(new)


def clauses_text(clauses: Iterable[ScopingClause | tuple[str, str, str]]) -> str:
    """A filter's clauses as one line, "department EQUALS Sales; city REGEX MATCH ^Sea"."""
    parts = [
        str(c) if isinstance(c, ScopingClause) else str(ScopingClause(attribute=c[0], operator=c[1], value=c[2]))
        for c in clauses
    ]
    return "; ".join(parts)


def write_clauses(scoping_filter: ScopingFilter, clauses: list[tuple[str, str, str]]) -> None:
    """The filter's clauses become `clauses` (the caller versions the filter)."""
    scoping_filter.clauses.all().delete()
    ScopingClause.objects.bulk_create(
        ScopingClause(scoping_filter=scoping_filter, attribute=a, operator=o, value=v) for a, o, v in clauses
    )


def set_clauses(
    scoping_filter: ScopingFilter, clauses: list[tuple[str, str, str]], *, actor=None, summary: str = ""
) -> bool:
    """Replace the filter's clauses and bump its version when they differ; True when they changed."""
    before = clauses_text(scoping_filter.clauses.all())
    if before == clauses_text(clauses):
        return False
    write_clauses(scoping_filter, clauses)
    extra = [change("clauses", "Clauses", before, clauses_text(clauses))]
    save_changes(scoping_filter, [], before={}, actor=actor, summary=summary, extra=extra)
    return True


def replace_scoping_filters(
    object_mapping: ObjectMapping,
    filters: Iterable[tuple[str, list[tuple[str, str, str]]]],
    *,
    actor=None,
    summary: str = "",
) -> None:
    """Make the mapping's filters `filters` ((title, clauses) pairs); a filter whose title stays keeps its identity."""
    existing: dict[str, ScopingFilter] = {}
    extra_copies = []
    for scoping_filter in ScopingFilter.objects.select_for_update().filter(object_mapping=object_mapping):
        if scoping_filter.title in existing:
            extra_copies.append(scoping_filter)
        else:
            existing[scoping_filter.title] = scoping_filter
    for title, clauses in filters:
        current = existing.pop(title[:200], None)
        if current is None:
            current = ScopingFilter.objects.create(object_mapping=object_mapping, title=title[:200])
        set_clauses(current, clauses, actor=actor, summary=summary)
    for gone in [*existing.values(), *extra_copies]:
        record_deletion(gone, actor=actor, summary=summary)
        gone.delete()


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


def apply_sandbox_suffix(
    object_mapping: ObjectMapping, old: str, new: str, *, actor=None
) -> tuple[list[str], list[str]]:
    """Rewrite the Username/Email Append expressions that carry the `old` suffix to carry `new` (the caller saves
    the suffix itself and records the change). Each rewritten row's version is bumped, so a form open on it is
    refused rather than writing the old suffix back.

    Returns (targets rewritten, targets left alone because they no longer have the default shape).
    """
    rewritten: list[str] = []
    skipped: list[str] = []
    rows = AttributeMapping.objects.select_for_update().filter(
        object_mapping=object_mapping, target_attribute__in=SUFFIXED_TARGETS
    )
    for row in rows:
        updated = resuffix_expression(row.expression, old, new) if old and new else None
        if row.mapping_type != MappingType.EXPRESSION or updated is None:
            skipped.append(row.target_attribute)
            continue
        before = snapshot(row, ["expression"])
        row.expression = updated
        save_changes(row, ["expression"], before=before, actor=actor, summary=f"Sandbox suffix changed to {new}")
        rewritten.append(row.target_attribute)
    return sorted(rewritten), sorted(skipped)
