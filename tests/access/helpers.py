"""Setting up an application's Salesforce access the way the page does: Refresh from Salesforce, then roles."""

from __future__ import annotations

from connections.clients.salesforce import SalesforceClient
from mappings.access.catalogue import store_catalogue
from mappings.access.models import AccessKind, AppRoleAccess, OrgAccessItem
from mappings.changes import record_access_change


def refresh(application):
    return store_catalogue(application, SalesforceClient(application.salesforce).access_catalogue())


def item(application, name: str) -> OrgAccessItem:
    return OrgAccessItem.objects.get(application=application, name=name)


def give(application, role: str, *names: str, precedence: int = 100, user_role: str = "", flags=(), profile=""):
    """The app role `role` gives the items `names` (API names), and optionally a Salesforce Role and flags."""
    row, _ = AppRoleAccess.objects.update_or_create(
        application=application,
        role_value=role,
        defaults={
            "role_label": role,
            "precedence": precedence,
            "profile_name": profile,
            "feature_flags": list(flags),
            "user_role": OrgAccessItem.objects.get(application=application, kind=AccessKind.ROLE, name=user_role)
            if user_role
            else None,
        },
    )
    row.items.set([item(application, n) for n in names])
    record_access_change(application, changed_fields=["items"], detail=f"App role {role}")
    return row
