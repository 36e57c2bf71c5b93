"""The Salesforce User attributes a mapping may write: the standard fields (built in, so the editor works before
any call to Salesforce) plus the org's own fields read from describe by "Refresh target attributes"."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models, transaction

from connections.clients.salesforce import SalesforceClient
from connections.models import Application
from mappings.models import TargetAttribute


@dataclass(frozen=True)
class StandardAttribute:
    name: str
    type: str = "string"
    required: bool = False
    label: str = ""
    multivalued: bool = False
    reference_to: str = ""


# Salesforce requires these on insert (ProfileId may be given as ProfileName, resolved at export time), so a
# mapping row for them cannot be deleted.
REQUIRED_TARGET_ATTRIBUTES = frozenset(
    {
        "Username",
        "LastName",
        "Email",
        "Alias",
        "TimeZoneSidKey",
        "LocaleSidKey",
        "EmailEncodingKey",
        "ProfileName",
        "ProfileId",
        "LanguageLocaleKey",
    }
)
# Entra's Salesforce schema adds two attributes Salesforce itself does not have: ProfileName (a profile by name,
# resolved to ProfileId) and PermissionSets (multi-valued, assigned after the user is written).
VIRTUAL_TARGET_ATTRIBUTES = frozenset({"ProfileName", "PermissionSets"})

_S = StandardAttribute
STANDARD_TARGET_ATTRIBUTES: tuple[StandardAttribute, ...] = (
    _S("AboutMe", "textarea"),
    _S("Alias", required=True),
    _S("City"),
    _S("CommunityNickname"),
    _S("CompanyName"),
    _S("Country"),
    _S("DelegatedApproverId", "reference", reference_to="User"),
    _S("Department"),
    _S("Division"),
    _S("Email", "email", required=True),
    _S("EmailEncodingKey", "picklist", required=True),
    _S("EmployeeNumber"),
    _S("Extension", "phone"),
    _S("Fax", "phone"),
    _S("FederationIdentifier"),
    _S("FirstName"),
    _S("IsActive", "boolean"),
    _S("LanguageLocaleKey", "picklist", required=True),
    _S("LastName", required=True),
    _S("LocaleSidKey", "picklist", required=True),
    _S("ManagerId", "reference", reference_to="User"),
    _S("MiddleName"),
    _S("MobilePhone", "phone"),
    _S("PermissionSets", "multi-valued", label="Permission sets (names)", multivalued=True),
    _S("Phone", "phone"),
    _S("PostalCode"),
    _S("ProfileId", "reference", reference_to="Profile"),
    _S("ProfileName", required=True, label="Profile (by name)"),
    _S("ReceivesAdminInfoEmails", "boolean"),
    _S("ReceivesInfoEmails", "boolean"),
    _S("SenderEmail", "email"),
    _S("SenderName"),
    _S("Signature", "textarea"),
    _S("State"),
    _S("Street", "textarea"),
    _S("Suffix"),
    _S("TimeZoneSidKey", "picklist", required=True),
    _S("Title"),
    _S("UserPermissionsCallCenterAutoLogin", "boolean"),
    _S("UserPermissionsInteractionUser", "boolean"),
    _S("UserPermissionsKnowledgeUser", "boolean"),
    _S("UserPermissionsMarketingUser", "boolean"),
    _S("UserPermissionsMobileUser", "boolean"),
    _S("UserPermissionsOfflineUser", "boolean"),
    _S("UserPermissionsSFContentUser", "boolean"),
    _S("UserPermissionsSupportUser", "boolean"),
    _S("UserRoleId", "reference", reference_to="UserRole"),
    _S("Username", required=True),
)
STANDARD_TARGET_NAMES = frozenset(a.name for a in STANDARD_TARGET_ATTRIBUTES)


def target_attribute_names(application: Application) -> list[str]:
    """Every attribute the editor offers: standard ones plus those read from the org, sorted."""
    names = set(STANDARD_TARGET_NAMES)
    names.update(TargetAttribute.objects.filter(application=application).values_list("name", flat=True))
    return sorted(names, key=str.lower)


def target_attribute_rows(application: Application) -> list[dict]:
    """Name, type, required, multi-value, reference and origin of each attribute, for the attribute list."""
    rows = {
        a.name: {
            "name": a.name,
            "type": a.type,
            "required": a.required,
            "custom": False,
            "label": a.label or a.name,
            "multivalued": a.multivalued,
            "reference_to": a.reference_to,
            "manual": False,
        }
        for a in STANDARD_TARGET_ATTRIBUTES
    }
    for row in TargetAttribute.objects.filter(application=application):
        rows[row.name] = {
            "name": row.name,
            "type": row.type,
            "required": row.required or row.name in REQUIRED_TARGET_ATTRIBUTES,
            "custom": row.custom,
            "label": row.label or row.name,
            "multivalued": row.multivalued,
            "reference_to": row.reference_to,
            "manual": row.manual,
        }
    return sorted(rows.values(), key=lambda r: r["name"].lower())


# Entra's attribute types (the attribute list editor, Graph's attributeDefinition) as Salesforce field types.
SALESFORCE_TYPES = {
    "String": "string",
    "Boolean": "boolean",
    "Integer": "int",
    "DateTime": "datetime",
    "Reference": "reference",
    "Binary": "base64",
}


def salesforce_type(entra_type: str, multivalued: bool = False) -> str:
    """The Salesforce field type of an attribute typed as Entra types them (a multi-valued one: multipicklist)."""
    return "multipicklist" if multivalued else SALESFORCE_TYPES.get(entra_type, "string")


def _is_writable(field: dict) -> bool:
    return bool(field.get("createable") or field.get("updateable"))


@transaction.atomic
def store_described_fields(application: Application, describe: dict) -> tuple[int, int]:
    """Replace the application's described TargetAttribute rows with the writable fields of a User describe (rows
    added by hand stay, unless describe now has a field of that name).

    Returns (fields stored, custom fields among them). Virtual attributes stay available through the built-in list.
    """
    fields = [f for f in describe.get("fields") or [] if f.get("name") and _is_writable(f)]
    described = {f["name"] for f in fields}
    TargetAttribute.objects.filter(application=application).filter(
        models.Q(manual=False) | models.Q(name__in=described)
    ).delete()
    rows = [
        TargetAttribute(
            application=application,
            name=f["name"],
            label=(f.get("label") or "")[:200],
            type=(f.get("type") or "string")[:40],
            required=f["name"] in REQUIRED_TARGET_ATTRIBUTES
            or (not f.get("nillable", True) and not f.get("defaultedOnCreate", False) and bool(f.get("createable"))),
            length=f.get("length") or None,
            custom=bool(f.get("custom")),
            picklist_values=[p.get("value") for p in f.get("picklistValues") or [] if p.get("active", True)],
            multivalued=f.get("type") == "multipicklist",
            reference_to=",".join(f.get("referenceTo") or [])[:120],
        )
        for f in fields
    ]
    TargetAttribute.objects.bulk_create(rows)
    return len(rows), sum(1 for r in rows if r.custom)


def refresh_target_attributes(application: Application) -> tuple[int, int]:
    """Read the User describe from Salesforce and store its writable fields. Raises RemoteError on failure."""

    client = SalesforceClient(application.salesforce)
    return store_described_fields(application, client.describe_user())
