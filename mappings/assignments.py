"""Users and groups assigned to the enterprise application, read from Graph, with the warnings Entra admins trip
over before the first cycle tells them:

- Default Access is not a Salesforce profile: SingleAppRoleAssignment gives nothing, so ProfileName falls back to
  its default (Chatter Free User in the default mapping) or the user fails for want of a profile.
- More than one role for a user (two direct assignments, or a group's role plus a direct one): the default
  ProfileName expression, SingleAppRoleAssignment, fails for that user.

A group's assignment covers its direct members only (Entra does not expand nested groups), as in the engine.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from connections.clients.errors import NotFound
from mappings.roles import DEFAULT_ACCESS_ID, is_default_access, role_name

MEMBER_SELECT = ("id", "userPrincipalName", "displayName")


@dataclass
class AssignmentRow:
    id: str
    principal_id: str
    principal_type: str
    principal_name: str
    role_id: str
    role_name: str
    default_access: bool
    created: str = ""
    members: list[dict] = field(default_factory=list)  # for groups: their direct user members


@dataclass
class AssignmentsOverview:
    roles: list[dict]
    rows: list[AssignmentRow]
    user_roles: dict[str, list[tuple[str, str]]]  # user id -> [(role name, "direct" | group name)]
    user_names: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    def roles_of(self, user_id: str) -> list[str]:
        """Role values the user holds (Default Access contributes none), as the engine's appRoleAssignments."""
        return sorted({name for name, _ in self.user_roles.get(user_id, []) if name})


def _role_label(role: dict) -> str:
    return role.get("displayName") or role.get("value") or role.get("id", "")


def load_assignments(graph, *, profile_default: str | None = "Chatter Free User") -> AssignmentsOverview:
    """Every assignment of the service principal, group members expanded one level, with the warnings.

    `profile_default` is the ProfileName mapping's "Default value if null" (None when it has none).
    """
    roles = graph.service_principal("id,appRoles").get("appRoles") or []
    by_id = {r.get("id"): r for r in roles}
    rows: list[AssignmentRow] = []
    for a in graph.iter_app_role_assignments():
        role_id = a.get("appRoleId") or DEFAULT_ACCESS_ID
        role = by_id.get(role_id, {"id": role_id})
        default = role_id == DEFAULT_ACCESS_ID or is_default_access(role)
        rows.append(
            AssignmentRow(
                id=a.get("id", ""),
                principal_id=a.get("principalId", ""),
                principal_type=a.get("principalType", ""),
                principal_name=a.get("principalDisplayName") or a.get("principalId", ""),
                role_id=role_id,
                role_name="Default Access" if default else _role_label(role),
                default_access=default,
                created=a.get("createdDateTime") or "",
            )
        )
    user_roles: dict[str, list[tuple[str, str]]] = {}
    user_names: dict[str, str] = {}
    for row in rows:
        value = "" if row.default_access else role_name(by_id.get(row.role_id, {})) or row.role_id
        if row.principal_type == "User":
            user_roles.setdefault(row.principal_id, []).append((value, "direct"))
            user_names.setdefault(row.principal_id, row.principal_name)
        elif row.principal_type == "Group":
            for page in graph.iter_group_user_members(row.principal_id, MEMBER_SELECT, transitive=False):
                for member in page:
                    if member.get("id"):
                        row.members.append(member)
                        user_roles.setdefault(member["id"], []).append((value, row.principal_name))
                        user_names.setdefault(
                            member["id"], member.get("displayName") or member.get("userPrincipalName") or member["id"]
                        )
    overview = AssignmentsOverview(roles=roles, rows=rows, user_roles=user_roles, user_names=user_names)
    overview.warnings = assignment_warnings(overview, profile_default)
    return overview


def _via(entries: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{name} ({'direct' if how == 'direct' else 'through group ' + how})" for name, how in entries)


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
        via_group = [e for e in named if e[1] != "direct"]
        direct = [e for e in named if e[1] == "direct"]
        if via_group and direct and {n for n, _ in via_group} != {n for n, _ in direct}:
            lead = f"{name} is a member of a group assigned another role and is also assigned directly"
        else:
            lead = f"{name} has more than one role"
        warnings.append(
            f"{lead}: {_via(named)}. SingleAppRoleAssignment([appRoleAssignments]) fails for this user "
            f"(No more than one app role assignment was expected, but this many were found: {len(distinct)}). "
            "Keep one role per user."
        )
    return warnings


def _is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def resolve_principal(graph, principal: str) -> tuple[str, str, str]:
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


def add_assignment(graph, principal: str, app_role_id: str) -> tuple[str, str, str]:
    """Assign a user (UPN or id) or group (id) a role; returns (id, type, name) of the principal."""
    principal_id, kind, name = resolve_principal(graph, principal)
    graph.add_assignment(principal_id, app_role_id)
    return principal_id, kind, name
