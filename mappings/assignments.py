"""Assigning users and groups to the enterprise application from the console: who a typed principal is, and the
Graph calls that add or remove an assignment. The stored snapshot takes the change at once (directory/snapshot.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from connections.clients.errors import NotFound
from connections.clients.graph import GraphClient

PRINCIPAL_SELECT = ["id", "userPrincipalName", "displayName", "mail"]


@dataclass
class Principal:
    id: str
    type: str  # "User" or "Group"
    name: str  # a user's UPN, a group's display name
    details: dict  # as Graph gave it (id, displayName, userPrincipalName, mail)


def _is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def resolve_principal(graph: GraphClient, principal: str) -> Principal:
    """A user's UPN or object ID, or a group's object ID, as Graph knows it.

    Raises NotFound with a message naming what was looked for.
    """
    principal = principal.strip()
    try:
        user = graph.get_user(principal, PRINCIPAL_SELECT)
        name = user.get("userPrincipalName") or user.get("displayName") or user["id"]
        return Principal(user["id"], "User", name, user)
    except NotFound:
        if not _is_guid(principal):
            raise NotFound(f"No user {principal} in the tenant.", code="Request_ResourceNotFound") from None
    try:
        group = graph.get(f"groups/{principal}", {"$select": "id,displayName"})
    except NotFound:
        raise NotFound(
            f"No user or group with object ID {principal} in the tenant.", code="Request_ResourceNotFound"
        ) from None
    return Principal(group["id"], "Group", group.get("displayName") or group["id"], group)


def add_assignment(graph: GraphClient, principal: str, app_role_id: str) -> tuple[Principal, dict]:
    """Assign a user (UPN or id) or group (id) a role: the principal, and the assignment Graph created."""
    found = resolve_principal(graph, principal)
    return found, graph.add_assignment(found.id, app_role_id)
