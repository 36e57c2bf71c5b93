"""Multi-valued attributes and app roles: AppRoleAssignmentsComplex, AssertiveAppRoleAssignmentsComplex, Count,
Item, RemoveDuplicates, SingleAppRoleAssignment, Split."""

from __future__ import annotations

import json
from dataclasses import dataclass

from mappings.expressions.errors import EvaluationError
from mappings.expressions.functions.registry import function
from mappings.expressions.values import ComplexValue, is_null, to_int, to_str

# The type Entra gives app roles in the complex values it provisions.
ROLE_TYPE = "WindowsAzureActiveDirectoryRole"


def _as_list(value) -> list:
    if is_null(value):
        return []
    if isinstance(value, list | tuple):
        return [v for v in value if v is not None]
    return [value]


@dataclass(frozen=True)
class _Role:
    id: str | None
    value: str
    display_name: str


def _role(entry) -> _Role | None:
    """A role as the source user carries it: its value string (an AssignedRole also knowing its role_id and
    display_name), or a dict with the app role's id, value and displayName (Graph's appRole, or an assignment with
    appRoleId)."""
    if isinstance(entry, str) and getattr(entry, "role_id", None):
        return _Role(entry.role_id, str(entry), getattr(entry, "display_name", "") or str(entry))
    if isinstance(entry, dict):
        role_id = to_str(entry.get("id") or entry.get("appRoleId"))
        value = to_str(entry.get("value") or entry.get("displayName") or role_id)
        return _Role(role_id, value, to_str(entry.get("displayName")) or value) if value else None
    value = to_str(entry)
    return _Role(None, value, value) if value else None


def _roles(assignments) -> list[_Role]:
    """Each role once (the same role reached directly and through a group counts once), in the user's order."""
    unique: dict[str, _Role] = {}
    for role in (_role(a) for a in _as_list(assignments)):
        if role is not None:
            unique.setdefault(role.id or role.value, role)
    return list(unique.values())


@function("AppRoleAssignmentsComplex([appRoleAssignments])", 1)
def app_role_assignments_complex(ctx, assignments):
    """Every role of the user as a complex value: {primary: false, type, displayName, value} (the object Entra
    sends on create), whose text is {"id","value","displayName"} (the JSON Entra sends on update). Entra adds these
    roles to the target and never removes any (PATCH add)."""
    values = []
    for role in _roles(assignments):
        update = {"id": role.id, "value": role.value, "displayName": role.display_name}
        if role.id is None:
            del update["id"]
        text = json.dumps(update, separators=(",", ":"), ensure_ascii=False)
        values.append(
            ComplexValue(
                {"primary": False, "type": ROLE_TYPE, "displayName": role.display_name, "value": role.value}, text
            )
        )
    return values or None


@function("AssertiveAppRoleAssignmentsComplex([appRoleAssignments])", 1)
def assertive_app_role_assignments_complex(ctx, assignments):
    """Every role of the user as {primary: false, type, display, value}, the objects Entra sends both on create and
    on update; the update replaces the target's roles (PATCH replace), so roles removed in Entra go away."""
    values = [
        ComplexValue({"primary": False, "type": ROLE_TYPE, "display": role.display_name, "value": role.value})
        for role in _roles(assignments)
    ]
    return values or None


@function("SingleAppRoleAssignment([appRoleAssignments])", 1)
def single_app_role_assignment(ctx, assignments):
    """The user's role as a string (its value); no role -> null (the default applies). With several roles Entra
    provisions one of them, with no guarantee which (Microsoft's documentation); here it is always the one whose
    value comes first in ordinal order, so it does not change from cycle to cycle."""
    roles = _roles(assignments)
    return min(role.value for role in roles) if roles else None


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
    """A string to a multi-valued attribute (e.g. Salesforce PermissionSets). White space around each piece is
    removed, as Microsoft's example shows ("PermissionSetOne, PermissionSetTwo" gives "PermissionSetTwo", not
    " PermissionSetTwo"). Choice: empty pieces are kept, as .NET String.Split keeps them; a null or empty
    delimiter returns the whole string as one value."""
    text = to_str(source)
    if text is None:
        return None
    sep = to_str(delimiter)
    return [piece.strip() for piece in text.split(sep)] if sep else [text.strip()]
