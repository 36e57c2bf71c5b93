"""The source user: what mappings, scoping filters and the expression tester evaluate.

A Graph user's properties (those the mappings read, asked for with $select), under Entra's names too where they
differ (attributes.py), plus Entra's pseudo-attributes:
appRoleAssignments (the role values that reach the user, see assignments.py), IsSoftDeleted ("True" for a user
deleted or blocked from signing in) and objectId.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mappings.directory.attributes import graph_property, read_derived

PSEUDO_ATTRIBUTES = frozenset({"appRoleAssignments", "IsSoftDeleted", "objectId"})
BASE_SELECT = ("id", "accountEnabled", "userPrincipalName", "displayName")  # what the console itself reads


def select_for(source_attributes: Iterable[str]) -> list[str]:
    """Graph $select: the Graph properties holding the attributes the mappings read (extensionAttribute3 is in
    onPremisesExtensionAttributes, employeeOrgData.division in employeeOrgData), plus what the console itself
    needs."""
    wanted = dict.fromkeys(BASE_SELECT)
    for name in sorted(source_attributes):
        prop = graph_property(name)
        if prop and name not in PSEUDO_ATTRIBUTES:
            wanted[prop] = None
    return list(wanted)


def source_user(raw: Mapping[str, Any], roles: Sequence[str], *, removed: bool = False) -> dict[str, Any]:
    """The dict mappings are evaluated on: Graph properties (annotations dropped) plus the pseudo-attributes.

    `roles` are the user's role values (AssignmentReader); `removed` marks a user Graph reported deleted.
    """
    user = {key: value for key, value in raw.items() if not key.startswith("@")}
    read_derived(raw, user)
    user["appRoleAssignments"] = list(roles)
    soft_deleted = removed or raw.get("accountEnabled") is False
    user["IsSoftDeleted"] = "True" if soft_deleted else "False"
    user.setdefault("objectId", raw.get("id"))
    return user
