"""In-memory state of one emulated Salesforce sandbox org: users with indexes, profiles, roles, sessions."""

from __future__ import annotations

import copy
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulators.ids import IdFactory, to_id15
from emulators.salesforce.access import AccessTables

PROFILES = (  # name, licence, user type
    ("System Administrator", "Salesforce", "Standard"),
    ("Standard User", "Salesforce", "Standard"),
    ("Read Only", "Salesforce", "Standard"),
    ("Minimum Access - Salesforce", "Salesforce", "Standard"),
    ("Chatter Free User", "Chatter Free", "CsnOnly"),
    ("Sales Representative", "Salesforce", "Standard"),
    ("Support Agent", "Salesforce", "Standard"),
    ("Marketing User", "Salesforce", "Standard"),
)
ROLES = (
    ("CEO", None),
    ("VP Sales", "CEO"),
    ("Sales Manager EMEA", "VP Sales"),
    ("Sales Rep", "Sales Manager EMEA"),
    ("Support Lead", "CEO"),
)


_last_stamp: tuple[int, str] = (-1, "")  # (whole second, its text): a batch of records shares one formatting


def now_iso() -> str:
    """The current time as Salesforce writes a datetime field, to the second."""
    global _last_stamp
    second = int(time.time())
    if _last_stamp[0] != second:
        _last_stamp = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000"))
    return _last_stamp[1]


@dataclass
class Credentials:
    username: str = "admin@contoso.com.uat"
    password: str = "Emulator-Passw0rd!"
    security_token: str = "EMUTOKEN7x2Qv9Lk"
    client_id: str = "3MVG9emulator.consumer.key"
    client_secret: str = "EMULATOR-CONSUMER-SECRET"


@dataclass
class SalesforceState:
    org_name: str = "Contoso (UAT sandbox)"
    credentials: Credentials = field(default_factory=Credentials)
    api_limit: int = 5_000_000
    api_used: int = 0

    def __post_init__(self) -> None:
        self.ids = IdFactory()
        self.org_id = self.ids.next("00D")
        self.users: dict[str, dict[str, Any]] = {}  # Id (18) -> record
        self.by_username: dict[str, str] = {}  # lower(Username) -> Id
        self.by_nickname: dict[str, str] = {}
        self.by_federation: dict[str, str] = {}
        self.taken_elsewhere: set[str] = set()  # usernames owned by other orgs (global uniqueness)
        self.sessions: dict[str, str] = {}  # session id -> user id
        self.login_rejection: str | None = None  # INVALID_LOGIN / API_DISABLED_FOR_ORG / ...
        self.unable_to_lock_next = 0
        self.unable_to_lock_sobject = ""  # only writes of this sObject are locked ("": any)
        self.licences: dict[str, dict[str, Any]] = {}
        self.active_by_licence: dict[str, int] = {}  # kept incrementally: seat checks stay O(1) with 100k users
        self.profiles: dict[str, dict[str, Any]] = {}
        self.roles: dict[str, dict[str, Any]] = {}
        self.access = AccessTables(self.ids)
        # user id -> why Salesforce refuses to deactivate them (a default lead owner, an approver, ...)
        self.deactivation_blockers: dict[str, str] = {}
        for name, total in (("Salesforce", 1_000_000), ("Chatter Free", 1_000_000)):
            lid = self.ids.next("100")
            self.licences[lid] = {"Id": lid, "Name": name, "TotalLicenses": total}
        licence_ids = {v["Name"]: k for k, v in self.licences.items()}
        for name, licence, user_type in PROFILES:
            pid = self.ids.next("00e")
            self.profiles[pid] = {
                "Id": pid,
                "Name": name,
                "UserLicenseId": licence_ids[licence],
                "UserType": user_type,
                "Description": f"{name} profile",
            }
        by_name: dict[str, str] = {}
        for name, parent in ROLES:
            rid = self.ids.next("00E")
            by_name[name] = rid
            self.roles[rid] = {
                "Id": rid,
                "Name": name,
                "DeveloperName": name.replace(" ", "_"),
                "ParentRoleId": by_name.get(parent) if parent else None,
            }
        self.access.seed(self.profiles)
        self.organization = {
            "Id": self.org_id,
            "Name": self.org_name,
            "IsSandbox": True,
            "OrganizationType": "Enterprise Edition",
            "InstanceName": "CS42",
        }
        self.admin_id = self.insert_user(
            {
                "Username": self.credentials.username,
                "LastName": "Admin",
                "FirstName": "Integration",
                "Email": "admin@contoso.com.invalid",
                "Alias": "iadmin",
                "CommunityNickname": "integration.admin",
                "TimeZoneSidKey": "Europe/London",
                "LocaleSidKey": "en_GB",
                "EmailEncodingKey": "UTF-8",
                "LanguageLocaleKey": "en_US",
                "ProfileId": self.profile_id("System Administrator"),
                "IsActive": True,
            }
        )

    # --- lookups ---------------------------------------------------------------------------------
    def profile_id(self, name: str) -> str:
        return next(pid for pid, p in self.profiles.items() if p["Name"] == name)

    def licence_of_profile(self, profile_id: str | None) -> str | None:
        profile = self.profiles.get(profile_id or "")
        return profile["UserLicenseId"] if profile else None

    def used_licences(self, licence_id: str) -> int:
        return self.active_by_licence.get(licence_id, 0)

    def resolve_id(self, value: str, table: dict[str, dict[str, Any]]) -> str | None:
        """Accept 15- or 18-character ids the way Salesforce does."""
        id15 = to_id15(value or "")
        if id15 is None:
            return None
        for candidate in (value,) if len(value) == 18 else ():
            if candidate in table:
                return candidate
        for key in table if len(value) == 15 else ():
            if key[:15] == id15:
                return key
        return None

    def user_by_any_id(self, value: str) -> dict[str, Any] | None:
        if len(value) == 18:
            return self.users.get(value)
        uid = self.resolve_id(value, self.users)
        return self.users.get(uid) if uid else None

    def username_taken(self, username: str, except_id: str | None = None) -> bool:
        key = username.lower()
        owner = self.by_username.get(key)
        return key in self.taken_elsewhere or (owner is not None and owner != except_id)

    # --- mutation --------------------------------------------------------------------------------
    def insert_user(self, values: dict[str, Any]) -> str:
        """Store an already validated record and index it."""
        uid = self.ids.next("005")
        stamp = now_iso()
        record: dict[str, Any] = {"Id": uid, "IsActive": True, "UserType": "Standard", "CreatedDate": stamp}
        for flag in (
            "UserPermissionsMarketingUser",
            "UserPermissionsOfflineUser",
            "UserPermissionsCallCenterAutoLogin",
            "UserPermissionsSupportUser",
            "ReceivesInfoEmails",
        ):
            record[flag] = False
        record.update(values)
        if not record.get("CommunityNickname"):
            record["CommunityNickname"] = self.generate_nickname(record.get("Email") or record["Username"])
        self._touch(record, stamp)
        self.users[uid] = record
        self._index(record)
        self.access.user_created(record, stamp)
        return uid

    def update_user(self, uid: str, values: dict[str, Any]) -> None:
        record = self.users[uid]
        profile = record.get("ProfileId")
        self._unindex(record)
        record.update(values)
        stamp = now_iso()
        self._touch(record, stamp)
        self._index(record)
        self.access.profile_changed(uid, profile, record.get("ProfileId"), stamp)

    def generate_nickname(self, seed: str) -> str:
        base = seed.split("@")[0][:30] or "user"
        nickname, n = base, 0
        while nickname.lower() in self.by_nickname:
            n += 1
            nickname = f"{base}{n}"
        return nickname

    def _touch(self, record: dict[str, Any], stamp: str) -> None:
        record["LastModifiedDate"] = record["SystemModstamp"] = stamp
        record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
        profile = self.profiles.get(record.get("ProfileId") or "")
        if profile:
            record["UserType"] = profile["UserType"]

    def _index(self, record: dict[str, Any]) -> None:
        self.by_username[record["Username"].lower()] = record["Id"]
        if record.get("IsActive"):
            lic = self.licence_of_profile(record.get("ProfileId"))
            self.active_by_licence[lic] = self.active_by_licence.get(lic, 0) + 1
        if record.get("CommunityNickname"):
            self.by_nickname[record["CommunityNickname"].lower()] = record["Id"]
        if record.get("FederationIdentifier"):
            self.by_federation[record["FederationIdentifier"].lower()] = record["Id"]

    def _unindex(self, record: dict[str, Any]) -> None:
        self.by_username.pop(record["Username"].lower(), None)
        if record.get("IsActive"):
            lic = self.licence_of_profile(record.get("ProfileId"))
            self.active_by_licence[lic] = self.active_by_licence.get(lic, 0) - 1
        if record.get("CommunityNickname"):
            self.by_nickname.pop(record["CommunityNickname"].lower(), None)
        if record.get("FederationIdentifier"):
            self.by_federation.pop(record["FederationIdentifier"].lower(), None)

    # --- a sandbox refresh -------------------------------------------------------------------------
    def refresh(self, sandbox: str, only_in_sandbox: set[str]) -> None:
        """The sandbox becomes a new org: a new org ID, every session ended, and the users copies of production's
        (new record Ids; Username with ".<sandbox>" appended to production's; ".invalid" appended to Email). Users in
        `only_in_sandbox` (lower-case usernames) were never in production and are gone; so is assigned access."""
        suffix = f".{sandbox.lower()}"
        self.org_id = self.ids.next("00D")
        self.organization["Id"] = self.org_id
        self.sessions.clear()
        self.deactivation_blockers.clear()
        copies = [
            {k: v for k, v in record.items() if k not in ("Id", "CreatedDate", "LastModifiedDate", "SystemModstamp")}
            for uid, record in self.users.items()
            if uid != self.admin_id and record["Username"].lower() not in only_in_sandbox
        ]
        admin = self.users[self.admin_id]
        self.users, self.by_username, self.by_nickname, self.by_federation = {}, {}, {}, {}
        self.active_by_licence = {}
        self.access = AccessTables(self.ids)
        self.access.seed(self.profiles)
        self.users[self.admin_id] = admin
        self._index(admin)
        self.access.user_created(admin, now_iso())
        for values in copies:
            username = values["Username"]
            if not username.lower().endswith(suffix):
                values["Username"] = f"{username}{suffix}"
            email = values.get("Email") or ""
            if email and not email.endswith(".invalid"):
                values["Email"] = f"{email}.invalid"
            self.insert_user(values)

    # --- sessions --------------------------------------------------------------------------------
    def new_session(self, user_id: str) -> str:
        sid = f"{self.org_id[:15]}!AQ{secrets.token_urlsafe(48)}"
        self.sessions[sid] = user_id
        return sid

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def set_licence_count(self, total: int, licence: str = "Salesforce") -> None:
        for lic in self.licences.values():
            if lic["Name"] == licence:
                lic["TotalLicenses"] = total
                return
        raise KeyError(licence)

    def limit_info(self) -> str:
        return f"api-usage={self.api_used}/{self.api_limit}"

    # --- allOrNone across composite subrequests --------------------------------------------------
    def snapshot(self) -> tuple:
        return (
            {k: dict(v) for k, v in self.users.items()},
            dict(self.by_username),
            dict(self.by_nickname),
            dict(self.by_federation),
            dict(self.active_by_licence),
            copy.deepcopy(self.access),
        )

    def restore(self, snapshot: tuple) -> None:
        users, by_username, by_nickname, by_federation, active, access = snapshot
        self.users, self.by_username, self.by_nickname = users, by_username, by_nickname
        self.by_federation, self.active_by_licence = by_federation, active
        access.ids = self.ids  # ids are never handed out twice, rolled back or not
        self.access = access
