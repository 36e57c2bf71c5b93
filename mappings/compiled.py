"""A mapping ready for a cycle: every expression parsed and checked once, then evaluated per user.

Entra's flow rules live here: nulls never flow; "Default value if null" only when the object is created;
"Only during object creation" rows only then too; IgnoreFlowIfNullOrEmpty drops the attribute; values of a
row that uses Redact() are marked so the log shows "[Redact]".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mappings.expressions import (
    IGNORE_FLOW,
    Attribute,
    Call,
    Context,
    EvaluationError,
    ExpressionError,
    Node,
    Redacted,
    String,
    check,
    compile_node,
    parse,
    walk,
)
from mappings.expressions.values import TargetDirectory, TenantDirectory, normalise
from mappings.models import AttributeMapping, FlowType, MappingType, ObjectMapping
from mappings.rules import SELECT_UNIQUE_VALUE, row_errors
from mappings.scoping import FilterSpec, ScopeDecision, evaluate_scoping, filter_specs

_NO_PRECEDENCE = 10_000


class MappingError(Exception):
    """One attribute could not be computed for one user (e.g. two app roles): that user fails, the cycle goes on."""

    def __init__(self, target_attribute: str, message: str) -> None:
        self.target_attribute = target_attribute
        self.message = message
        super().__init__(f"{target_attribute}: {message}")


class InvalidMappingError(ValueError):
    """A saved row cannot be compiled (an expression that no longer validates): the cycle cannot run."""

    def __init__(self, target_attribute: str, message: str) -> None:
        self.target_attribute = target_attribute
        self.message = message
        super().__init__(f"{target_attribute}: {message}")


@dataclass(frozen=True)
class CompiledAttribute:
    target: str
    mapping_type: str
    source: str  # as the editor shows it: attribute name, "constant" or the expression text
    run: Callable[[Context], Any] | None  # None: mapping type None (default only)
    default: str | None
    add_only: bool
    redacted: bool


@dataclass
class CompiledMapping:
    source_attributes: set[str]
    matching: list[tuple[str, ...]]  # (target attribute, source as shown), in matching precedence order
    attributes: list[CompiledAttribute] = field(default_factory=list)
    filters: list[FilterSpec] = field(default_factory=list)
    redacted_targets: frozenset[str] = frozenset()
    enabled: bool = True
    action_create: bool = True
    action_update: bool = True
    action_delete: bool = True
    version: int = 0
    functions: frozenset[str] = frozenset()  # the functions the expressions call
    # What DefaultDomain and SelectUniqueValue look up (Context's directory and target), bound for a cycle.
    lookups: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_target = {a.target: a for a in self.attributes}
        self._matching_rows = [by_target[m[0]] for m in self.matching if m[0] in by_target]

    def bind(self, *, directory: TenantDirectory | None = None, target: TargetDirectory | None = None) -> None:
        """Give the evaluations of this mapping the source tenant and the target to look things up in."""
        self.lookups = {k: v for k, v in (("directory", directory), ("target", target)) if v is not None}

    def start_page(self) -> None:
        """A new page of users: what the target told about the last page is forgotten (its cache is per page)."""
        start = getattr(self.lookups.get("target"), "start_page", None)
        if start is not None:
            start()

    def evaluate(
        self, user: Mapping[str, Any], *, creating: bool, now: datetime | None = None, **lookups: Any
    ) -> dict[str, Any]:
        """Target attribute -> value to write for `user`. `lookups`: the Context's directory (DefaultDomain) and
        target (SelectUniqueValue), by default those bound. Raises MappingError for a per-user failure."""
        ctx = Context(user, now, **({**self.lookups, **lookups} if lookups else self.lookups))
        out: dict[str, Any] = {}
        for row in self.attributes:
            if row.add_only and not creating:
                continue
            ctx.target_attribute = row.target
            value = _value(row, ctx)
            if value is IGNORE_FLOW:
                continue
            if value is None:
                if not (creating and row.default):
                    continue
                value = row.default
            if row.redacted:
                value = _redact(value)
            out[row.target] = value
        return out

    def match_values(
        self, user: Mapping[str, Any], *, now: datetime | None = None, **lookups: Any
    ) -> list[tuple[str, Any]]:
        """(target attribute, value) of each matching attribute that has a value for `user`, in precedence
        order: the first one found in the target wins. Defaults do not take part in matching."""
        ctx = Context(user, now, **({**self.lookups, **lookups} if lookups else self.lookups))
        values = []
        for row in self._matching_rows:
            ctx.target_attribute = row.target
            value = _value(row, ctx)
            if value is not None and value is not IGNORE_FLOW:
                values.append((row.target, value))
        return values

    def scope(self, user: Mapping[str, Any]) -> ScopeDecision:
        return evaluate_scoping(self.filters, user)

    def display(self, target: str, value: Any) -> Any:
        """The value as the provisioning log may show it."""
        if target in self.redacted_targets or isinstance(value, Redacted):
            return "[Redact]"
        return value


def _value(row: CompiledAttribute, ctx: Context) -> Any:
    if row.run is None:
        return None
    try:
        value = normalise(row.run(ctx))
    except EvaluationError as exc:
        raise MappingError(row.target, str(exc)) from exc
    if value == "" or value == []:
        return None  # empty values are not provisioned, like nulls (Choice: Entra writes neither)
    return value


def _redact(value: Any) -> Any:
    if isinstance(value, list):
        return [v if isinstance(v, Redacted) else Redacted(v) for v in value]
    return value if isinstance(value, Redacted) else Redacted(str(value))


def _node(row: AttributeMapping) -> tuple[Node | None, str]:
    if row.mapping_type == MappingType.DIRECT:
        if not row.source_attribute:
            raise InvalidMappingError(row.target_attribute, "a Direct mapping needs a source attribute")
        return Attribute(row.source_attribute), row.source_attribute
    if row.mapping_type == MappingType.CONSTANT:
        return String(row.constant_value), f'"{row.constant_value}"'
    if row.mapping_type == MappingType.EXPRESSION:
        try:
            node = parse(row.expression)
            check(node, check_attributes=False)
        except ExpressionError as exc:
            raise InvalidMappingError(row.target_attribute, str(exc)) from exc
        return node, row.expression
    return None, ""


def compile_mapping(
    object_mapping: ObjectMapping,
    *,
    attributes: Iterable[AttributeMapping] | None = None,
    filters: Iterable[Any] | None = None,
) -> CompiledMapping:
    """Compile the rows of `object_mapping` (or the given unsaved `attributes`/`filters`, e.g. for previews and
    benchmarks). Raises InvalidMappingError when a row cannot be compiled."""
    if attributes is None:
        attributes = object_mapping.attributes.all()
    if filters is None:
        filters = object_mapping.scoping_filters.prefetch_related("clauses") if object_mapping.pk else []
    compiled: list[CompiledAttribute] = []
    sources: set[str] = set()
    functions: set[str] = set()
    matching_rows: list[tuple[int, str, str]] = []
    for row in attributes:
        node, source = _node(row)
        nodes = list(walk(node)) if node is not None else []
        unique = isinstance(node, Call) and node.name == SELECT_UNIQUE_VALUE
        if unique and row.match_objects:
            raise InvalidMappingError(
                row.target_attribute, row_errors(row.expression, match_objects=True, add_only=True)[0]
            )
        sources.update(n.name for n in nodes if isinstance(n, Attribute))
        functions.update(n.name for n in nodes if isinstance(n, Call))
        compiled.append(
            CompiledAttribute(
                target=row.target_attribute,
                mapping_type=row.mapping_type,
                source=source,
                run=compile_node(node) if node is not None else None,
                default=row.default_value or None,
                # A SelectUniqueValue saved before the rule existed still never re-picks on update.
                add_only=row.flow_type == FlowType.OBJECT_ADD_ONLY or unique,
                redacted=any(isinstance(n, Call) and n.name == "Redact" for n in nodes),
            )
        )
        if row.match_objects:
            precedence = row.matching_precedence if row.matching_precedence is not None else _NO_PRECEDENCE
            matching_rows.append((precedence, row.target_attribute, source))
    specs = filter_specs(filters)
    sources.update(clause.attribute for spec in specs for clause in spec.clauses)
    return CompiledMapping(
        source_attributes=sources,
        matching=[(target, source) for _, target, source in sorted(matching_rows)],
        attributes=compiled,
        filters=specs,
        redacted_targets=frozenset(a.target for a in compiled if a.redacted),
        enabled=object_mapping.enabled,
        action_create=object_mapping.action_create,
        action_update=object_mapping.action_update,
        action_delete=object_mapping.action_delete,
        version=object_mapping.version,
        functions=frozenset(functions),
    )
