"""Scoping filters: is this user in scope, and why.

Filters are ORed, the clauses of one filter ANDed. A clause over a null or empty attribute is false, except
IS NULL (Entra's rule; NOT EQUALS and NOT REGEX MATCH included). The explanation reads like provision on
demand's: "Scoping filter 'Sales' department EQUALS Sales: passed".

A clause that cannot be evaluated (a regular expression over its time limit, a value that is no whole number for
Greater_Than, a multi-valued value) is neither passed nor failed but unknown. Doubt never takes anyone out of scope:
a user is in scope when one filter passes in full, out of scope when every filter has a clause that failed, and
otherwise the evaluation raises ScopingEvaluationError, which fails that user (escrowed, nothing written).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mappings.expressions.attributes import ADD_TO_LIST, ENTRA_USER_ATTRIBUTES, is_known_attribute, suggest
from mappings.expressions.dotnet_regex import compile_regex

OPERATORS = (
    "&",
    "!&",
    "ENDS_WITH",
    "EQUALS",
    "Greater_Than",
    "Greater_Than_OR_EQUALS",
    "Includes",
    "IS FALSE",
    "IS NOT NULL",
    "IS NULL",
    "IS TRUE",
    "NOT EQUALS",
    "NOT REGEX MATCH",
    "REGEX MATCH",
)
UNARY_OPERATORS = frozenset({"IS FALSE", "IS NOT NULL", "IS NULL", "IS TRUE"})
INTEGER_OPERATORS = frozenset({"Greater_Than", "Greater_Than_OR_EQUALS"})
REGEX_OPERATORS = frozenset({"REGEX MATCH", "NOT REGEX MATCH"})
# Entra refuses these in scoping filters (multi-valued, reference or role attributes).
UNSUPPORTED_ATTRIBUTES = frozenset({"appRoleAssignments", "manager", "userType", "memberOf", "members"})
# Each clause of a filter is one row of its page; a longer condition belongs in several filters (ORed) or in a
# regular expression. The page's formset and an import both refuse more.
MAX_CLAUSES_PER_FILTER = 100


@dataclass(frozen=True)
class ClauseSpec:
    attribute: str
    operator: str
    value: str = ""

    def __str__(self) -> str:
        text = f"{self.attribute} {self.operator}"
        return text if self.operator in UNARY_OPERATORS else f"{text} {self.value}"


@dataclass(frozen=True)
class FilterSpec:
    title: str
    clauses: tuple[ClauseSpec, ...] = ()


@dataclass
class ScopeDecision:
    in_scope: bool
    reasons: list[str] = field(default_factory=list)


class ClauseError(ValueError):
    """One clause could not be evaluated for one user: its outcome is unknown."""


class ScopingEvaluationError(ValueError):
    """Whether the user is in scope cannot be told: no filter passed, and one could not be evaluated."""

    def __init__(self, errors: list[str], reasons: list[str]) -> None:
        self.errors = errors
        self.reasons = reasons
        super().__init__("; ".join(errors))


def validate_clause(
    attribute: str, operator: str, value: str, known: Collection[str] | None = None, multivalued: Collection[str] = ()
) -> None:
    """Refuse a clause Entra would refuse: unknown operator, invalid regex, non-integer for Greater_Than,
    missing value, or an attribute that cannot be scoped on. `known` is the application's attribute list (Entra's
    own when None); `multivalued` the multi-valued attributes among it."""
    if not attribute or not attribute.strip():
        raise ValueError("the clause needs an attribute name")
    if attribute in UNSUPPORTED_ATTRIBUTES:
        raise ValueError(f"{attribute} cannot be used in a scoping filter")
    if not is_known_attribute(attribute, known):
        # An unknown name reads as empty for every user, so a typo would silently take everyone out of scope.
        guess = suggest(attribute, ENTRA_USER_ATTRIBUTES if known is None else known)
        hint = f": did you mean {guess}?" if guess else f"; {ADD_TO_LIST}"
        raise ValueError(f"unknown attribute {attribute}{hint}")
    if attribute in multivalued:
        raise ValueError(f"{attribute} is multi-valued, which scoping filters do not support")
    if operator not in OPERATORS:
        raise ValueError(f"unknown operator {operator!r}; use one of: {', '.join(OPERATORS)}")
    if operator in UNARY_OPERATORS:
        return
    if value is None or value == "":
        raise ValueError(f"{operator} needs a value")
    if operator in INTEGER_OPERATORS:
        try:
            int(value.strip())
        except ValueError:
            raise ValueError(f"{operator} compares whole numbers; {value!r} is not one") from None
    if operator in REGEX_OPERATORS:
        compile_regex(value)  # raises ValueError with the reason


def filter_specs(filters: Iterable[Any]) -> list[FilterSpec]:
    """Plain specs from ScopingFilter rows (with their .clauses) or from specs already plain."""
    specs = []
    for item in filters:
        if isinstance(item, FilterSpec):
            specs.append(item)
            continue
        clauses = item.clauses.all() if hasattr(item.clauses, "all") else item.clauses
        specs.append(FilterSpec(item.title, tuple(ClauseSpec(c.attribute, c.operator, c.value or "") for c in clauses)))
    return specs


def _text(value: Any) -> str | None:
    """The attribute as one string; None for null/empty. Booleans read as "True"/"False" like Entra prints them."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _integer(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def evaluate_clause(clause: ClauseSpec, user: Mapping[str, Any]) -> tuple[bool, str]:
    """(passed, why-not) for one clause; ClauseError when it cannot be evaluated for this user."""
    raw = user.get(clause.attribute)
    op, expected = clause.operator, clause.value or ""
    if isinstance(raw, list | tuple):
        raise ClauseError(f"{clause.attribute} is multi-valued, which scoping filters do not support")
    actual = _text(raw)
    if op == "IS NULL":
        return actual is None, "" if actual is None else f"{clause.attribute} has a value"
    if actual is None:
        return False, f"{clause.attribute} is empty"
    if op == "IS NOT NULL":
        return True, ""
    if op in ("IS TRUE", "IS FALSE"):
        want = op == "IS TRUE"
        return actual.lower() == str(want).lower(), ""
    if op == "EQUALS":
        return actual == expected, ""
    if op == "NOT EQUALS":
        return actual != expected, ""
    if op == "Includes":
        return expected in actual, ""
    if op == "ENDS_WITH":
        return actual.endswith(expected), ""
    if op == "&":
        return actual in expected, ""
    if op == "!&":
        return actual not in expected, ""
    if op in INTEGER_OPERATORS:
        left, right = _integer(actual), _integer(expected)
        if right is None:
            raise ClauseError(f"the clause's value {expected!r} is not a whole number")
        if left is None:
            raise ClauseError(f"{clause.attribute} ({actual[:40]!r}) is not a whole number")
        return (left > right if op == "Greater_Than" else left >= right), ""
    if op in REGEX_OPERATORS:
        try:
            matched = compile_regex(expected).search(actual) is not None
        except ValueError as exc:  # invalid, or over its time limit (catastrophic backtracking)
            raise ClauseError(str(exc)) from None
        return matched if op == "REGEX MATCH" else not matched, ""
    raise ClauseError(f"unknown operator {op!r}")


def evaluate_scoping(filters: Sequence[FilterSpec | Any], user: Mapping[str, Any]) -> ScopeDecision:
    """In scope when there is no filter or when every clause of at least one filter passes; out of scope when every
    filter has a failed clause; ScopingEvaluationError when neither can be told because a clause could not be
    evaluated. Every clause is evaluated, so the reasons list the whole picture as provision on demand shows it."""
    specs = filter_specs(filters)
    if not specs:
        return ScopeDecision(True, ["No scoping filter: every assigned user is in scope"])
    reasons: list[str] = []
    errors: list[str] = []
    in_scope = False
    unknown = False
    for spec in specs:
        passed_all, failed_one = True, False
        for clause in spec.clauses:
            try:
                passed, why = evaluate_clause(clause, user)
            except ClauseError as exc:
                passed_all = False
                errors.append(f"Scoping filter '{spec.title}' {clause}: {exc}")
                reasons.append(f"Scoping filter '{spec.title}' {clause}: could not be evaluated ({exc})")
                continue
            passed_all = passed_all and passed
            failed_one = failed_one or not passed
            outcome = "passed" if passed else f"failed ({why})" if why else "failed"
            reasons.append(f"Scoping filter '{spec.title}' {clause}: {outcome}")
        if not spec.clauses:
            reasons.append(f"Scoping filter '{spec.title}' has no clause: passed")
        in_scope = in_scope or passed_all
        unknown = unknown or not (passed_all or failed_one)
    if not in_scope and unknown:
        raise ScopingEvaluationError(errors, reasons)
    return ScopeDecision(in_scope, reasons)
