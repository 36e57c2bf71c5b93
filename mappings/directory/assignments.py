"""Who is assigned to the enterprise application, and with which app roles, read from Microsoft Graph.

A user holds the application through an assignment of their own, of a group they are a member of, or of a group
that contains their group: nested groups inside an assigned group are expanded (Entra's own provisioning gives a
group's assignment to its direct members only, a known stumbling block for administrators who nest groups).
Default Access (the all-zero app role id, or the gallery's `msiam_access` role) assigns a user without a role: it
contributes nothing to appRoleAssignments, and the user is assigned all the same.

Every reader of assignments goes through AssignmentReader: the engine (`roles_by_user()`, the whole application
once per cycle), provision on demand and the expression tester (`roles_of()`, one user in a few calls), and the
Users and groups page (`assignments()` and `grants()`, with the assignment rows and the members they reach).

The seam for a stored snapshot of assignments is the AssignmentSource protocol: a snapshot that answers these
methods can stand in for the live reader without its callers changing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from connections.clients.graph import GraphClient

DEFAULT_ACCESS_ID = "00000000-0000-0000-0000-000000000000"  # appRoleId of an assignment without a specific role
DEFAULT_ACCESS_VALUES = frozenset({"msiam_access"})  # the gallery apps' default-access role
DEFAULT_ACCESS_LABEL = "Default Access"
MEMBER_SELECT = ("id",)  # what the engine needs of a group's members


def is_default_access(role: Mapping) -> bool:
    """Whether an app role (as Graph lists it) is Default Access rather than a Salesforce profile."""
    return role.get("id") == DEFAULT_ACCESS_ID or role.get("value") in DEFAULT_ACCESS_VALUES


def role_value(role: Mapping) -> str:
    """What appRoleAssignments holds for a role: its value, else its display name."""
    return role.get("value") or role.get("displayName") or ""


def role_label(role: Mapping) -> str:
    """How pages name a role: its display name, else its value, else its id."""
    return role.get("displayName") or role.get("value") or role.get("id", "")


class AssignedRole(str):
    """A role value as appRoleAssignments holds it (a string, as SingleAppRoleAssignment gives it), that also knows
    its app role's id and display name for AppRoleAssignmentsComplex's complex values."""

    __slots__ = ("role_id", "display_name")

    def __new__(cls, value: str, role_id: str = "", display_name: str = "") -> AssignedRole:
        role = super().__new__(cls, value)
        role.role_id = role_id
        role.display_name = display_name or value
        return role

    def __reduce__(self):
        return (AssignedRole, (str(self), self.role_id, self.display_name))


def assigned_role(role: Mapping) -> AssignedRole:
    """The AssignedRole of an app role as Graph lists it."""
    return AssignedRole(role_value(role) or role.get("id", ""), role.get("id", ""), role_label(role))


@dataclass(slots=True)
class AssignmentRow:
    """One assignment of the enterprise application to a user or a group."""

    id: str
    principal_id: str
    principal_type: str  # User / Group / ServicePrincipal
    principal_name: str
    role_id: str
    role_name: str  # as pages show it ("Default Access" for Default Access)
    default_access: bool
    created: str = ""
    members: list[dict] = field(default_factory=list)  # a group's user members (nested groups expanded), if read
    role_value: str = ""  # what the role adds to appRoleAssignments ("" for Default Access): an AssignedRole


@dataclass(frozen=True, slots=True)
class Grant:
    """One way an assignment reaches a user: the user's own assignment, or one of a group that contains them."""

    assignment: AssignmentRow
    user: dict  # the user: {"id": ...} plus the member properties asked for

    @property
    def user_id(self) -> str:
        return self.user["id"]

    @property
    def direct(self) -> bool:
        return self.assignment.principal_type == "User"


class AssignmentSource(Protocol):
    """What the engine, the pages, provision on demand and the tester ask about assignments."""

    def app_roles(self) -> list[dict]: ...

    def assignments(self) -> Iterator[AssignmentRow]: ...

    def grants(self, rows: Iterable[AssignmentRow], member_select: Sequence[str] = ...) -> Iterator[Grant]: ...

    def roles_by_user(self) -> dict[str, tuple[str, ...]]: ...

    def roles_of(self, user_id: str) -> tuple[str, ...] | None: ...


class AssignmentReader:
    """Reads the assignments of one enterprise application (the connection's service principal) live from Graph."""

    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph
        self._roles: list[dict] | None = None
        self._by_id: dict[str, dict] = {}

    def app_roles(self) -> list[dict]:
        """The service principal's app roles (read once per reader)."""
        if self._roles is None:
            self._roles = self.graph.service_principal("id,appRoles").get("appRoles") or []
            self._by_id = {role.get("id"): role for role in self._roles}
        return self._roles

    def _role(self, assignment: Mapping) -> tuple[str, dict, bool]:
        """(role id, role, is Default Access) of an assignment; a role no longer defined is known by its id."""
        self.app_roles()
        role_id = assignment.get("appRoleId") or DEFAULT_ACCESS_ID
        role = self._by_id.get(role_id, {"id": role_id})
        return role_id, role, is_default_access(role)

    def assignments(self) -> Iterator[AssignmentRow]:
        """Every assignment, in the order Graph lists them (streamed: large tenants have many)."""
        for assignment in self.graph.iter_app_role_assignments():
            role_id, role, default = self._role(assignment)
            yield AssignmentRow(
                id=assignment.get("id", ""),
                principal_id=assignment.get("principalId") or "",
                principal_type=assignment.get("principalType") or "",
                principal_name=assignment.get("principalDisplayName") or assignment.get("principalId") or "",
                role_id=role_id,
                role_name=DEFAULT_ACCESS_LABEL if default else role_label(role),
                default_access=default,
                created=assignment.get("createdDateTime") or "",
                role_value="" if default else assigned_role(role),
            )

    def grants(self, rows: Iterable[AssignmentRow], member_select: Sequence[str] = MEMBER_SELECT) -> Iterator[Grant]:
        """Each (assignment, user) pair: users' own assignments as they come, then each assigned group's user
        members, nested groups included (a group assigned twice is read once)."""
        groups: dict[str, list[AssignmentRow]] = {}
        for row in rows:
            if not row.principal_id:
                continue
            if row.principal_type == "User":
                yield Grant(row, {"id": row.principal_id})
            elif row.principal_type == "Group":
                groups.setdefault(row.principal_id, []).append(row)
        for group_id, group_rows in groups.items():
            for page in self.graph.iter_group_user_members(group_id, list(member_select), transitive=True):
                for member in page:
                    if member.get("id"):
                        for row in group_rows:
                            yield Grant(row, member)

    def roles_by_user(self) -> dict[str, tuple[str, ...]]:
        """Every assigned user's role values, sorted; () for a user assigned with Default Access only."""
        users: dict[str, set[str]] = {}
        for grant in self.grants(self.assignments()):
            roles = users.setdefault(grant.user_id, set())
            if grant.assignment.role_value:
                roles.add(grant.assignment.role_value)
        return {user_id: tuple(sorted(roles)) for user_id, roles in users.items()}

    def roles_of(self, user_id: str) -> tuple[str, ...] | None:
        """One user's role values as roles_by_user() gives them, in a few calls whatever the number of assignments
        of the application; None when the user is not assigned at all."""
        assignments = self.graph.user_app_role_assignments(user_id, nested_groups=True)
        if not assignments:
            return None
        values = set()
        for assignment in assignments:
            role_id, role, default = self._role(assignment)
            if not default:
                values.add(assigned_role(role))
        return tuple(sorted(values))
