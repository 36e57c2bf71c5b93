"""Refresh from Salesforce: the org's roles, permission sets, permission set groups, permission set licences, public
groups and queues, stored as the pickers of the Salesforce access page.

An item the org no longer has is kept while an app role still uses it, marked missing: Refresh names it with the
roles it affects, and cycles fail those users' grants of it with a clear message instead of skipping anything else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction

from connections.models import Application
from mappings.access.models import AccessKind, OrgAccessItem

# What each SOQL row of SalesforceClient.access_catalogue() becomes: (API name field, label field)
NAMES = {
    "role": ("DeveloperName", "Name"),
    "permission_set": ("Name", "Label"),
    "permission_set_group": ("DeveloperName", "MasterLabel"),
    "licence": ("DeveloperName", "MasterLabel"),
    "group": ("DeveloperName", "Name"),
}


@dataclass
class RefreshResult:
    added: list[str] = field(default_factory=list)
    kept: int = 0
    gone: list[str] = field(default_factory=list)  # "Permission set X (used by: Sales, Support)"
    dropped: int = 0  # gone and used by no role: forgotten

    def summary(self) -> str:
        parts = [f"{len(self.added)} new item(s)", f"{self.kept} already known"]
        if self.gone:
            parts.append(
                f"deleted in Salesforce but still chosen for an app role: {'; '.join(self.gone)}. Users with those "
                "roles fail to receive them until you choose another item or remove it from the role"
            )
        return "; ".join(parts)


def rows_from_org(catalogue: Mapping[str, Sequence[dict]]) -> list[dict]:
    """The catalogue's rows as OrgAccessItem fields."""
    rows = []
    for source, records in catalogue.items():
        name_field, label_field = NAMES[source]
        for record in records:
            kind = source
            if source == "group":
                kind = AccessKind.QUEUE if record.get("Type") == "Queue" else AccessKind.GROUP
            licence_id = str(record.get("LicenseId") or "")
            rows.append(
                {
                    "kind": kind,
                    "salesforce_id": str(record.get("Id") or ""),
                    "name": str(record.get(name_field) or record.get(label_field) or record.get("Id") or ""),
                    "label": str(record.get(label_field) or ""),
                    # A user licence (100...) comes with the profile; only a permission set licence is assigned.
                    "licence_id": licence_id if licence_id.startswith("0PL") else "",
                }
            )
    return [row for row in rows if row["salesforce_id"]]


@transaction.atomic
def store_catalogue(application: Application, catalogue: Mapping[str, Sequence[dict]]) -> RefreshResult:
    """Replace the application's catalogue with what the org holds now; keep (as missing) what roles still use."""
    result = RefreshResult()
    existing = {(row.kind, row.salesforce_id): row for row in OrgAccessItem.objects.filter(application=application)}
    seen: set[tuple[str, str]] = set()
    for fields in rows_from_org(catalogue):
        key = (fields["kind"], fields["salesforce_id"])
        seen.add(key)
        row = existing.get(key)
        if row is None:
            OrgAccessItem.objects.create(application=application, **fields)
            result.added.append(f"{AccessKind(fields['kind']).label} {fields['label'] or fields['name']}")
            continue
        result.kept += 1
        changed = {name: value for name, value in fields.items() if getattr(row, name) != value}
        if changed or row.missing:
            for name, value in changed.items():
                setattr(row, name, value)
            row.missing = False
            row.save()
    for key, row in existing.items():
        if key in seen:
            continue
        users = sorted(
            {str(r) for r in row.roles.all()} | {str(r) for r in row.application.role_access.filter(user_role=row)}
        )
        if not users:
            row.delete()
            result.dropped += 1
            continue
        if not row.missing:
            row.missing = True
            row.save(update_fields=["missing", "refreshed_at"])
        result.gone.append(f"{row.get_kind_display()} {row.display_name} (used by: {', '.join(users)})")
    return result
