"""Test expression: evaluate an expression for one user, live from Graph or a typed sample, with the very same
parser, checker and evaluator the engine runs each cycle."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connections.clients.errors import RemoteError
from connections.clients.graph import GraphClient
from connections.clients.salesforce import SalesforceClient
from connections.models import Application
from console.json_input import load_json
from mappings.directory.assignments import AssignmentReader
from mappings.directory.attributes import source_attribute_names
from mappings.directory.users import select_for, source_user
from mappings.expressions import (
    IGNORE_FLOW,
    Attribute,
    Call,
    EvaluationError,
    ExpressionError,
    Redacted,
    compile_expression,
    parse,
    validate,
    walk,
)
from mappings.lookups import GraphTenant, SalesforceUniqueness


@dataclass
class ExpressionTest:
    ok: bool
    result: str = ""  # the value as the log would show it
    error: str = ""
    user: dict[str, Any] = field(default_factory=dict)  # the attributes the expression read


def attributes_of(expression: str) -> list[str]:
    """The attributes an expression reads (parse errors raise ExpressionError)."""
    return sorted({n.name for n in walk(parse(expression)) if isinstance(n, Attribute)})


def show(value: Any) -> str:
    if value is IGNORE_FLOW:
        return "(not sent: IgnoreFlowIfNullOrEmpty dropped the attribute)"
    if value is None or value == "" or value == []:
        return "(null: nothing flows; the default value applies when the user is created)"
    if isinstance(value, Redacted):
        return f"{value} (shown as [Redact] in the provisioning logs)"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def run_expression(
    expression: str, user: Mapping[str, Any], *, known: Iterable[str] | None = None, **lookups: Any
) -> ExpressionTest:
    """Check `expression` against the attribute list `known` (the application's; Entra's own when None) and
    evaluate it for `user` (`lookups`: the Context's directory and target); errors come back in the result."""
    try:
        validate(expression, known)
        names = attributes_of(expression)
        value = compile_expression(parse(expression))(user, **lookups)
    except ExpressionError as exc:
        return ExpressionTest(ok=False, error=str(exc))
    except EvaluationError as exc:
        return ExpressionTest(ok=False, error=str(exc), user={n: user.get(n) for n in attributes_of(expression)})
    return ExpressionTest(ok=True, result=show(value), user={n: user.get(n) for n in names})


def parse_sample(text: str) -> dict[str, Any]:
    """A typed sample user; raises ValueError with what is wrong."""
    sample = load_json(text, what="The sample")  # JsonInputError is a ValueError
    if not isinstance(sample, dict):
        raise ValueError('The sample must be a JSON object such as {"userPrincipalName": "john@contoso.com"}.')
    sample.setdefault("IsSoftDeleted", "False")
    sample.setdefault("appRoleAssignments", [])
    return sample


def read_user(application: Application, id_or_upn: str, attributes: list[str]) -> dict[str, Any]:
    """The user as the engine sees it (source_user): Graph properties plus the pseudo-attributes. The roles are read
    only when the expression uses appRoleAssignments (a few more Graph calls).

    Raises RemoteError (NotFound for an unknown user).
    """
    graph = GraphClient(application.entra)
    raw = graph.get_user(id_or_upn.strip(), select_for(attributes))
    roles = AssignmentReader(graph).roles_of(raw.get("id", "")) if "appRoleAssignments" in attributes else None
    return source_user(raw, roles or ())


def lookups_for(application: Application, expression: str, target_attribute: str = "") -> dict[str, Any]:
    """What DefaultDomain and SelectUniqueValue look up when the expression calls them: the application's tenant
    (read live) and its Salesforce org (the candidates checked in `target_attribute`)."""
    try:
        called = {n.name for n in walk(parse(expression)) if isinstance(n, Call)}
    except ExpressionError:
        return {}
    lookups: dict[str, Any] = {"target_attribute": target_attribute}
    if "DefaultDomain" in called:
        lookups["directory"] = GraphTenant(GraphClient(application.entra))
    if "SelectUniqueValue" in called and target_attribute:
        lookups["target"] = SalesforceUniqueness(SalesforceClient(application.salesforce))
    return lookups


def evaluate_sample(
    application: Application, expression: str, sample: Mapping[str, Any], target_attribute: str = ""
) -> ExpressionTest:
    """Evaluate for a typed sample user, with the application's attribute list."""
    known = source_attribute_names(application)
    return run_expression(expression, sample, known=known, **lookups_for(application, expression, target_attribute))


def evaluate_for_user(
    application: Application, expression: str, id_or_upn: str, target_attribute: str = ""
) -> ExpressionTest:
    """Read the user live and evaluate. Remote failures come back as an error result."""
    known = source_attribute_names(application)
    try:
        names = attributes_of(expression)
        validate(expression, known)
    except ExpressionError as exc:
        return ExpressionTest(ok=False, error=str(exc))
    try:
        user = read_user(application, id_or_upn, names)
    except RemoteError as exc:
        return ExpressionTest(ok=False, error=f"Reading {id_or_upn} from Microsoft Graph failed: {exc}")
    return run_expression(expression, user, known=known, **lookups_for(application, expression, target_attribute))
