"""The mapping as Microsoft Graph's synchronization objectMapping JSON, both ways.

Export gives the shape Entra's schema editor shows and Graph's `synchronizationSchema` returns: attributeMappings
with a `source` tree ({expression, name, type Attribute|Constant|Function, parameters[{key, value}]}), scope as
filter groups (ORed) of clauses (ANDed). Import accepts that object, a list holder ({"objectMappings": [...]}) or a
whole schema ({"synchronizationRules": [{"objectMappings": [...]}]}). Everything is checked before anything is
written; the errors name their place, e.g. "attributeMappings[3] (target Alias): Mid expects 3 arguments, got 2
(column 14)". The top-level `expression` of a source is authoritative when present (Entra always fills it); the tree
is used only when it is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from console.concurrency import save_changes, snapshot
from mappings.access.models import AccessSettings
from mappings.changes import (
    SUFFIXED_TARGETS,
    record_mapping_change,
    replace_attribute_rows,
    replace_scoping_filters,
)
from mappings.directory.attributes import source_attributes
from mappings.expressions import Attribute, ExpressionError, String, parse, unparse, validate
from mappings.expressions.attributes import ADD_TO_LIST, suggest
from mappings.graph_schema import SchemaAttributes, save_schema_attributes, schema_attributes
from mappings.graph_tree import node_source, source_node
from mappings.models import (
    AttributeMapping,
    FlowBehavior,
    FlowType,
    MappingType,
    ObjectMapping,
)
from mappings.rules import row_errors
from mappings.scoping import MAX_CLAUSES_PER_FILTER, UNARY_OPERATORS, validate_clause
from mappings.targets import REQUIRED_TARGET_ATTRIBUTES, target_attribute_names

FLOW_TYPES = ("Add", "Update", "Delete")
# The object mapping's own columns an import sets.
IMPORTED_FIELDS = ("name", "enabled", "metadata", "action_create", "action_update", "action_delete", "sandbox_suffix")


class MappingImportError(ValueError):
    """The document cannot be imported; `errors` lists every problem with its place."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


# -- export --------------------------------------------------------------------------------------


def _tree_text(tree: dict[str, Any], where: str = "") -> str:
    """The expression a Function source stands for: its own text (authoritative), else its tree printed."""
    return tree.get("expression") or unparse(source_node(tree, where))


def _imported_source(row: AttributeMapping) -> dict[str, Any] | None:
    """The source tree imported for this row, while the row still says what it said (else None)."""
    tree = row.graph_source
    if not isinstance(tree, dict):
        return None
    kind = tree.get("type") or "Attribute"
    if row.mapping_type == MappingType.DIRECT:
        return tree if kind == "Attribute" and tree.get("name") == row.source_attribute else None
    if row.mapping_type == MappingType.CONSTANT:
        return tree if kind == "Constant" and (tree.get("name") or "") == row.constant_value else None
    if row.mapping_type == MappingType.EXPRESSION and kind == "Function":
        try:
            return tree if _tree_text(tree) == row.expression else None
        except ExpressionError:
            return None
    return None


def row_source(row: AttributeMapping) -> dict[str, Any] | None:
    imported = _imported_source(row)
    if imported is not None:
        return imported
    if row.mapping_type == MappingType.DIRECT:
        return node_source(Attribute(row.source_attribute))
    if row.mapping_type == MappingType.CONSTANT:
        return node_source(String(row.constant_value))
    if row.mapping_type == MappingType.EXPRESSION:
        try:
            source = node_source(parse(row.expression))
        except ExpressionError:
            source = {"expression": row.expression, "name": "", "parameters": [], "type": "Function"}
        source["expression"] = row.expression  # the text as written, so an export imports back unchanged
        return source
    return None


def export_object_mapping(object_mapping: ObjectMapping) -> dict[str, Any]:
    """The object mapping as Graph's objectMapping (no secrets: a mapping holds none)."""
    flow_types = [
        name
        for name, on in zip(
            FLOW_TYPES,
            (object_mapping.action_create, object_mapping.action_update, object_mapping.action_delete),
            strict=True,
        )
        if on
    ]
    groups = [
        {
            "name": f.title,
            "clauses": [
                {
                    "operatorName": c.operator,
                    "sourceOperandName": c.attribute,
                    "targetOperand": {"values": [] if c.operator in UNARY_OPERATORS else [c.value]},
                }
                for c in f.clauses.all()
            ],
        }
        for f in object_mapping.scoping_filters.prefetch_related("clauses")
    ]
    document = {
        "name": object_mapping.name,
        "enabled": object_mapping.enabled,
        "flowTypes": ", ".join(flow_types),
        "sourceObjectName": object_mapping.source_object,
        "targetObjectName": object_mapping.target_object,
        "attributeMappings": [
            {
                "defaultValue": row.default_value or None,
                "exportMissingReferences": row.export_missing_references,
                "flowBehavior": row.flow_behavior,
                "flowType": row.flow_type,
                "matchingPriority": (row.matching_precedence or 1) if row.match_objects else 0,
                "source": row_source(row),
                "targetAttributeName": row.target_attribute,
            }
            for row in object_mapping.attributes.order_by("target_attribute")
        ],
        "scope": {"groups": groups} if groups else None,
    }
    if object_mapping.metadata is not None:
        document["metadata"] = object_mapping.metadata
    return document


# -- import --------------------------------------------------------------------------------------


@dataclass
class ParsedMapping:
    """A checked document, ready to be written."""

    name: str
    enabled: bool
    actions: dict[str, bool]
    rows: list[AttributeMapping] = field(default_factory=list)
    filters: list[tuple[str, list[tuple[str, str, str]]]] = field(default_factory=list)
    suffix: str | None = None
    metadata: list[dict[str, Any]] | None = None
    attributes: SchemaAttributes = field(default_factory=SchemaAttributes)


def find_object_mapping(document: Any) -> dict[str, Any]:
    """The User objectMapping inside whatever Graph shape was given."""
    if not isinstance(document, dict):
        raise MappingImportError(["the document must be a JSON object"])
    if "attributeMappings" in document:
        return document
    holders = [document]
    for rule in document.get("synchronizationRules") or []:
        if isinstance(rule, dict):
            holders.append(rule)
    for holder in holders:
        for candidate in holder.get("objectMappings") or []:
            if isinstance(candidate, dict) and candidate.get("sourceObjectName", "User") == "User":
                return candidate
    raise MappingImportError(
        ["no objectMapping found: expected an object with attributeMappings, objectMappings or synchronizationRules"]
    )


@dataclass
class Lists:
    """The attribute lists a document is checked against: the application's, plus what the schema defines."""

    sources: set[str]
    targets: set[str]
    multivalued: set[str] = field(default_factory=set)


def _row(item: Any, where: str, lists: Lists, errors: list[str]) -> AttributeMapping | None:
    if not isinstance(item, dict):
        errors.append(f"{where}: expected an object")
        return None
    target = item.get("targetAttributeName") or ""
    where = f"{where} (target {target})" if target else where
    if not target:
        errors.append(f"{where}: targetAttributeName is missing")
        return None
    if target not in lists.targets:
        guess = suggest(target, lists.targets)
        hint = f": did you mean {guess}?" if guess else " (use Refresh target attributes for the org's custom fields)"
        errors.append(f"{where}: unknown target attribute {target}{hint}")
    flow_type = item.get("flowType") or FlowType.ALWAYS
    if flow_type not in FlowType.values:
        errors.append(f"{where}: flowType {flow_type} is not supported here (Always or ObjectAddOnly)")
    priority = item.get("matchingPriority") or 0
    if not isinstance(priority, int) or priority < 0:
        errors.append(f"{where}: matchingPriority must be a whole number of 0 or more")
        priority = 0
    behavior = item.get("flowBehavior") or FlowBehavior.FLOW_WHEN_CHANGED
    if behavior not in FlowBehavior.values:
        errors.append(f"{where}: flowBehavior {behavior} is not one of {', '.join(FlowBehavior.values)}")
    missing_references = item.get("exportMissingReferences", False)
    if not isinstance(missing_references, bool):
        errors.append(f"{where}: exportMissingReferences must be true or false")
    row = AttributeMapping(
        target_attribute=target,
        default_value=item.get("defaultValue") or "",
        match_objects=priority > 0,
        matching_precedence=priority or None,
        flow_type=flow_type,
        flow_behavior=behavior,
        export_missing_references=missing_references is True,
    )
    source = item.get("source")
    if source is None:
        row.mapping_type = MappingType.NONE
        return row
    if not isinstance(source, dict):
        errors.append(f"{where}: source must be an object or null")
        return row
    row.graph_source = source
    kind = source.get("type") or "Attribute"
    try:
        if kind == "Attribute":
            name = source.get("name") or ""
            if name not in lists.sources:
                guess = suggest(name, lists.sources)
                hint = f": did you mean [{guess}]?" if guess else f"; {ADD_TO_LIST}"
                raise ExpressionError(f"unknown attribute [{name}]{hint}", 0)
            row.mapping_type, row.source_attribute = MappingType.DIRECT, name
        elif kind == "Constant":
            row.mapping_type, row.constant_value = MappingType.CONSTANT, source.get("name") or ""
        elif kind == "Function":
            text = _tree_text(source, where)
            validate(text, lists.sources)
            row.mapping_type, row.expression = MappingType.EXPRESSION, text
            add_only = row.flow_type == FlowType.OBJECT_ADD_ONLY
            errors.extend(f"{where}: {e}" for e in row_errors(text, match_objects=row.match_objects, add_only=add_only))
        else:
            errors.append(f"{where}: unknown source type {kind!r} (Attribute, Constant or Function)")
    except ExpressionError as exc:
        errors.append(f"{where}: {exc}")
    return row


def _filters(scope: Any, lists: Lists, errors: list[str]) -> list[tuple[str, list[tuple[str, str, str]]]]:
    if scope in (None, {}):
        return []
    if not isinstance(scope, dict) or not isinstance(scope.get("groups") or [], list):
        errors.append("scope: expected {groups: [{clauses: [...]}]}")
        return []
    filters = []
    for g, group in enumerate(scope.get("groups") or []):
        clauses = []
        items = group.get("clauses") or [] if isinstance(group, dict) else []
        if len(items) > MAX_CLAUSES_PER_FILTER:
            errors.append(
                f"scope.groups[{g}]: {len(items)} clauses; a scoping filter holds at most {MAX_CLAUSES_PER_FILTER}"
            )
            continue
        for c, clause in enumerate(items):
            where = f"scope.groups[{g}].clauses[{c}]"
            attribute = clause.get("sourceOperandName") or ""
            operator = clause.get("operatorName") or ""
            values = (clause.get("targetOperand") or {}).get("values") or []
            if len(values) > 1:
                errors.append(f"{where}: only one value per clause is supported, got {len(values)}")
            value = "" if operator in UNARY_OPERATORS else str(values[0]) if values else ""
            try:
                validate_clause(attribute, operator, value, lists.sources, lists.multivalued)
            except ValueError as exc:
                errors.append(f"{where} ({attribute} {operator}): {exc}")
            clauses.append((attribute, operator, value))
        title = (group.get("name") if isinstance(group, dict) else None) or f"Scoping filter {g + 1}"
        filters.append((title, clauses))
    return filters


def _suffix(rows: list[AttributeMapping]) -> str | None:
    for row in rows:
        if row.target_attribute in SUFFIXED_TARGETS and row.mapping_type == MappingType.EXPRESSION:
            match = re.fullmatch(r'\s*Append\(\s*\[[^\]]+\]\s*,\s*"\.([^"\\]+)"\s*\)\s*', row.expression)
            if match:
                return match.group(1)
    return None


def parse_document(document: Any, lists: Lists) -> ParsedMapping:
    """Check a whole document against the attribute `lists`; raises MappingImportError listing every problem."""
    mapping = find_object_mapping(document)
    errors: list[str] = []
    defined = schema_attributes(document, lists.sources, lists.targets, errors)
    lists.multivalued |= {a.name for a in defined.sources if a.multivalued}
    items = mapping.get("attributeMappings")
    if not isinstance(items, list):
        raise MappingImportError(["attributeMappings: expected a list"])
    flow_text = mapping.get("flowTypes", "Add, Update, Delete") or ""
    tokens = [t.strip() for t in str(flow_text).split(",") if t.strip()]
    errors.extend(f"flowTypes: unknown flow type {t!r} (Add, Update, Delete)" for t in tokens if t not in FLOW_TYPES)
    rows = [r for i, item in enumerate(items) if (r := _row(item, f"attributeMappings[{i}]", lists, errors))]
    targets = [r.target_attribute for r in rows]
    errors.extend(
        f"attributeMappings: {t} is mapped more than once" for t in sorted({t for t in targets if targets.count(t) > 1})
    )
    missing = sorted(REQUIRED_TARGET_ATTRIBUTES - {"ProfileName", "ProfileId"} - set(targets))
    errors.extend(f"attributeMappings: required attribute {t} has no mapping" for t in missing)
    if not {"ProfileName", "ProfileId"} & set(targets):
        errors.append("attributeMappings: required attribute ProfileName (or ProfileId) has no mapping")
    if rows and not any(r.match_objects for r in rows):
        errors.append("attributeMappings: no attribute is used for matching (give one a matchingPriority of 1)")
    filters = _filters(mapping.get("scope"), lists, errors)
    metadata = mapping.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, list) and all(isinstance(m, dict) and isinstance(m.get("key"), str) for m in metadata)
    ):
        errors.append("metadata: expected a list of {key, value} entries")
    if errors:
        raise MappingImportError(errors)
    return ParsedMapping(
        name=str(mapping.get("name") or "")[:200],
        enabled=bool(mapping.get("enabled", True)),
        actions={
            "action_create": "Add" in tokens,
            "action_update": "Update" in tokens,
            "action_delete": "Delete" in tokens,
        },
        rows=rows,
        filters=filters,
        suffix=_suffix(rows),
        metadata=metadata,
        attributes=defined,
    )


def _added(attributes: SchemaAttributes) -> str:
    parts = [
        f"{len(rows)} {what} attribute(s) ({', '.join(r.name for r in rows)})"
        for what, rows in (("source", attributes.sources), ("target", attributes.targets))
        if rows
    ]
    return f"; added {' and '.join(parts)} to the attribute lists" if parts else ""


@transaction.atomic
def import_object_mapping(
    object_mapping: ObjectMapping, document: Any, *, actor=None, expected_version: int | None = None
) -> ParsedMapping:
    """Replace the mapping (rows, scope, flags) with the document's, or change nothing and raise
    MappingImportError. With `expected_version` (the mapping version the importer saw), raise EditConflict instead
    of importing over a change made since."""
    application = object_mapping.application
    sources = source_attributes(application)
    lists = Lists(
        sources=set(sources),
        targets=set(target_attribute_names(application)),
        multivalued={name for name, spec in sources.items() if spec.multivalued},
    )
    parsed = parse_document(document, lists)
    detail = f"Imported {len(parsed.rows)} attribute mappings and {len(parsed.filters)} scoping filters" + _added(
        parsed.attributes
    )
    record_mapping_change(
        object_mapping,
        actor=actor,
        changed_fields=["attributeMappings", "scope", "enabled", "flowTypes"],
        detail=detail,
        expected_version=expected_version,
    )
    save_schema_attributes(application, parsed.attributes)
    replace_attribute_rows(object_mapping, parsed.rows, actor=actor, summary=detail)
    replace_scoping_filters(object_mapping, parsed.filters, actor=actor, summary=detail)
    current = ObjectMapping.objects.select_for_update().get(pk=object_mapping.pk)
    before = snapshot(current, IMPORTED_FIELDS)
    if parsed.name:
        current.name = parsed.name
    current.enabled = parsed.enabled
    current.metadata = parsed.metadata
    for name, value in parsed.actions.items():
        setattr(current, name, value)
    if parsed.suffix:
        current.sandbox_suffix = parsed.suffix
    save_changes(current, IMPORTED_FIELDS, before=before, actor=actor, summary=detail, quiet=("metadata",))
    # A mapping from Entra keeps Entra's behaviour: its ProfileName expression decides the profile.
    access, _ = AccessSettings.objects.select_for_update().get_or_create(application=application)
    before = snapshot(access, ["profile_by_precedence"])
    access.profile_by_precedence = False
    save_changes(access, ["profile_by_precedence"], before=before, actor=actor, summary=detail)
    object_mapping.refresh_from_db()
    return parsed
