"""Import: the source users from Microsoft Graph, with their app role assignments, page by page.

The importer reads only the attributes the mappings use ($select), 999 users per page. Assignments are
read in full at the start of a cycle (user id -> role values; groups expanded to their user members) because
deciding scope and noticing unassignments needs them; users themselves are never held beyond a page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from connections.clients.errors import NotFound, RemoteError

DEFAULT_ACCESS = "00000000-0000-0000-0000-000000000000"
PSEUDO_ATTRIBUTES = frozenset({"appRoleAssignments", "IsSoftDeleted", "objectId"})
BASE_SELECT = ("id", "accountEnabled", "userPrincipalName", "displayName")
BATCH_SIZE = 20  # Graph JSON batch limit
# Entra gives a group's assignment to its direct members only, a known stumbling block for administrators
# who nest groups; we expand nested groups, so every user inside an assigned group is provisioned.
TRANSITIVE_GROUPS = True


def select_for(source_attributes: Iterable[str]) -> list[str]:
    """Graph $select: what the mappings read, plus what the engine itself needs."""
    wanted = dict.fromkeys(BASE_SELECT)
    for name in sorted(source_attributes):
        if name not in PSEUDO_ATTRIBUTES and name.replace("_", "").isalnum():
            wanted[name] = None
    return list(wanted)


class SourceReader:
    """Reads users and assignments from one Entra tenant for one cycle."""

    def __init__(self, graph: Any, select: Sequence[str]) -> None:
        self.graph = graph
        self.select = list(select)
        self.assignments: dict[str, tuple[str, ...]] = {}

    # Assignments -------------------------------------------------------------------------------
    def load_assignments(self) -> dict[str, tuple[str, ...]]:
        """user id -> role values (Default Access contributes no role). Direct and group assignments."""
        service_principal = self.graph.service_principal()
        role_names = {
            role.get("id"): role.get("value") or role.get("displayName") or ""
            for role in service_principal.get("appRoles") or []
        }
        users: dict[str, set[str]] = {}
        groups: dict[str, set[str]] = {}
        for assignment in self.graph.iter_app_role_assignments():
            principal = assignment.get("principalId")
            if not principal:
                continue
            role_id = assignment.get("appRoleId") or DEFAULT_ACCESS
            roles = set() if role_id == DEFAULT_ACCESS else {role_names.get(role_id) or role_id}
            kind = assignment.get("principalType")
            if kind == "User":
                users.setdefault(principal, set()).update(roles)
            elif kind == "Group":
                groups.setdefault(principal, set()).update(roles)
        for group_id, roles in groups.items():
            for page in self.graph.iter_group_user_members(group_id, ["id"], transitive=TRANSITIVE_GROUPS):
                for member in page:
                    if member.get("id"):
                        users.setdefault(member["id"], set()).update(roles)
        self.assignments = {user_id: tuple(sorted(roles)) for user_id, roles in users.items()}
        return self.assignments

    def load_assignments_for(self, user_id: str) -> dict[str, tuple[str, ...]]:
        """The one user's roles, as load_assignments() would give them, in a few calls whatever the number of
        assignments of the application (provision on demand): {user_id: roles}, or {} when unassigned."""
        roles = self.graph.user_app_role_values(user_id, nested_groups=TRANSITIVE_GROUPS)
        self.assignments = {} if roles is None else {user_id: roles}
        return self.assignments

    # Users -------------------------------------------------------------------------------------
    def all_users(self) -> Iterator[list[dict]]:
        """Every user of the tenant, 999 per page."""
        return self.graph.iter_users(self.select)

    def delta(self, delta_link: str | None) -> Iterator[list[dict]]:
        """Changed users since `delta_link` (every user when None); DeltaExpired when it is too old."""
        return self.graph.delta(self.select, delta_link)

    @property
    def last_delta_link(self) -> str | None:
        return self.graph.last_delta_link

    def latest_delta_link(self) -> str | None:
        """A delta link meaning "from now on", taken before a full read so no change falls between the two."""
        select = ",".join(self.select)
        for _page in self.graph.delta(self.select, f"users/delta?$deltatoken=latest&$select={select}"):
            pass
        return self.graph.last_delta_link

    def fetch_users(self, ids: Sequence[str]) -> tuple[list[dict], list[str], dict[str, RemoteError]]:
        """Users by id through JSON batches of 20: (found, ids that no longer exist, per-id errors)."""
        found: list[dict] = []
        missing: list[str] = []
        errors: dict[str, RemoteError] = {}
        select = ",".join(self.select)
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = list(ids[start : start + BATCH_SIZE])
            requests = [
                {"id": str(i), "method": "GET", "url": f"/users/{user_id}?$select={select}"}
                for i, user_id in enumerate(chunk)
            ]
            answers = self.graph.batch(requests)
            for i, user_id in enumerate(chunk):
                answer = answers.get(str(i)) or {}
                status = int(answer.get("status") or 0)
                if status == 200:
                    found.append(answer.get("body") or {})
                elif status == 404:
                    missing.append(user_id)
                else:
                    body = answer.get("body") or {}
                    message = (body.get("error") or {}).get("message") or f"HTTP {status}"
                    errors[user_id] = (NotFound if status == 404 else RemoteError)(
                        f"Reading the user from Microsoft Graph failed: {message}", code=f"Graph{status}"
                    )
        return found, missing, errors


def source_user(raw: dict, roles: Sequence[str], *, removed: bool = False) -> dict:
    """The dict mappings are evaluated on: Graph properties plus Entra's pseudo-attributes."""
    user = {key: value for key, value in raw.items() if not key.startswith("@")}
    user["appRoleAssignments"] = list(roles)
    soft_deleted = removed or raw.get("accountEnabled") is False
    user["IsSoftDeleted"] = "True" if soft_deleted else "False"
    user.setdefault("objectId", raw.get("id"))
    return user


def is_removed(raw: dict) -> bool:
    """A delta entry for a deleted user (soft: reason "changed", or permanent: "deleted")."""
    return "@removed" in raw
