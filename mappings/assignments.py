"""Users and groups assigned to the enterprise application, with the warnings Entra admins trip over before the
first cycle tells them:

- Default Access is not a Salesforce profile: SingleAppRoleAssignment gives nothing, so ProfileName falls back to
  its default (Chatter Free User in the default mapping) or the user fails for want of a profile.
- More than one role for a user (two direct assignments, or a group's role plus a direct one): the default
  ProfileName expression, SingleAppRoleAssignment, provisions only one of them (Entra gives no guarantee which).

The assignments are read by the engine's own reader (mappings/directory/assignments.py): a group's assignment
reaches the members of groups nested inside it too, so the warnings concern exactly the users a cycle provisions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from connections.clients.errors import NotFound
from connections.clients.graph import GraphClient
from mappings.directory.assignments import AssignmentRow, AssignmentSource

MEMBER_SELECT = ("id", "userPrincipalName", "displayName")
DIRECT = "direct"


@dataclass
class AssignmentsOverview:
    roles: list[dict]
    rows: list[AssignmentRow]
    user_roles: dict[str, list[tuple[str, str]]]  # user id -> [(role value, "direct" | assigned group's name)]
    user_names: dict[str, str]
    warnings: list[str] = field(default_factory=list)


def assignments_overview(
    reader: AssignmentSource, *, profile_default: str | None = "Chatter Free User"
) -> AssignmentsOverview:
    """Every assignment with the users it reaches (nested groups expanded), and the warnings.

    `profile_default` is the ProfileName mapping's "Default value if null" (None when it has none).
    """
    rows = list(reader.assignments())
    user_roles: dict[str, list[tuple[str, str]]] = {}
    user_names: dict[str, str] = {}
    for grant in reader.grants(rows, MEMBER_SELECT):
        row, member = grant.assignment, grant.user
        if grant.direct:
            user_roles.setdefault(row.principal_id, []).append((row.role_value, DIRECT))
            user_names.setdefault(row.principal_id, row.principal_name)
            continue
        row.members.append(member)
        user_roles.setdefault(member["id"], []).append((row.role_value, row.principal_name))
        user_names.setdefault(
            member["id"], member.get("displayName") or member.get("userPrincipalName") or member["id"]
        )
    overview = AssignmentsOverview(roles=reader.app_roles(), rows=rows, user_roles=user_roles, user_names=user_names)
    overview.warnings = assignment_warnings(overview, profile_default)
    return overview


def _via(entries: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{name} ({DIRECT if how == DIRECT else 'through group ' + how})" for name, how in entries)


DEFAULT_ACCESS_NAMES_SHOWN = 20


def assignment_warnings(overview: AssignmentsOverview, profile_default: str | None) -> list[str]:
    warnings: list[str] = []
    fallback = (
        f"ProfileName gets its default value {profile_default!r} when the user is created"
        if profile_default
        else "ProfileName gets no value and creating the user fails (the mapping has no default profile)"
    )
    default_access = [
        f"group {row.principal_name} ({len(row.members)} member(s))"
        if row.principal_type == "Group"
        else row.principal_name
        for row in overview.rows
        if row.default_access
    ]
    if default_access:
        # One warning for all of them: a tenant can have thousands, and the table below marks each row.
        shown = default_access[:DEFAULT_ACCESS_NAMES_SHOWN]
        more = len(default_access) - len(shown)
        who = ", ".join(shown) + (f" and {more} more (marked in the table)" if more else "")
        verb = "is" if len(default_access) == 1 else "are"
        warnings.append(
            f"{who} {verb} assigned with Default Access, which is not a Salesforce profile: "
            f"SingleAppRoleAssignment([appRoleAssignments]) gives no value, so {fallback}. "
            "Assign one of the imported profile roles instead."
        )
    for user_id, entries in overview.user_roles.items():
        named = sorted({(n, how) for n, how in entries if n})
        distinct = sorted({n for n, _ in named})
        if len(distinct) < 2:
            continue
        name = overview.user_names.get(user_id, user_id)
        via_group = [e for e in named if e[1] != DIRECT]
        direct = [e for e in named if e[1] == DIRECT]
        if via_group and direct and {n for n, _ in via_group} != {n for n, _ in direct}:
            lead = f"{name} is a member of a group assigned another role and is also assigned directly"
        else:
            lead = f"{name} has more than one role"
        warnings.append(
            f"{lead}: {_via(named)}. SingleAppRoleAssignment([appRoleAssignments]) provisions only one of them, "
            f"{distinct[0]} (Entra gives no guarantee which; this console takes the first by name). "
            "Keep one role per user."
        )
    return warnings


def _is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def resolve_principal(graph: GraphClient, principal: str) -> tuple[str, str, str]:
    """(id, "User" | "Group", display name) for a user's UPN or object ID, or a group's object ID.

    Raises NotFound with a message naming what was looked for.
    """
    principal = principal.strip()
    try:
        user = graph.get_user(principal, ["id", "userPrincipalName", "displayName"])
        return user["id"], "User", user.get("userPrincipalName") or user.get("displayName") or user["id"]
    except NotFound:
        if not _is_guid(principal):
            raise NotFound(f"No user {principal} in the tenant.", code="Request_ResourceNotFound") from None
    try:
        group = graph.get(f"groups/{principal}", {"$select": "id,displayName"})
    except NotFound:
        raise NotFound(
            f"No user or group with object ID {principal} in the tenant.", code="Request_ResourceNotFound"
        ) from None
    return group["id"], "Group", group.get("displayName") or group["id"]


def add_assignment(graph: GraphClient, principal: str, app_role_id: str) -> tuple[str, str, str]:
    """Assign a user (UPN or id) or group (id) a role; returns (id, type, name) of the principal."""
    principal_id, kind, name = resolve_principal(graph, principal)
    graph.add_assignment(principal_id, app_role_id)
    return principal_id, kind, name
