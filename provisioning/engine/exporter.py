"""Export: send the planned writes to Salesforce in collections, and honour each record's own result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from provisioning.engine.items import ItemError, WorkItem
from provisioning.engine.planner import PlanKind, is_redacted

PSEUDO_TARGETS = frozenset({"ProfileName", "PermissionSets"})
KNOWN_BOOLEANS = frozenset({"IsActive"})

# Salesforce status codes -> the codes Entra's provisioning logs use, with what to do about them.
ERROR_CODES: dict[str, tuple[str, str]] = {
    "DUPLICATE_USERNAME": (
        "SalesforceDuplicateUserName",
        "Usernames are unique across every Salesforce org: change the user's userPrincipalName or the sandbox "
        "suffix, or free the username in the other org. The user is retried in later cycles.",
    ),
    "REQUIRED_FIELD_MISSING": (
        "SalesforceRequiredFieldMissing",
        "Give the missing attribute a value in Entra, or a default value in the attribute mapping.",
    ),
    "LICENSE_LIMIT_EXCEEDED": (
        "SalesforceLicenseLimitExceeded",
        "No licence of the profile's type is left in the org: free or buy licences, or assign another profile.",
    ),
    "INVALID_CROSS_REFERENCE_KEY": ("InvalidAnchor", "The Salesforce user no longer exists; Restart provisioning."),
    "ENTITY_IS_DELETED": ("InvalidAnchor", "The Salesforce user no longer exists; Restart provisioning."),
    "FIELD_INTEGRITY_EXCEPTION": ("Conflict", "Fix the attribute value in Entra or the mapping."),
    "INVALID_EMAIL_ADDRESS": ("InvalidDomain", "Fix the user's mail attribute in Entra."),
    "STRING_TOO_LONG": ("SchemaPropertyCanOnlyAcceptValue", "Shorten the value with the mapping (Mid, Left)."),
    "INVALID_FIELD": ("SchemaAttributeNotFound", "Remove the mapping of a field the org does not have."),
}


class ProfileCache:
    """The org's profiles, read once per cycle: ProfileName -> ProfileId at export time."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._by_name: dict[str, str] | None = None
        self._by_id: dict[str, str] = {}

    def _load(self) -> dict[str, str]:
        if self._by_name is None:
            profiles = self.client.profiles()
            self._by_name = {p["Name"]: p["Id"] for p in profiles if p.get("Name") and p.get("Id")}
            self._by_id = {p["Id"]: p["Name"] for p in profiles if p.get("Name") and p.get("Id")}
        return self._by_name

    def id_of(self, name: str) -> str | None:
        by_name = self._load()
        if name in by_name:
            return by_name[name]
        folded = {n.lower(): i for n, i in by_name.items()}
        return folded.get(str(name).lower())

    def name_of(self, profile_id: str | None) -> str | None:
        if not profile_id:
            return None
        self._load()
        return self._by_id.get(profile_id) or next(
            (n for i, n in self._by_id.items() if i[:15] == profile_id[:15]), None
        )


def salesforce_value(name: str, value: Any, booleans: frozenset[str]) -> Any:
    if is_redacted(value):
        return str(value)
    if name in booleans or name.startswith(("UserPermissions", "UserPreferences")) or name in KNOWN_BOOLEANS:
        if isinstance(value, str):
            return value.strip().lower() == "true"
        return bool(value)
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return value


class Exporter:
    def __init__(self, client: Any, profiles: ProfileCache, booleans: Sequence[str] = ()) -> None:
        self.client = client
        self.profiles = profiles
        self.booleans = frozenset(booleans)

    def record_for(self, item: WorkItem) -> dict | None:
        """The Salesforce record of a planned write; None (and the item failed) when it cannot be sent."""
        assert item.plan is not None
        record: dict[str, Any] = {}
        for name, value in item.plan.changes.items():
            if name == "ProfileName":
                profile_id = self.profiles.id_of(str(value))
                if profile_id is None:
                    item.fail(
                        ItemError(
                            "SalesforceProfileNotFound",
                            f"Profile '{value}' does not exist in the org: import roles or fix the assignment.",
                            "Import the org's profiles as app roles (Provisioning > Mappings) or assign the user "
                            "a role that names an existing profile.",
                            step="export",
                        )
                    )
                    return None
                record["ProfileId"] = profile_id
            elif name not in PSEUDO_TARGETS:
                record[name] = salesforce_value(name, value, self.booleans)
        if item.plan.kind != PlanKind.CREATE:
            record["Id"] = item.target_id
        return record

    def export(self, items: Sequence[WorkItem]) -> None:
        """Create and update in collections; each item gets its own result (one bad user fails alone)."""
        creates: list[tuple[WorkItem, dict]] = []
        updates: list[tuple[WorkItem, dict]] = []
        for item in items:
            record = self.record_for(item)
            if record is None:
                continue
            (creates if item.plan.kind == PlanKind.CREATE else updates).append((item, record))
        if creates:
            results = self.client.create_users([record for _, record in creates])
            self._apply([item for item, _ in creates], results)
        if updates:
            results = self.client.update_users([record for _, record in updates])
            self._apply([item for item, _ in updates], results)

    def _apply(self, items: Sequence[WorkItem], results: Sequence[Any]) -> None:
        for item, result in zip(items, results, strict=True):
            if result.ok:
                if result.id:
                    item.target_id = result.id
                continue
            code, recommendation = ERROR_CODES.get(result.code, (result.code or "UnprocessableEntity", ""))
            fields = f" (fields: {', '.join(result.fields)})" if result.fields else ""
            item.fail(
                ItemError(
                    code,
                    f"Salesforce refused the record: {result.message}{fields} [{result.code}]",
                    recommendation,
                    step="export",
                    category="failure",
                )
            )
