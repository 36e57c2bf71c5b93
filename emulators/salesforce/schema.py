"""The describe metadata of the objects the emulator serves: field names, types, lengths, picklists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TIME_ZONES = (
    "America/Los_Angeles", "America/Denver", "America/Chicago", "America/New_York", "America/Sao_Paulo",
    "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Amsterdam", "Asia/Tokyo",
    "Asia/Kolkata", "Asia/Singapore", "Australia/Sydney", "Pacific/Auckland", "GMT",
)  # fmt: skip
LOCALES = (
    "en_US", "en_GB", "en_AU", "en_CA", "en_IE", "en_IN", "fr_FR", "fr_CA", "fr_BE", "de_DE", "de_AT", "de_CH",
    "es_ES", "es_MX", "it_IT", "nl_NL", "nl_BE", "pt_BR", "pt_PT", "sv_SE", "da_DK", "nb_NO", "fi_FI", "pl_PL",
    "ja_JP", "zh_CN", "ko_KR",
)  # fmt: skip
LANGUAGES = (
    "en_US", "en_GB", "de", "es", "es_MX", "fr", "it", "ja", "ko", "nl_NL", "pt_BR", "sv", "da", "fi", "no",
    "pl", "zh_CN",
)  # fmt: skip
ENCODINGS = ("UTF-8", "ISO-8859-1", "Shift_JIS", "ISO-2022-JP", "EUC-JP", "ks_c_5601-1987", "Big5", "GB2312")


@dataclass(frozen=True)
class Field:
    name: str
    # string, email, boolean, id, reference, picklist, multipicklist, date, datetime, double, phone, textarea
    type: str = "string"
    length: int = 0
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    custom: bool = False
    picklist: tuple[str, ...] = ()
    reference_to: str = ""
    label: str = ""

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label or self.name,
            "type": self.type,
            "length": self.length,
            "createable": self.createable,
            "updateable": self.updateable,
            "nillable": self.nillable,
            "custom": self.custom,
            "unique": self.name in ("Username", "CommunityNickname", "FederationIdentifier"),
            "idLookup": self.name in ("Id", "Username", "FederationIdentifier", "CommunityNickname"),
            "picklistValues": [{"active": True, "defaultValue": False, "label": v, "value": v} for v in self.picklist],
            "restrictedPicklist": bool(self.picklist),
            "referenceTo": [self.reference_to] if self.reference_to else [],
        }


def _f(name: str, type_: str = "string", length: int = 0, **kw: Any) -> Field:
    return Field(name, type_, length, **kw)


_SYSTEM = dict(createable=False, updateable=False)
USER_FIELDS: tuple[Field, ...] = (
    _f("Id", "id", 18, nillable=False, **_SYSTEM),
    _f("Username", "string", 80, nillable=False),
    _f("LastName", "string", 80, nillable=False),
    _f("FirstName", "string", 40),
    _f("Name", "string", 121, **_SYSTEM),
    _f("Email", "email", 128, nillable=False),
    _f("Alias", "string", 8, nillable=False),
    _f("CommunityNickname", "string", 40),
    _f("TimeZoneSidKey", "picklist", 40, nillable=False, picklist=TIME_ZONES),
    _f("LocaleSidKey", "picklist", 40, nillable=False, picklist=LOCALES),
    _f("EmailEncodingKey", "picklist", 40, nillable=False, picklist=ENCODINGS),
    _f("LanguageLocaleKey", "picklist", 40, nillable=False, picklist=LANGUAGES),
    _f("ProfileId", "reference", 18, nillable=False, reference_to="Profile"),
    _f("UserRoleId", "reference", 18, reference_to="UserRole"),
    _f("ManagerId", "reference", 18, reference_to="User"),
    _f("IsActive", "boolean", 0, nillable=False),
    _f("FederationIdentifier", "string", 512),
    _f("Title", "string", 80),
    _f("Department", "string", 80),
    _f("Division", "string", 80),
    _f("CompanyName", "string", 80),
    _f("EmployeeNumber", "string", 20),
    _f("Street", "textarea", 255),
    _f("City", "string", 40),
    _f("State", "string", 80),
    _f("PostalCode", "string", 20),
    _f("Country", "string", 80),
    _f("Phone", "phone", 40),
    _f("MobilePhone", "phone", 40),
    _f("Fax", "phone", 40),
    _f("UserType", "picklist", 40, **_SYSTEM),
    _f("UserPermissionsMarketingUser", "boolean", 0, nillable=False),
    _f("UserPermissionsOfflineUser", "boolean", 0, nillable=False),
    _f("UserPermissionsCallCenterAutoLogin", "boolean", 0, nillable=False),
    _f("UserPermissionsSupportUser", "boolean", 0, nillable=False),
    _f("ReceivesInfoEmails", "boolean", 0, nillable=False),
    _f("CreatedDate", "datetime", 0, **_SYSTEM),
    _f("LastModifiedDate", "datetime", 0, **_SYSTEM),
    _f("SystemModstamp", "datetime", 0, **_SYSTEM),
    _f("LastLoginDate", "datetime", 0, **_SYSTEM),
    _f("Entra_Object_Id__c", "string", 36, custom=True, label="Entra Object ID"),
    _f("Cost_Center__c", "string", 40, custom=True, label="Cost Center"),
    _f("Start_Date__c", "date", 0, custom=True, label="Start Date"),
    _f("Grade__c", "double", 0, custom=True, label="Grade"),
    _f(
        "Skills__c",
        "multipicklist",
        4099,
        custom=True,
        label="Skills",
        picklist=("Apex", "Flows", "Reports", "Security"),
    ),
)
PROFILE_FIELDS: tuple[Field, ...] = (
    _f("Id", "id", 18, **_SYSTEM),
    _f("Name", "string", 255),
    _f("UserLicenseId", "reference", 18, reference_to="UserLicense"),
    _f("UserType", "picklist", 40),
    _f("Description", "string", 255),
)
USERROLE_FIELDS: tuple[Field, ...] = (
    _f("Id", "id", 18, **_SYSTEM),
    _f("Name", "string", 80),
    _f("DeveloperName", "string", 80),
    _f("ParentRoleId", "reference", 18, reference_to="UserRole"),
)
ORGANIZATION_FIELDS: tuple[Field, ...] = (
    _f("Id", "id", 18, **_SYSTEM),
    _f("Name", "string", 80),
    _f("IsSandbox", "boolean", 0, **_SYSTEM),
    _f("OrganizationType", "string", 40, **_SYSTEM),
    _f("InstanceName", "string", 5, **_SYSTEM),
)
USERLICENSE_FIELDS: tuple[Field, ...] = (
    _f("Id", "id", 18, **_SYSTEM),
    _f("Name", "string", 80, **_SYSTEM),
    _f("TotalLicenses", "int", 0, **_SYSTEM),
    _f("UsedLicenses", "int", 0, **_SYSTEM),
)

# Access beyond the profile (Object Reference for the Salesforce Platform: PermissionSet, PermissionSetGroup,
# PermissionSetAssignment, PermissionSetLicense, PermissionSetLicenseAssign, Group, GroupMember, UserLogin).
PERMISSIONSET_FIELDS: tuple[Field, ...] = (
    _f("Id", "id", 18, **_SYSTEM),
    _f("Name", "string", 80),
    _f("Label", "string", 80),
    _f("IsOwnedByProfile", "boolean", 0, **_SYSTEM),
    _f("Type", "picklist", 40, **_SYSTEM),  # Regular, Group (a group's aggregate), Profile, Session
    _f("LicenseId", "reference", 18, reference_to="PermissionSetLicense"),  # a user licence or a permission set licence
    _f("ProfileId", "reference", 18, reference_to="Profile", **_SYSTEM),
    _f("PermissionSetGroupId", "reference", 18, reference_to="PermissionSetGroup", **_SYSTEM),
)
PERMISSIONSETGROUP_FIELDS: tuple[Field, ...] = (
    _f("Id", "id", 18, **_SYSTEM),
    _f("DeveloperName", "string", 80),
    _f("MasterLabel", "string", 80),
    _f("Status", "picklist", 40, **_SYSTEM),  # Updated, Outdated, Updating, Failed
)
PERMISSIONSETASSIGNMENT_FIELDS: tuple[Field, ...] = (
    _f("Id", "id", 18, **_SYSTEM),
    _f("AssigneeId", "reference", 18, reference_to="User", updateable=False),
    _f("PermissionSetId", "reference", 18, reference_to="PermissionSet", updateable=False),
    _f("PermissionSetGroupId", "reference", 18, reference_to="PermissionSetGroup", updateable=False),
    _f("IsActive", "boolean", 0, **_SYSTEM),
    _f("SystemModstamp", "datetime", 0, **_SYSTEM),
)
PERMISSIONSETLICENSE_FIELDS: tuple[Field, ...] = (
    _f("Id", "id", 18, **_SYSTEM),
    _f("DeveloperName", "string", 80, **_SYSTEM),
    _f("MasterLabel", "string", 80, **_SYSTEM),
    _f("TotalLicenses", "int", 0, **_SYSTEM),
    _f("UsedLicenses", "int", 0, **_SYSTEM),
    _f("Status", "picklist", 40, **_SYSTEM),
)
PERMISSIONSETLICENSEASSIGN_FIELDS: tuple[Field, ...] = (
    _f("Id", "id", 18, **_SYSTEM),
    _f("AssigneeId", "reference", 18, reference_to="User", updateable=False),
    _f("PermissionSetLicenseId", "reference", 18, reference_to="PermissionSetLicense", updateable=False),
    _f("SystemModstamp", "datetime", 0, **_SYSTEM),
)
GROUP_FIELDS: tuple[Field, ...] = (
    _f("Id", "id", 18, **_SYSTEM),
    _f("Name", "string", 40),
    _f("DeveloperName", "string", 80),
    _f("Type", "picklist", 40),  # Regular (public group), Queue, Role, Organization, ...
)
GROUPMEMBER_FIELDS: tuple[Field, ...] = (
    _f("Id", "id", 18, **_SYSTEM),
    _f("GroupId", "reference", 18, reference_to="Group", updateable=False),
    _f("UserOrGroupId", "reference", 18, reference_to="User", updateable=False),
    _f("SystemModstamp", "datetime", 0, **_SYSTEM),
)
USERLOGIN_FIELDS: tuple[Field, ...] = (
    _f("Id", "id", 18, **_SYSTEM),
    _f("UserId", "reference", 18, reference_to="User", **_SYSTEM),
    _f("IsFrozen", "boolean", 0, createable=False),
    _f("IsPasswordLocked", "boolean", 0, createable=False),
)

OBJECTS: dict[str, tuple[Field, ...]] = {
    "User": USER_FIELDS,
    "Profile": PROFILE_FIELDS,
    "UserRole": USERROLE_FIELDS,
    "Organization": ORGANIZATION_FIELDS,
    "UserLicense": USERLICENSE_FIELDS,
    "PermissionSet": PERMISSIONSET_FIELDS,
    "PermissionSetGroup": PERMISSIONSETGROUP_FIELDS,
    "PermissionSetAssignment": PERMISSIONSETASSIGNMENT_FIELDS,
    "PermissionSetLicense": PERMISSIONSETLICENSE_FIELDS,
    "PermissionSetLicenseAssign": PERMISSIONSETLICENSEASSIGN_FIELDS,
    "Group": GROUP_FIELDS,
    "GroupMember": GROUPMEMBER_FIELDS,
    "UserLogin": USERLOGIN_FIELDS,
}
KEY_PREFIXES = {
    "User": "005",
    "Profile": "00e",
    "UserRole": "00E",
    "Organization": "00D",
    "UserLicense": "100",
    "PermissionSet": "0PS",
    "PermissionSetGroup": "0PG",
    "PermissionSetAssignment": "0Pa",
    "PermissionSetLicense": "0PL",
    "PermissionSetLicenseAssign": "2LA",
    "Group": "00G",
    "GroupMember": "011",
    "UserLogin": "060",
}
# relationship name on an object -> (lookup field, target object)
RELATIONSHIPS = {
    "User": {
        "profile": ("ProfileId", "Profile"),
        "userrole": ("UserRoleId", "UserRole"),
        "manager": ("ManagerId", "User"),
    },
    "Profile": {"userlicense": ("UserLicenseId", "UserLicense")},
    "UserRole": {},
    "Organization": {},
    "UserLicense": {},
    "PermissionSet": {},
    "PermissionSetGroup": {},
    "PermissionSetAssignment": {
        "assignee": ("AssigneeId", "User"),
        "permissionset": ("PermissionSetId", "PermissionSet"),
        "permissionsetgroup": ("PermissionSetGroupId", "PermissionSetGroup"),
    },
    "PermissionSetLicense": {},
    "PermissionSetLicenseAssign": {
        "assignee": ("AssigneeId", "User"),
        "permissionsetlicense": ("PermissionSetLicenseId", "PermissionSetLicense"),
    },
    "Group": {},
    "GroupMember": {"group": ("GroupId", "Group")},
    "UserLogin": {"user": ("UserId", "User")},
}
FIELD_INDEX: dict[str, dict[str, Field]] = {obj: {f.name.lower(): f for f in fields} for obj, fields in OBJECTS.items()}
OBJECT_NAMES = {name.lower(): name for name in OBJECTS}


CREATEABLE = frozenset({"User", "PermissionSetAssignment", "PermissionSetLicenseAssign", "GroupMember"})
UPDATEABLE = frozenset({"User", "UserLogin"})
DELETABLE = frozenset({"PermissionSetAssignment", "PermissionSetLicenseAssign", "GroupMember"})


def describe(obj: str, base: str) -> dict[str, Any]:
    return {
        "name": obj,
        "label": obj,
        "keyPrefix": KEY_PREFIXES[obj],
        "createable": obj in CREATEABLE,
        "updateable": obj in UPDATEABLE,
        "deletable": obj in DELETABLE,
        "queryable": True,
        "custom": False,
        "fields": [f.describe() for f in OBJECTS[obj]],
        "urls": {"sobject": f"{base}/sobjects/{obj}", "describe": f"{base}/sobjects/{obj}/describe"},
    }
