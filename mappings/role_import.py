"""Import roles: the org's Salesforce profiles published as app roles of the enterprise application.

Admins then pick a profile when they assign a user in Entra, and `SingleAppRoleAssignment([appRoleAssignments])`
gives that profile's name to ProfileName. Roles already on the service principal keep their ids (assignments
point at them), including Default Access and roles whose profile is gone; new profiles get new role ids. Two
profiles (or roles) with the same name are refused: Entra quarantines a job whose roles are duplicated.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from connections.clients.graph import GraphClient
from connections.clients.salesforce import SalesforceClient
from connections.models import Application
from console.models import AuditActivity, record_audit
from mappings.directory.assignments import is_default_access, role_value


class DuplicateRolesError(ValueError):
    """Profiles or roles share a name; nothing was published."""


@dataclass
class RoleImportResult:
    roles: list[dict]  # every app role after the import, as published
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # roles whose profile no longer exists in Salesforce

    @property
    def changed(self) -> bool:
        return bool(self.added)

    def summary(self) -> str:
        parts = [f"{len(self.added)} new role(s)" + (f": {', '.join(self.added)}" if self.added else "")]
        parts.append(f"{len(self.kept)} already present")
        if self.stale:
            parts.append(f"kept {len(self.stale)} role(s) with no matching profile: {', '.join(self.stale)}")
        return "; ".join(parts)


def _duplicates(names: Sequence[str]) -> list[str]:
    counts = Counter(n.casefold() for n in names)
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.casefold(), name)
    return sorted(seen[k] for k, n in counts.items() if n > 1)


def plan_app_roles(existing: Sequence[dict], profiles: Sequence[dict]) -> RoleImportResult:
    """The app roles after importing `profiles` into `existing`. Raises DuplicateRolesError."""
    profile_names = [p.get("Name") or "" for p in profiles if p.get("Name")]
    duplicated = _duplicates(profile_names)
    if duplicated:
        raise DuplicateRolesError(
            f"Salesforce has more than one profile named {', '.join(repr(n) for n in duplicated)}. App roles must "
            "have unique names (Entra quarantines a provisioning job with duplicate roles): rename the profiles in "
            "Salesforce, then import again. Nothing was published."
        )
    duplicated = _duplicates([role_value(r) for r in existing if not is_default_access(r)])
    if duplicated:
        raise DuplicateRolesError(
            f"The enterprise application already has more than one app role named "
            f"{', '.join(repr(n) for n in duplicated)}. Remove the duplicates in Entra (Enterprise applications > "
            "App registrations > App roles), then import again. Nothing was published."
        )
    by_name = {role_value(r).casefold(): r for r in existing if not is_default_access(r)}
    result = RoleImportResult(roles=[dict(r) for r in existing])
    wanted = {n.casefold() for n in profile_names}
    for name in profile_names:
        if name.casefold() in by_name:
            result.kept.append(name)
            continue
        result.added.append(name)
        result.roles.append(
            {
                "allowedMemberTypes": ["User"],
                "description": f"Salesforce profile {name}",
                "displayName": name,
                "id": str(uuid.uuid4()),
                "isEnabled": True,
                "origin": "Application",
                "value": name,
            }
        )
    result.stale = sorted(role_value(r) for k, r in by_name.items() if k not in wanted)
    return result


def import_roles(application: Application, *, actor=None) -> RoleImportResult:
    """Read the profiles from Salesforce and publish the missing ones as app roles through Graph.

    Raises DuplicateRolesError, or RemoteError when Salesforce or Graph cannot be reached.
    """

    profiles = SalesforceClient(application.salesforce).profiles()
    graph = GraphClient(application.entra)
    existing = graph.service_principal("id,appRoles").get("appRoles") or []
    result = plan_app_roles(existing, profiles)
    if result.changed:
        graph.set_app_roles(result.roles)
    record_audit(
        AuditActivity.IMPORT_ROLES,
        actor=actor,
        application=application,
        changed_fields=["appRoles"] if result.changed else [],
        detail=result.summary(),
    )
    return result
