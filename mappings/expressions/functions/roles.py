"""Multi-valued attributes and app roles: AppRoleAssignmentsComplex, Count, Item, RemoveDuplicates,
SingleAppRoleAssignment, Split."""

from __future__ import annotations

from mappings.expressions.errors import EvaluationError
from mappings.expressions.functions.registry import function
from mappings.expressions.values import is_null, to_int, to_str


def _as_list(value) -> list:
    if is_null(value):
        return []
    if isinstance(value, list | tuple):
        return [v for v in value if v is not None]
    return [value]


def _role_value(role) -> str | None:
    """A role as the engine passes it (its value string) or as Graph returns it (a dict)."""
    if isinstance(role, dict):
        return to_str(role.get("value") or role.get("displayName") or role.get("appRoleId"))
    return to_str(role)


@function("AppRoleAssignmentsComplex([appRoleAssignments])", 1)
def app_role_assignments_complex(ctx, assignments):
    """All the user's roles as a multi-valued attribute, each once, in assignment order."""
    roles = [r for r in (_role_value(a) for a in _as_list(assignments)) if r]
    return list(dict.fromkeys(roles)) or None


@function("SingleAppRoleAssignment([appRoleAssignments])", 1)
def single_app_role_assignment(ctx, assignments):
    """The user's one role as a string; no role -> null (the default applies); more than one -> this user fails.
    Choice: the same role reached twice (a group and a direct assignment) counts once."""
    roles = list(dict.fromkeys(r for r in (_role_value(a) for a in _as_list(assignments)) if r))
    if len(roles) > 1:
        raise EvaluationError(
            f"No more than one app role assignment was expected, but this many were found: {len(roles)}",
            "SingleAppRoleAssignment",
        )
    return roles[0] if roles else None


@function("Count(attribute)", 1)
def count(ctx, attribute):
    """Number of values of a multi-valued attribute. Choice: null -> 0, a single value -> 1."""
    return len(_as_list(attribute))


@function("Item(attribute, index)", 2)
def item(ctx, attribute, index):
    """The index-th value, 1-based; an index past the end gives null; index below 1 is an error."""
    position = to_int(index, "Item index")
    if position < 1:
        raise EvaluationError(f"Item index is 1-based; {position} is not a valid index")
    values = _as_list(attribute)
    return values[position - 1] if position <= len(values) else None


@function("RemoveDuplicates(attribute)", 1)
def remove_duplicates(ctx, attribute):
    """Each value once, first occurrence kept. A single value is returned unchanged."""
    if is_null(attribute) or not isinstance(attribute, list | tuple):
        return attribute
    return list(dict.fromkeys(to_str(v) for v in attribute if v is not None))


@function("Split(source, delimiter)", 2)
def split(ctx, source, delimiter):
    """A string to a multi-valued attribute (e.g. Salesforce PermissionSets). Choice: empty pieces are kept,
    as .NET String.Split keeps them; a null or empty delimiter returns the whole string as one value."""
    text = to_str(source)
    if text is None:
        return None
    sep = to_str(delimiter)
    return text.split(sep) if sep else [text]
