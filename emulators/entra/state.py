"""In-memory Entra tenant: users (live and soft-deleted), groups, the enterprise app, assignments, a change log."""

from __future__ import annotations

import base64
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_ACCESS = "00000000-0000-0000-0000-000000000000"
USER_PROPERTIES = (
    "id",
    "userPrincipalName",
    "mail",
    "givenName",
    "surname",
    "displayName",
    "jobTitle",
    "department",
    "mobilePhone",
    "businessPhones",
    "officeLocation",
    "preferredLanguage",
    "city",
    "country",
    "state",
    "streetAddress",
    "postalCode",
    "companyName",
    "accountEnabled",
    "employeeId",
    "usageLocation",
    "mailNickname",
    "createdDateTime",
    "deletedDateTime",
    "onPremisesImmutableId",
    "employeeType",
    "faxNumber",
    "otherMails",
    # the rest of Graph v1.0's user properties that Entra's attribute list for users offers
    "ageGroup",
    "consentProvidedForMinor",
    "creationType",
    "employeeHireDate",
    "employeeLeaveDateTime",
    "employeeOrgData",
    "externalUserState",
    "lastPasswordChangeDateTime",
    "legalAgeGroupClassification",
    "onPremisesDistinguishedName",
    "onPremisesDomainName",
    "onPremisesExtensionAttributes",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "onPremisesUserPrincipalName",
    "passwordPolicies",
    "preferredDataLocation",
    "proxyAddresses",
    "showInAddressList",
    "signInSessionsValidFromDateTime",
    "userType",
)
# Graph's onPremisesExtensionAttributes: fifteen string properties, all present (null when unset).
EXTENSION_ATTRIBUTES = tuple(f"extensionAttribute{n}" for n in range(1, 16))
DEFAULT_SELECT = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Activity names of the Core Directory service for app role assignments, as the audit log lists them
# (https://learn.microsoft.com/entra/identity/monitoring-health/reference-audit-activities), with their category.
AUDIT_ACTIVITIES = {
    ("User", True): "Add app role assignment grant to user",
    ("User", False): "Remove app role assignment from user",
    ("Group", True): "Add app role assignment to group",
    ("Group", False): "Remove app role assignment from group",
}


@dataclass(frozen=True, slots=True)
class AuditRecord:
    at: datetime
    activity: str
    principal_id: str
    principal_type: str
    principal_name: str
    upn: str | None
    app_role_id: str
    assignment_id: str


@dataclass
class Client:
    client_id: str
    client_secret: str
    display_name: str
    secret_expired: bool = False


@dataclass
class SignInApplication:
    """An app registration people sign in to (the web platform): its redirect URIs, app roles, who holds which
    role (principal id -> app role ids, users or groups) and whether the ID token lists the user's groups."""

    client_id: str
    display_name: str
    app_roles: list[dict[str, Any]]
    redirect_uris: list[str] = field(default_factory=list)
    role_assignments: dict[str, set[str]] = field(default_factory=dict)
    group_membership_claims: str = "SecurityGroup"  # the manifest's groupMembershipClaims; "None" leaves them out

    def role_id(self, role: str) -> str:
        for app_role in self.app_roles:
            if role in (app_role["id"], app_role["value"], app_role["displayName"]):
                return app_role["id"]
        raise KeyError(f"unknown app role {role!r} of {self.display_name}")

    def role_values(self, principal_ids: list[str]) -> list[str]:
        ids = set().union(*(self.role_assignments.get(p, set()) for p in principal_ids))
        return sorted(r["value"] for r in self.app_roles if r["id"] in ids)


class EntraState:
    def __init__(self, tenant_id: str, domain: str = "contoso.onmicrosoft.com") -> None:
        self.tenant_id = tenant_id
        self.domain = domain
        self.clients: dict[str, Client] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.deleted_users: dict[str, dict[str, Any]] = {}
        self.by_upn: dict[str, str] = {}
        self.managers: dict[str, str] = {}  # user id -> manager id
        self.groups: dict[str, dict[str, Any]] = {}  # id -> {"id","displayName",..., "members": [ids]}
        self.service_principal: dict[str, Any] = {}
        self.assignments: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, tuple[str, float]] = {}  # access token -> (client id, expiry epoch)
        # directory extensions registered by applications: name (extension_<appId>_<name>) -> extensionProperty
        self.extension_properties: dict[str, dict[str, Any]] = {}
        self.verified_domains: list[str] = [domain]
        self.default_domain: str | None = domain
        # application permissions an administrator has not consented (the calls needing them answer 403)
        self.missing_permissions: set[str] = set()
        self.changes: list[tuple[int, str]] = []  # (sequence, user id), appended on every user change
        # The directory audit log's app role assignment activities (audit.py renders them as directoryAudit objects):
        # (time, activity, principal id, principal type, principal name, upn, app role id, assignment id).
        self.audit_log: list[AuditRecord] = []
        # Entries recorded while held are not listed yet (Entra's ingestion latency), then listed with their own time.
        self.audit_held_from: int | None = None
        # (sequence, group id, member id, added), appended on every membership change (groups/delta members@delta)
        self.membership_changes: list[tuple[int, str, str, bool]] = []
        self.sequence = itertools.count(1)
        self.last_sequence = 0
        self.delta_generation = 1  # bumped to expire every delta token issued so far
        self.throttle_token_endpoint = 0
        # Interactive sign-in: the app registrations people sign in to, users' passwords, codes not yet redeemed.
        self.signin_applications: dict[str, SignInApplication] = {}
        self.passwords: dict[str, str] = {}  # user id -> password
        self.authorization_codes: dict[str, dict[str, Any]] = {}

    # --- users -----------------------------------------------------------------------------------
    def record_change(self, user_id: str) -> None:
        self.last_sequence = next(self.sequence)
        self.changes.append((self.last_sequence, user_id))

    def add_user(self, user: dict[str, Any]) -> dict[str, Any]:
        record = {p: None for p in USER_PROPERTIES}
        record.update(businessPhones=[], otherMails=[], proxyAddresses=[], accountEnabled=True, userType="Member")
        record.update(createdDateTime=now_iso(), onPremisesExtensionAttributes=dict.fromkeys(EXTENSION_ATTRIBUTES))
        record.update(user)
        record.setdefault("id", str(uuid.uuid4()))
        if not record["id"]:
            record["id"] = str(uuid.uuid4())
        self.users[record["id"]] = record
        self.by_upn[record["userPrincipalName"].lower()] = record["id"]
        self.record_change(record["id"])
        return record

    def find_user(self, id_or_upn: str) -> dict[str, Any] | None:
        user = self.users.get(id_or_upn)
        if user is None:
            uid = self.by_upn.get(id_or_upn.lower())
            user = self.users.get(uid) if uid else None
        return user

    def update_user(self, user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        user = self.users[user_id]
        if "userPrincipalName" in changes:
            self.by_upn.pop(user["userPrincipalName"].lower(), None)
            self.by_upn[changes["userPrincipalName"].lower()] = user_id
        unknown = set(changes) - set(USER_PROPERTIES) - set(self.extension_properties) - {"manager"}
        if unknown:
            raise KeyError(f"unknown user properties: {sorted(unknown)}")
        if "manager" in changes:
            manager = changes.pop("manager")
            if manager:
                self.managers[user_id] = manager
            else:
                self.managers.pop(user_id, None)
        user.update(changes)
        self.record_change(user_id)
        return user

    def register_extension_property(
        self,
        app_id: str,
        name: str,
        data_type: str = "String",
        *,
        app_display_name: str = "",
        multi_valued: bool = False,
        synced: bool = False,
    ) -> dict[str, Any]:
        """A directory extension of users, registered by the application `app_id` (its full name is
        extension_<appId without dashes>_<name>), as POST /applications/{id}/extensionProperties creates it."""
        full = f"extension_{app_id.replace('-', '')}_{name}"
        definition = {
            "@odata.type": "#microsoft.graph.extensionProperty",
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, full)),
            "deletedDateTime": None,
            "appDisplayName": app_display_name,
            "dataType": data_type,
            "isMultiValued": multi_valued,
            "isSyncedFromOnPremises": synced,
            "name": full,
            "targetObjects": ["User"],
        }
        self.extension_properties[full] = definition
        return definition

    def soft_delete(self, user_id: str) -> None:
        user = self.users.pop(user_id)
        self.by_upn.pop(user["userPrincipalName"].lower(), None)
        user["deletedDateTime"] = now_iso()
        self.deleted_users[user_id] = user
        self.record_change(user_id)

    def restore(self, user_id: str) -> None:
        user = self.deleted_users.pop(user_id)
        user["deletedDateTime"] = None
        self.users[user_id] = user
        self.by_upn[user["userPrincipalName"].lower()] = user_id
        self.record_change(user_id)

    def hard_delete(self, user_id: str) -> None:
        user = self.users.pop(user_id, None) or self.deleted_users.pop(user_id)
        self.by_upn.pop(user["userPrincipalName"].lower(), None)
        for aid in [a for a, v in self.assignments.items() if v["principalId"] == user_id]:
            del self.assignments[aid]
        for group in self.groups.values():
            if user_id in group["members"]:
                group["members"].remove(user_id)
                self.record_membership(group["id"], user_id, added=False)
        self.record_change(user_id)

    # --- groups ----------------------------------------------------------------------------------
    def add_group(self, group_id: str, name: str, members: list[str]) -> dict[str, Any]:
        group = {
            "id": group_id,
            "displayName": name,
            "description": f"{name} (seeded)",
            "mail": None,
            "mailEnabled": False,
            "securityEnabled": True,
            "groupTypes": [],
            "createdDateTime": now_iso(),
            "members": list(members),
        }
        self.groups[group_id] = group
        return group

    def add_member(self, group_id: str, member_id: str) -> None:
        members = self.groups[group_id]["members"]
        if member_id not in members:
            members.append(member_id)
            self.record_membership(group_id, member_id, added=True)

    def remove_member(self, group_id: str, member_id: str) -> None:
        members = self.groups[group_id]["members"]
        if member_id in members:
            members.remove(member_id)
            self.record_membership(group_id, member_id, added=False)

    def record_membership(self, group_id: str, member_id: str, *, added: bool) -> None:
        self.last_sequence = next(self.sequence)
        self.membership_changes.append((self.last_sequence, group_id, member_id, added))

    def transitive_members(self, group_id: str) -> list[str]:
        seen: dict[str, None] = {}  # ordered, and O(1) membership: groups of 10,000+ members are common in benches
        stack = list(reversed(self.groups[group_id]["members"]))
        visited = {group_id}
        while stack:
            member = stack.pop()
            if member in seen:
                continue
            seen[member] = None
            if member in self.groups and member not in visited:
                visited.add(member)
                stack.extend(reversed(self.groups[member]["members"]))
        return list(seen)

    # --- assignments -----------------------------------------------------------------------------
    def role_id(self, role: str | None) -> str:
        """An app role id from its id, value or display name; None/"" means Default Access."""
        if not role or role in ("Default Access", DEFAULT_ACCESS):
            return DEFAULT_ACCESS
        for app_role in self.service_principal["appRoles"]:
            if role in (app_role["id"], app_role["value"], app_role["displayName"]):
                return app_role["id"]
        raise KeyError(f"unknown app role {role!r}")

    def assign(self, principal_id: str, role: str | None = None) -> dict[str, Any]:
        app_role_id = self.role_id(role)
        if principal_id in self.groups:
            principal_type, name = "Group", self.groups[principal_id]["displayName"]
        elif principal_id in self.users:
            principal_type, name = "User", self.users[principal_id]["displayName"]
        else:
            raise KeyError(f"unknown principal {principal_id}")
        raw = uuid.UUID(principal_id).bytes + uuid.uuid5(uuid.UUID(principal_id), app_role_id).bytes[:8]
        assignment_id = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        if assignment_id in self.assignments:  # the id is derived from (principal, role): O(1) duplicate check
            raise ValueError("Permission being assigned already exists on the object")
        assignment = {
            "id": assignment_id,
            "deletedDateTime": None,
            "appRoleId": app_role_id,
            "createdDateTime": now_iso(),
            "principalDisplayName": name,
            "principalId": principal_id,
            "principalType": principal_type,
            "resourceDisplayName": self.service_principal["displayName"],
            "resourceId": self.service_principal["id"],
        }
        # Neither users/delta nor groups/delta tracks app role assignments (delta follows only a user's manager and
        # a group's members among relationships): an assignment changes no delta. The audit log records it.
        self.assignments[assignment_id] = assignment
        self.record_audit(assignment, added=True)
        return assignment

    def unassign(self, assignment_id: str) -> None:
        assignment = self.assignments.pop(assignment_id)
        self.record_audit(assignment, added=False)

    def record_audit(self, assignment: dict[str, Any], *, added: bool) -> None:
        """The Core Directory activity Entra logs for an assignment added or removed (user or group)."""
        group = assignment["principalType"] == "Group"
        principal = self.groups.get(assignment["principalId"]) if group else self.users.get(assignment["principalId"])
        activity = AUDIT_ACTIVITIES[(assignment["principalType"], added)]
        self.audit_log.append(
            AuditRecord(
                at=datetime.now(UTC),
                activity=activity,
                principal_id=assignment["principalId"],
                principal_type=assignment["principalType"],
                principal_name=(principal or {}).get("displayName") or assignment["principalDisplayName"],
                upn=None if group else (principal or {}).get("userPrincipalName"),
                app_role_id=assignment["appRoleId"],
                assignment_id=assignment["id"],
            )
        )

    def groups_of(self, principal_id: str, transitive: bool = True) -> list[str]:
        """The groups `principal_id` is a member of, directly or (transitive) through nested groups."""
        found: list[str] = []
        frontier = {principal_id}
        while frontier:
            parents = [g for g, v in self.groups.items() if g not in found and frontier & set(v["members"])]
            found.extend(parents)
            frontier = set(parents) if transitive else set()
        return found

    def user_assignments(self, user_id: str) -> list[dict[str, Any]]:
        groups = {g for g, v in self.groups.items() if user_id in v["members"]}
        return [a for a in self.assignments.values() if a["principalId"] == user_id or a["principalId"] in groups]
