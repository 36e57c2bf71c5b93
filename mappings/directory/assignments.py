"""Who is assigned to the enterprise application, and with which app roles, read from Microsoft Graph.

A user holds the application through an assignment of their own, of a group they are a member of, or of a group
that contains their group: nested groups inside an assigned group are expanded (Entra's own provisioning gives a
group's assignment to its direct members only, a known stumbling block for administrators who nest groups).
Default Access (the all-zero app role id, or the gallery's `msiam_access` role) assigns a user without a role: it
contributes nothing to appRoleAssignments, and the user is assigned all the same.

Every read of assignments goes through AssignmentReader: the stored snapshot (snapshot.py: `assignments()`,
`grants()` and `users()`, the whole application, once per cycle and on Refresh from Entra; cycles provision from
that read and the Users and groups page lists it), provision on demand and the expression tester (`roles_of()`, one
user in a few calls, live).

The AssignmentSource protocol is what both the live reader and the stored snapshot (StoredAssignments) answer.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from connections.clients.errors import RemoteError
from connections.clients.graph import BATCH_LIMIT, IN_LIMIT, PAGE_SIZE, GraphClient

DEFAULT_ACCESS_ID = "00000000-0000-0000-0000-000000000000"  # appRoleId of an assignment without a specific role
DEFAULT_ACCESS_VALUES = frozenset({"msiam_access"})  # the gallery apps' default-access role
DEFAULT_ACCESS_LABEL = "Default Access"
MEMBER_SELECT = ("id",)  # what the engine needs of a group's members
DETAILS_SELECT = ("id", "displayName", "userPrincipalName", "mail")  # what the Users and groups page shows of a user


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


class AppRoles:
    """An application's app roles by id: how an assignment's role is named and what it adds to appRoleAssignments.
    A role no longer defined is known by its id."""

    def __init__(self, roles: list[dict]) -> None:
        self.roles = roles
        self.by_id = {role.get("id"): role for role in roles}
        # role id -> (role, Default Access, label, assigned value): a full read asks for the same few roles 100,000
        # times. The AssignedRole values are shared: nothing changes them once made.
        self._known: dict[str, tuple[dict, bool, str, AssignedRole | None]] = {}
        # One string each for the few role ids and principal types that the rows of a full read repeat (each answer
        # parsed gives them as new strings: two of a row's seven).
        self._shared: dict[str, str] = {}

    def _lookup(self, role_id: str) -> tuple[dict, bool, str, AssignedRole | None]:
        known = self._known.get(role_id)
        if known is None:
            role = self.by_id.get(role_id, {"id": role_id})
            default = is_default_access(role)
            label = DEFAULT_ACCESS_LABEL if default else role_label(role)
            known = self._known[role_id] = (role, default, label, None if default else assigned_role(role))
        return known

    def role(self, role_id: str) -> tuple[dict, bool]:
        """(the role, whether it is Default Access)."""
        role, default, _, _ = self._lookup(role_id)
        return role, default

    def defined(self, role_id: str) -> bool:
        """Whether the application defines this app role (Default Access always counts as defined)."""
        return role_id == DEFAULT_ACCESS_ID or role_id in self.by_id

    def assigned(self, role_id: str) -> AssignedRole | None:
        """What the role adds to appRoleAssignments; None for Default Access."""
        return self._lookup(role_id)[3]

    def row(self, assignment: Mapping) -> AssignmentRow:
        """An assignment as Graph gives it (appRoleAssignedTo, or the answer to adding one) as a row."""
        shared = self._shared
        role_id = assignment.get("appRoleId") or DEFAULT_ACCESS_ID
        role_id = shared.setdefault(role_id, role_id)
        _, default, label, value = self._lookup(role_id)
        principal_type = assignment.get("principalType") or ""
        return AssignmentRow(
            id=assignment.get("id", ""),
            principal_id=assignment.get("principalId") or "",
            principal_type=shared.setdefault(principal_type, principal_type),
            principal_name=assignment.get("principalDisplayName") or assignment.get("principalId") or "",
            role_id=role_id,
            role_name=label,
            default_access=default,
            created=assignment.get("createdDateTime") or "",
            role_value=value or "",
        )


def _by_id_calls(count: int) -> int:
    return math.ceil(count / (IN_LIMIT * BATCH_LIMIT))


class _UserList:
    """The tenant's whole user list, read page by page in a thread of its own; only the pages are kept."""

    def __init__(self, graph: GraphClient, select: Sequence[str]) -> None:
        self.pages: list[list[dict]] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(graph, list(select)), daemon=True, name="user-list")
        self._thread.start()

    def _run(self, graph: GraphClient, select: list[str]) -> None:
        try:
            for page in graph.iter_users(select):
                self.pages.append(page)
                if self._stop.is_set():
                    return
        except BaseException as exc:  # handed to the reader's thread by result()
            self.error = exc

    def result(self) -> list[list[dict]]:
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.pages

    def cancel(self) -> None:
        self._stop.set()
        self._thread.join()


class UserLookup:
    """Users by object id, by whichever of two reads costs fewer Graph calls: by id (300 ids to a call, in JSON
    batches read a few at once) or the tenant's whole user list (999 users to a call, only the wanted ones kept).

    `expect(count)` while the ids are still being collected (the assignments being read): once the whole list is
    certain to be the cheaper read for that many ids, it starts in the background, so that its pages, which can only
    be read one after another, overlap the rest of the read instead of following it."""

    def __init__(self, graph: GraphClient, select: Sequence[str] = DETAILS_SELECT) -> None:
        self.graph = graph
        self.select = list(select)
        self._tenant_pages: int | None = None
        self._list: _UserList | None = None

    def _list_is_cheaper(self, count: int) -> bool:
        by_id_calls = _by_id_calls(count)
        if by_id_calls <= 1:
            return False
        if self._tenant_pages is None:
            self._tenant_pages = math.ceil(self.graph.count_users() / PAGE_SIZE)
        return self._tenant_pages < by_id_calls

    def expect(self, count: int) -> None:
        """At least `count` ids will be asked for: start the whole list now if it is already the cheaper read."""
        if self._list is None and _by_id_calls(count) > 1 and self._list_is_cheaper(count):
            self._list = _UserList(self.graph, self.select)

    def read(self, ids: Sequence[str]) -> Iterator[dict]:
        """The users of `ids` that exist."""
        if not ids:
            self.cancel()
            return
        if self._list is None and self._list_is_cheaper(len(ids)):
            self._list = _UserList(self.graph, self.select)
        if self._list is not None:
            wanted = set(ids)
            for page in self._list.result():
                yield from (user for user in page if user.get("id") in wanted)
            return
        for page in self.graph.users_by_ids(ids, self.select):
            yield from page

    def cancel(self) -> None:
        """Stop a whole-list read that is no longer wanted (the read that needed it failed)."""
        if self._list is not None:
            self._list.cancel()


class AssignmentReader:
    """Reads the assignments of one enterprise application (the connection's service principal) live from Graph."""

    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph
        self._book: AppRoles | None = None

    def book(self) -> AppRoles:
        """The service principal's app roles (read once per reader)."""
        if self._book is None:
            self._book = AppRoles(self.graph.service_principal("id,appRoles").get("appRoles") or [])
        return self._book

    def app_roles(self) -> list[dict]:
        return self.book().roles

    def assignments(self) -> Iterator[AssignmentRow]:
        """Every assignment, in the order Graph lists them (streamed: large tenants have many)."""
        book = self.book()
        for assignment in self.graph.iter_app_role_assignments():
            yield book.row(assignment)

    def grants(
        self,
        rows: Iterable[AssignmentRow],
        member_select: Sequence[str] = MEMBER_SELECT,
        failed: dict[str, RemoteError] | None = None,
    ) -> Iterator[Grant]:
        """Each (assignment, user) pair: users' own assignments as they come, then each assigned group's user
        members, nested groups included (a group assigned twice is read once; 20 groups to a Graph call). With
        `failed`, a group whose members could not be read is put there (group id -> error) instead of ending the
        read: its grants are then unknown, never "no members"."""
        groups: dict[str, list[AssignmentRow]] = {}
        for row in rows:
            if not row.principal_id:
                continue
            if row.principal_type == "User":
                yield Grant(row, {"id": row.principal_id})
            elif row.principal_type == "Group":
                groups.setdefault(row.principal_id, []).append(row)
        for group_id, members in self.graph.groups_user_members(list(groups), list(member_select), failed):
            for member in members:
                if member.get("id"):
                    for row in groups[group_id]:
                        yield Grant(row, member)

    def users(self, ids: Sequence[str], select: Sequence[str] = DETAILS_SELECT) -> Iterator[dict]:
        """Users by object id, by whichever of two reads costs fewer Graph calls (UserLookup). A user deleted
        meanwhile is left out."""
        yield from UserLookup(self.graph, select).read(ids)

    def user_lookup(self, select: Sequence[str] = DETAILS_SELECT) -> UserLookup:
        """A read of users by object id that can start while the ids are still being collected (UserLookup)."""
        return UserLookup(self.graph, select)

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
        book = self.book()
        values = {book.assigned(a.get("appRoleId") or DEFAULT_ACCESS_ID) for a in assignments} - {None}
        return tuple(sorted(values))
