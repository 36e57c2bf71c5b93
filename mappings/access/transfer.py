"""Salesforce access as code: the `salesforce_access` section of `apps export` and `apps create --file`.

    "salesforce_access": {
      "settings": {"revoke_on_deactivation": true, "freeze_leavers": "never", "sync_manager": false},
      "items": [{"kind": "permission_set", "id": "0PS...", "name": "Sales_Console", "label": "Sales Console",
                 "licence_id": "", "remove_unmanaged": false}],
      "roles": [{"role": "Sales Representative", "label": "Sales", "precedence": 1, "profile": "",
                 "salesforce_role": "00E...", "items": ["0PS..."],
                 "feature_licences": ["UserPermissionsMarketingUser"]}]
    }

Only the items the roles use (or whose outside grants are removed) are exported; Refresh from Salesforce reads the
rest of the org's catalogue. Every problem of the section is listed at once, and nothing is saved unless all is valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connections.models import Application
from mappings.access.models import (
    FEATURE_FLAG_NAMES,
    AccessKind,
    AccessSettings,
    AppRoleAccess,
    FreezeLeavers,
    OrgAccessItem,
)

SECTION = "salesforce_access"
SETTINGS = ("profile_by_precedence", "revoke_on_deactivation", "freeze_leavers", "sync_manager")
ITEM_KEYS = {"kind", "id", "name", "label", "licence_id", "remove_unmanaged"}
ROLE_KEYS = {"role", "label", "precedence", "profile", "salesforce_role", "items", "feature_licences"}


def export_access(application: Application) -> dict[str, Any]:
    settings = AccessSettings.objects.filter(application=application).first() or AccessSettings()
    roles = list(
        AppRoleAccess.objects.filter(application=application).prefetch_related("items").select_related("user_role")
    )
    used = {i.pk for r in roles for i in r.items.all()} | {r.user_role_id for r in roles if r.user_role_id}
    items = OrgAccessItem.objects.filter(application=application).order_by("kind", "name")
    return {
        "settings": {name: getattr(settings, name) for name in SETTINGS},
        "items": [
            {
                "kind": i.kind,
                "id": i.salesforce_id,
                "name": i.name,
                "label": i.label,
                "licence_id": i.licence_id,
                "remove_unmanaged": i.remove_unmanaged,
            }
            for i in items
            if i.pk in used or i.remove_unmanaged
        ],
        "roles": [
            {
                "role": r.role_value,
                "label": r.role_label,
                "precedence": r.precedence,
                "profile": r.profile_name,
                "salesforce_role": r.user_role.salesforce_id if r.user_role else "",
                "items": sorted(i.salesforce_id for i in r.items.all()),
                "feature_licences": list(r.feature_flags),
            }
            for r in roles
        ],
    }


def _entries(section: Mapping[str, Any], key: str, allowed: set[str]) -> tuple[list[tuple[str, Mapping]], list[str]]:
    """The objects of the list `key` with where each stands, and the problems of their shape."""
    values = section.get(key) or []
    if not isinstance(values, list):
        return [], [f"{SECTION}.{key}: expected a list"]
    entries, errors = [], []
    for n, value in enumerate(values):
        where = f"{SECTION}.{key}[{n}]"
        if not isinstance(value, Mapping):
            errors.append(f"{where}: expected an object")
            continue
        errors += [f"{where}.{k}: unknown key" for k in value if k not in allowed]
        entries.append((where, value))
    return entries, errors


def _problems(section: Mapping[str, Any]) -> list[str]:
    errors = [f"{SECTION}.{key}: unknown key" for key in section if key not in ("settings", "items", "roles")]
    settings = section.get("settings") or {}
    if not isinstance(settings, Mapping):
        return errors + [f"{SECTION}.settings: expected an object"]
    errors += [f"{SECTION}.settings.{k}: unknown key" for k in settings if k not in SETTINGS]
    for name in ("profile_by_precedence", "revoke_on_deactivation", "sync_manager"):
        if name in settings and not isinstance(settings[name], bool):
            errors.append(f"{SECTION}.settings.{name}: expected true or false")
    if "freeze_leavers" in settings and settings["freeze_leavers"] not in FreezeLeavers.values:
        errors.append(f"{SECTION}.settings.freeze_leavers: one of {', '.join(FreezeLeavers.values)}")
    items, problems = _entries(section, "items", ITEM_KEYS)
    errors += problems
    ids: set[str] = set()
    for where, item in items:
        if item.get("kind") not in AccessKind.values:
            errors.append(f"{where}.kind: one of {', '.join(AccessKind.values)}")
        if not isinstance(item.get("id"), str) or len(item.get("id", "")) not in (15, 18):
            errors.append(f"{where}.id: a Salesforce id (15 or 18 characters)")
        if not isinstance(item.get("name"), str) or not item.get("name"):
            errors.append(f"{where}.name: required")
        ids.add(str(item.get("id")))
    roles, problems = _entries(section, "roles", ROLE_KEYS)
    errors += problems
    seen: set[str] = set()
    for where, role in roles:
        value = role.get("role")
        if not isinstance(value, str) or not value:
            errors.append(f"{where}.role: the app role's value is required")
        elif value.casefold() in seen:
            errors.append(f"{where}.role: {value} is listed twice")
        else:
            seen.add(value.casefold())
        precedence = role.get("precedence", 100)
        if not isinstance(precedence, int) or isinstance(precedence, bool) or precedence < 0:
            errors.append(f"{where}.precedence: a whole number, 0 or more")
        for item_id in [
            *(role.get("items") or []),
            *([role["salesforce_role"]] if role.get("salesforce_role") else []),
        ]:
            if item_id not in ids:
                errors.append(f"{where}: {item_id} is not one of {SECTION}.items")
        unknown = [f for f in role.get("feature_licences") or [] if f not in FEATURE_FLAG_NAMES]
        if unknown:
            errors.append(f"{where}.feature_licences: unknown {', '.join(map(str, unknown))}")
    return errors


def import_access(application: Application, section: Any) -> list[str]:
    """Store the section (inside the caller's transaction); returns the problems, and stores nothing if any."""
    if not isinstance(section, Mapping):
        return [f"{SECTION}: expected an object"]
    errors = _problems(section)
    if errors:
        return errors
    settings = section.get("settings") or {}
    AccessSettings.objects.update_or_create(application=application, defaults=dict(settings))
    rows = {}
    for item in section.get("items") or []:
        rows[item["id"]], _ = OrgAccessItem.objects.update_or_create(
            application=application,
            kind=item["kind"],
            salesforce_id=item["id"],
            defaults={
                "name": item["name"],
                "label": item.get("label") or "",
                "licence_id": item.get("licence_id") or "",
                "remove_unmanaged": bool(item.get("remove_unmanaged")),
            },
        )
    for role in section.get("roles") or []:
        access, _ = AppRoleAccess.objects.update_or_create(
            application=application,
            role_value=role["role"],
            defaults={
                "role_label": role.get("label") or role["role"],
                "precedence": role.get("precedence", 100),
                "profile_name": role.get("profile") or "",
                "user_role": rows.get(role.get("salesforce_role") or ""),
                "feature_flags": list(role.get("feature_licences") or []),
            },
        )
        access.items.set([rows[i] for i in role.get("items") or []])
    return []
