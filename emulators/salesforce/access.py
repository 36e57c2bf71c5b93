"""Access beyond the profile in the emulated org: permission sets (and groups), permission set licences, public
groups and queues, their assignments, and UserLogin (freezing), with the rules Salesforce applies to them.

Each rule names the Salesforce document it comes from. Codes that the documents name without a case (the API's
StatusCode list) are used for the case the help article describes; where a document gives no code the comment
says so and the code is the one the API uses for that kind of refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulators.ids import IdFactory, to_id15

if TYPE_CHECKING:
    from emulators.salesforce.state import SalesforceState

# The demo org's catalogue: (name, label, permission set licence or None)
PERMISSION_SETS = (
    ("Sales_Console", "Sales Console", None),
    ("Reports_Builder", "Reports Builder", None),
    ("Knowledge_Author", "Knowledge Author", None),
    ("CRM_Analytics_Viewer", "CRM Analytics Viewer", "CRMAnalyticsPlusPsl"),
    ("API_Only_Integration", "API Only Integration", None),
)
PERMISSION_SET_GROUPS = (("Sales_Team", "Sales Team", ("Sales_Console", "Reports_Builder")),)
PERMISSION_SET_LICENSES = (
    ("CRMAnalyticsPlusPsl", "CRM Analytics Plus", 50),
    ("SalesConsoleUser", "Sales Console User", 500),
)
GROUPS = (
    ("EMEA_Sales", "EMEA Sales", "Regular"),
    ("All_Support", "All Support", "Regular"),
    ("Support_Tier_1", "Support Tier 1", "Queue"),
)

PERMISSION_SET_OWNED_BY_PROFILE = (
    "You can't assign or unassign this permission set because it's owned by a profile. Change the user's profile "
    "instead."
)


class AccessError(Exception):
    """One refused record, in Salesforce's error shape (statusCode in collections)."""

    def __init__(self, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.fields = code, message, fields or []

    def as_error(self, key: str = "errorCode") -> dict[str, Any]:
        return {key: self.code, "message": self.message, "fields": self.fields}


@dataclass
class AccessTables:
    ids: IdFactory
    permission_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    permission_set_groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    group_components: dict[str, list[str]] = field(default_factory=dict)  # group id -> permission set ids
    assignments: dict[str, dict[str, Any]] = field(default_factory=dict)  # PermissionSetAssignment
    licences: dict[str, dict[str, Any]] = field(default_factory=dict)  # PermissionSetLicense
    licence_assignments: dict[str, dict[str, Any]] = field(default_factory=dict)  # PermissionSetLicenseAssign
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # GroupMember
    logins: dict[str, dict[str, Any]] = field(default_factory=dict)  # UserLogin
    # indexes: (assignee, permission set or group) -> id, (assignee, licence) -> id, (group, member) -> id
    by_assignment: dict[tuple[str, str], str] = field(default_factory=dict)
    by_licence: dict[tuple[str, str], str] = field(default_factory=dict)
    by_member: dict[tuple[str, str], str] = field(default_factory=dict)
    login_of: dict[str, str] = field(default_factory=dict)
    # object -> user id -> its record ids (Salesforce indexes the lookups; queries by assignee use this)
    by_owner: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: {
            "PermissionSetAssignment": {},
            "PermissionSetLicenseAssign": {},
            "GroupMember": {},
            "UserLogin": {},
        }
    )
    profile_sets: dict[str, str] = field(default_factory=dict)  # profile id -> its own permission set

    def tables(self) -> dict[str, dict[str, dict[str, Any]]]:
        return {
            "PermissionSet": self.permission_sets,
            "PermissionSetGroup": self.permission_set_groups,
            "PermissionSetAssignment": self.assignments,
            "PermissionSetLicense": {k: {**v, "UsedLicenses": self.used(k)} for k, v in self.licences.items()},
            "PermissionSetLicenseAssign": self.licence_assignments,
            "Group": self.groups,
            "GroupMember": self.members,
            "UserLogin": self.logins,
        }

    def used(self, licence_id: str) -> int:
        return sum(1 for a in self.licence_assignments.values() if a["PermissionSetLicenseId"] == licence_id)

    # --- the catalogue ---------------------------------------------------------------------------
    def seed(self, profiles: dict[str, dict[str, Any]]) -> None:
        for profile_id, profile in profiles.items():
            self.profile_sets[profile_id] = self.add_permission_set(
                f"X00ex{len(self.profile_sets):08d}", profile["Name"], owned_by=profile_id
            )
        licence_ids = {}
        for name, label, total in PERMISSION_SET_LICENSES:
            licence_ids[name] = self.add_licence(name, label, total)
        by_name = {}
        for name, label, licence in PERMISSION_SETS:
            by_name[name] = self.add_permission_set(name, label, licence_id=licence_ids.get(licence or ""))
        for name, label, components in PERMISSION_SET_GROUPS:
            self.add_permission_set_group(name, label, [by_name[c] for c in components])
        for name, label, kind in GROUPS:
            self.add_group(name, label, kind)

    def add_permission_set(
        self, name: str, label: str, *, licence_id: str | None = None, owned_by: str | None = None
    ) -> str:
        psid = self.ids.next("0PS")
        self.permission_sets[psid] = {
            "Id": psid,
            "Name": name,
            "Label": label,
            "IsOwnedByProfile": owned_by is not None,
            "Type": "Profile" if owned_by else "Regular",
            "LicenseId": licence_id,
            "ProfileId": owned_by,
            "PermissionSetGroupId": None,
        }
        return psid

    def add_permission_set_group(self, name: str, label: str, components: list[str]) -> str:
        gid = self.ids.next("0PG")
        self.permission_set_groups[gid] = {"Id": gid, "DeveloperName": name, "MasterLabel": label, "Status": "Updated"}
        self.group_components[gid] = list(components)
        return gid

    def add_licence(self, name: str, label: str, total: int) -> str:
        lid = self.ids.next("0PL")
        self.licences[lid] = {
            "Id": lid,
            "DeveloperName": name,
            "MasterLabel": label,
            "TotalLicenses": total,
            "Status": "Active",
        }
        return lid

    def add_group(self, name: str, label: str, kind: str) -> str:
        gid = self.ids.next("00G")
        self.groups[gid] = {"Id": gid, "Name": label, "DeveloperName": name, "Type": kind}
        return gid

    def delete_item(self, item_id: str) -> None:
        """An administrator deletes a permission set, group or licence in the org (its assignments go with it)."""
        for table, key in (
            (self.assignments, "PermissionSetId"),
            (self.assignments, "PermissionSetGroupId"),
            (self.licence_assignments, "PermissionSetLicenseId"),
            (self.members, "GroupId"),
        ):
            for record_id in [r for r, rec in table.items() if rec.get(key) == item_id]:
                self._drop(table, record_id)
        for table in (self.permission_sets, self.permission_set_groups, self.licences, self.groups):
            table.pop(item_id, None)

    # --- users -------------------------------------------------------------------------------------
    def user_created(self, user: dict[str, Any], stamp: str) -> None:
        """Every user has a UserLogin row and the assignment of their profile's own permission set."""
        login_id = self.ids.next("060")
        self.logins[login_id] = {"Id": login_id, "UserId": user["Id"], "IsFrozen": False, "IsPasswordLocked": False}
        self.login_of[user["Id"]] = login_id
        self.by_owner["UserLogin"][user["Id"]] = {login_id}
        self._profile_changed(user["Id"], None, user.get("ProfileId"), stamp)

    def profile_changed(self, user_id: str, old: str | None, new: str | None, stamp: str) -> None:
        if old != new:
            self._profile_changed(user_id, old, new, stamp)

    def _profile_changed(self, user_id: str, old: str | None, new: str | None, stamp: str) -> None:
        if old and old in self.profile_sets:
            record_id = self.by_assignment.get((user_id, self.profile_sets[old]))
            if record_id:
                self._drop(self.assignments, record_id)
        if new and new in self.profile_sets:
            self._insert_assignment(user_id, self.profile_sets[new], None, stamp)

    def frozen(self, user_id: str) -> bool:
        login = self.logins.get(self.login_of.get(user_id, ""))
        return bool(login and login["IsFrozen"])

    # --- writes ------------------------------------------------------------------------------------
    def _insert_assignment(self, user_id: str, ps_id: str | None, group_id: str | None, stamp: str) -> str:
        rid = self.ids.next("0Pa")
        self.assignments[rid] = {
            "Id": rid,
            "AssigneeId": user_id,
            "PermissionSetId": ps_id,
            "PermissionSetGroupId": group_id,
            "IsActive": True,
            "SystemModstamp": stamp,
        }
        self.by_assignment[(user_id, group_id or ps_id or "")] = rid
        self.by_owner["PermissionSetAssignment"].setdefault(user_id, set()).add(rid)
        return rid

    def _drop(self, table: dict[str, dict[str, Any]], record_id: str) -> dict[str, Any]:
        record = table.pop(record_id)
        if table is self.assignments:
            key = record["PermissionSetGroupId"] or record["PermissionSetId"]
            self.by_assignment.pop((record["AssigneeId"], key), None)
            self.by_owner["PermissionSetAssignment"].get(record["AssigneeId"], set()).discard(record_id)
        elif table is self.licence_assignments:
            self.by_licence.pop((record["AssigneeId"], record["PermissionSetLicenseId"]), None)
            self.by_owner["PermissionSetLicenseAssign"].get(record["AssigneeId"], set()).discard(record_id)
        elif table is self.members:
            self.by_member.pop((record["GroupId"], record["UserOrGroupId"]), None)
            self.by_owner["GroupMember"].get(record["UserOrGroupId"], set()).discard(record_id)
        return record

    def _restore(self, table: dict[str, dict[str, Any]], record: dict[str, Any]) -> None:
        table[record["Id"]] = record
        if table is self.assignments:
            key = record["PermissionSetGroupId"] or record["PermissionSetId"]
            self.by_assignment[(record["AssigneeId"], key)] = record["Id"]
            self.by_owner["PermissionSetAssignment"].setdefault(record["AssigneeId"], set()).add(record["Id"])
        elif table is self.licence_assignments:
            self.by_licence[(record["AssigneeId"], record["PermissionSetLicenseId"])] = record["Id"]
            self.by_owner["PermissionSetLicenseAssign"].setdefault(record["AssigneeId"], set()).add(record["Id"])
        elif table is self.members:
            self.by_member[(record["GroupId"], record["UserOrGroupId"])] = record["Id"]
            self.by_owner["GroupMember"].setdefault(record["UserOrGroupId"], set()).add(record["Id"])


def _resolve(table: dict[str, Any], value: Any, name: str, prefix: str) -> str:
    """A lookup id as Salesforce checks it: of the right object (prefix), then existing (15 or 18 characters)."""
    if type(value) is str and value in table and value.startswith(prefix):
        return value  # a record's own 18-character id (the usual case): it passes every check below
    if not isinstance(value, str) or not value:
        raise AccessError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{name}]", [name])
    if not value.startswith(prefix) or to_id15(value) is None:
        raise AccessError("FIELD_INTEGRITY_EXCEPTION", f"{name}: id value of incorrect type: {value}", [name])
    if value in table:
        return value
    id15 = to_id15(value)
    found = next((key for key in table if key[:15] == id15), None)
    if found is None:
        raise AccessError("INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {value}", [name])
    return found


def _assignee(state: SalesforceState, value: Any, name: str = "AssigneeId") -> dict[str, Any]:
    uid = _resolve(state.users, value, name, "005")
    user = state.users[uid]
    if not user.get("IsActive"):
        # The API's StatusCode list names INACTIVE_OWNER_OR_USER for an operation on an inactive user (SOAP API
        # Developer Guide, "Core Data Types Used in API Calls" > StatusCode); permission set and licence assignments
        # are refused for inactive users (Salesforce Help, "Assign Permission Sets": only active users are listed).
        raise AccessError("INACTIVE_OWNER_OR_USER", "operation performed with inactive user", [name])
    return user


Undo = Callable[[], None]


def create(state: SalesforceState, obj: str, values: dict[str, Any], stamp: str) -> tuple[str, Undo | None]:
    """Insert one access record; returns (id, undo). Raises AccessError."""
    access = state.access
    unknown = [k for k in values if k not in CREATE_FIELDS[obj]]
    if unknown:
        raise AccessError("INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {obj}", unknown[:1])
    if obj == "PermissionSetAssignment":
        return _assign_permission_set(state, values, stamp)
    if obj == "PermissionSetLicenseAssign":
        user = _assignee(state, values.get("AssigneeId"))
        lid = _resolve(access.licences, values.get("PermissionSetLicenseId"), "PermissionSetLicenseId", "0PL")
        if (user["Id"], lid) in access.by_licence:
            # Object Reference, PermissionSetLicenseAssign: one row per user and licence ("each ID represents the
            # association of a single user and single permission set license"); a second one is a duplicate.
            existing = access.by_licence[(user["Id"], lid)]
            raise AccessError(
                "DUPLICATE_VALUE", f"duplicate value found: <unknown> duplicates value on record with id: {existing}"
            )
        licence = access.licences[lid]
        if access.used(lid) >= licence["TotalLicenses"]:
            # Salesforce Help, "Permission Set Licenses": a licence can be assigned while seats remain; the seat
            # check answers like the user licence check (LICENSE_LIMIT_EXCEEDED, SOAP API StatusCode list).
            raise AccessError("LICENSE_LIMIT_EXCEEDED", f"License Limit Exceeded: {licence['MasterLabel']}")
        rid = access.ids.next("2LA")
        record = {"Id": rid, "AssigneeId": user["Id"], "PermissionSetLicenseId": lid, "SystemModstamp": stamp}
        access._restore(access.licence_assignments, record)
        return rid, lambda: access._drop(access.licence_assignments, rid)
    # GroupMember
    gid = _resolve(access.groups, values.get("GroupId"), "GroupId", "00G")
    member = values.get("UserOrGroupId")
    if isinstance(member, str) and member.startswith("00G"):
        member = _resolve(access.groups, member, "UserOrGroupId", "00G")
    else:
        member = _resolve(state.users, member, "UserOrGroupId", "005")
    if access.groups[gid]["Type"] not in ("Regular", "Queue"):
        # Object Reference, Group: members of Role, Organization and territory groups are computed by Salesforce;
        # only public groups (Regular) and queues take GroupMember rows.
        raise AccessError("FIELD_INTEGRITY_EXCEPTION", f"Group Id: members cannot be added to a group of type "
                          f"{access.groups[gid]['Type']}", ["GroupId"])  # fmt: skip
    existing = access.by_member.get((gid, member))
    if existing:
        # Object Reference, GroupMember: "If you attempt to create a record that matches an existing record, the
        # create call simply returns the existing record."
        return existing, None
    rid = access.ids.next("011")
    access._restore(access.members, {"Id": rid, "GroupId": gid, "UserOrGroupId": member, "SystemModstamp": stamp})
    return rid, lambda: access._drop(access.members, rid)


def _assign_permission_set(state: SalesforceState, values: dict[str, Any], stamp: str) -> tuple[str, Undo]:
    access = state.access
    user = _assignee(state, values.get("AssigneeId"))
    group_id = values.get("PermissionSetGroupId")
    ps_id = values.get("PermissionSetId")
    if group_id:
        group_id = _resolve(access.permission_set_groups, group_id, "PermissionSetGroupId", "0PG")
        components = access.group_components.get(group_id, [])
        key = group_id
        if access.permission_set_groups[group_id]["Status"] != "Updated":
            # Salesforce Help, "Permission Set Groups": a group whose status is not Updated cannot be assigned
            # until its permissions are recalculated.
            raise AccessError("FIELD_INTEGRITY_EXCEPTION", "This permission set group is being recalculated; assign "
                              "it when its status is Updated.", ["PermissionSetGroupId"])  # fmt: skip
    else:
        ps_id = _resolve(access.permission_sets, ps_id, "PermissionSetId", "0PS")
        if access.permission_sets[ps_id]["IsOwnedByProfile"]:
            # Object Reference, PermissionSet: IsOwnedByProfile permission sets are a profile's own; they are assigned
            # only through the profile (Salesforce Help, "Permission Sets").
            raise AccessError("FIELD_INTEGRITY_EXCEPTION", PERMISSION_SET_OWNED_BY_PROFILE, ["PermissionSetId"])
        components = [ps_id]
        key = ps_id
    if (user["Id"], key) in access.by_assignment:
        # Object Reference, PermissionSetAssignment: "each PermissionSetAssignment ID represents the association of a
        # single user and single permission set"; a second insert is refused with this message.
        raise AccessError(
            "DUPLICATE_VALUE", "duplicate value found: <unknown> duplicates value on record with id: <unknown>"
        )
    for component in components:
        licence_id = access.permission_sets.get(component, {}).get("LicenseId")
        if licence_id and licence_id in access.licences and (user["Id"], licence_id) not in access.by_licence:
            # Salesforce Help, "Can't assign permission set ... The permission set contains an object that requires
            # a license. Before continuing, assign the user to the related permission set license." (article 000390789)
            name = access.permission_sets[component]["Label"]
            raise AccessError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"Can't assign permission set {name} to user {user['Username']}. The permission set contains an object "
                "that requires a license. Before continuing, assign the user to the related permission set license.",
                ["AssigneeId"],
            )
    rid = access._insert_assignment(user["Id"], None if group_id else ps_id, group_id, stamp)
    return rid, lambda: access._drop(access.assignments, rid)


def delete(state: SalesforceState, record_id: str) -> Undo:
    """Delete one assignment or membership by id; raises AccessError."""
    access = state.access
    for table, prefix in (
        (access.assignments, "0Pa"),
        (access.licence_assignments, "2LA"),
        (access.members, "011"),
    ):
        if not record_id.startswith(prefix):
            continue
        key = record_id if record_id in table else next((k for k in table if k[:15] == record_id[:15]), None)
        if key is None:
            # sObject Collections delete: an id that no longer exists answers ENTITY_IS_DELETED per record.
            raise AccessError("ENTITY_IS_DELETED", "entity is deleted")
        record = table[key]
        if table is access.assignments and access.permission_sets.get(record["PermissionSetId"] or "", {}).get(
            "IsOwnedByProfile"
        ):
            raise AccessError("FIELD_INTEGRITY_EXCEPTION", PERMISSION_SET_OWNED_BY_PROFILE)
        if table is access.licence_assignments:
            _check_licence_unneeded(state, record)
        dropped = access._drop(table, key)
        return lambda: access._restore(table, dropped)
    raise AccessError("INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {record_id}")


def _check_licence_unneeded(state: SalesforceState, record: dict[str, Any]) -> None:
    # Salesforce Help, "Remove Permission Set Licenses from Users": a licence cannot be removed while the user holds
    # a permission set that requires it; remove the permission set first.
    access = state.access
    for assignment_id in access.by_owner["PermissionSetAssignment"].get(record["AssigneeId"], ()):
        assignment = access.assignments[assignment_id]
        components = (
            access.group_components.get(assignment["PermissionSetGroupId"], [])
            if assignment["PermissionSetGroupId"]
            else [assignment["PermissionSetId"]]
        )
        for component in components:
            if access.permission_sets.get(component, {}).get("LicenseId") == record["PermissionSetLicenseId"]:
                raise AccessError(
                    "FIELD_INTEGRITY_EXCEPTION",
                    "Can't remove the permission set license: the user is assigned the permission set "
                    f"{access.permission_sets[component]['Label']}, which requires it. Remove that permission set "
                    "first.",
                )


def update_login(state: SalesforceState, values: dict[str, Any]) -> tuple[str, Undo]:
    """Update a UserLogin row (freeze or unfreeze; unlock)."""
    access = state.access
    login_id = _resolve(access.logins, values.get("Id") or values.get("id"), "Id", "060")
    record = access.logins[login_id]
    before = dict(record)
    for name, value in values.items():
        if name.lower() == "id":
            continue
        if name not in ("IsFrozen", "IsPasswordLocked"):
            raise AccessError("INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: {name}.", [name])
        if not isinstance(value, bool):
            raise AccessError("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{name}: value not of required type: {value}", [name])
        if name == "IsPasswordLocked" and value:
            # Object Reference, UserLogin: "From the API, you can set this field to false, but not true."
            raise AccessError("FIELD_INTEGRITY_EXCEPTION", "IsPasswordLocked can be set to false only.", [name])
        record[name] = value

    def undo() -> None:
        record.clear()
        record.update(before)

    return login_id, undo


CREATE_FIELDS = {
    "PermissionSetAssignment": frozenset({"AssigneeId", "PermissionSetId", "PermissionSetGroupId"}),
    "PermissionSetLicenseAssign": frozenset({"AssigneeId", "PermissionSetLicenseId"}),
    "GroupMember": frozenset({"GroupId", "UserOrGroupId"}),
}
