"""The control API: what tests, benchmarks and demos use to make the remote systems misbehave and to see what
happened remotely. The same methods are served as JSON over HTTPS at `control_url` (POST /<method>, body = kwargs)."""

from __future__ import annotations

import inspect
import json
import uuid
from typing import TYPE_CHECKING, Any

from emulators.entra.state import DEFAULT_ACCESS
from emulators.salesforce import access as access_rules
from emulators.salesforce.records import create_user
from emulators.salesforce.state import now_iso
from emulators.server import EmulatorApp, Request, Response

if TYPE_CHECKING:
    from emulators.runtime import Emulators

SF_LOGIN_FAULTS = (
    "INVALID_LOGIN",
    "API_DISABLED_FOR_ORG",
    "LOGIN_MUST_USE_SECURITY_TOKEN",
    "INVALID_OPERATION_WITH_EXPIRED_PASSWORD",
)


class Control:
    def __init__(self, emulators: Emulators) -> None:
        self._emu = emulators

    @property
    def _sf(self):
        return self._emu.salesforce_app

    @property
    def _entra(self):
        return self._emu.entra_app

    def _app(self, system: str) -> EmulatorApp:
        if system not in ("salesforce", "entra"):
            raise ValueError("system must be 'salesforce' or 'entra'")
        return self._sf if system == "salesforce" else self._entra

    # --- faults and latency ----------------------------------------------------------------------
    def set_fault_rates(
        self,
        system: str,
        rate_500: float = 0.0,
        rate_503: float = 0.0,
        rate_timeout: float = 0.0,
        timeout_seconds: float = 5.0,
        rate_429: float = 0.0,
        rate_limit: float = 0.0,
        rate_expire: float = 0.0,
        rate_lock_row: float = 0.0,
        rate_no_value: float = 0.0,
        rate_timeout_after: float = 0.0,
        retry_after: int | None = None,
    ) -> None:
        """Random faults on data calls (not login/token), each at its rate (a share of calls, 0 to 1):
        500 and 503; a timeout (sleeps, then drops the connection unanswered) before the call or after it was
        carried out (timeout_after: the write happened, its answer is lost); 429 (Graph: with Retry-After; Salesforce:
        403 REQUEST_LIMIT_EXCEEDED ConcurrentPerOrgLongTxn); limit (Salesforce: 403 REQUEST_LIMIT_EXCEEDED
        TotalRequests, the daily allowance; Graph: 429); expire (every session or token ends: 401); lock_row
        (Salesforce: the call's first record write fails UNABLE_TO_LOCK_ROW); no_value (Graph: a 200 collection page
        without `value`)."""
        faults = self._app(system).faults
        faults.set_rates(
            rate_500,
            rate_503,
            rate_timeout,
            **{
                "429": rate_429,
                "limit": rate_limit,
                "expire": rate_expire,
                "lock_row": rate_lock_row,
                "no_value": rate_no_value,
                "timeout_after": rate_timeout_after,
            },
        )
        faults.timeout_seconds = timeout_seconds
        if retry_after is not None:
            faults.retry_after = retry_after

    def throttle(self, system: str, count: int, retry_after: int = 1) -> None:
        """The next `count` data calls answer 429 with Retry-After (Graph: TooManyRequests shape)."""
        faults = self._app(system).faults
        faults.throttle_next, faults.retry_after = count, retry_after

    def throttle_token_endpoint(self, count: int, retry_after: int = 1) -> None:
        self._entra.state.throttle_token_endpoint = count
        self._entra.faults.retry_after = retry_after

    def request_limit_exceeded(self, count: int) -> None:
        """The next `count` Salesforce REST calls answer 403 REQUEST_LIMIT_EXCEEDED."""
        self._sf.faults.limit_next = count

    def unable_to_lock_row(self, count: int, sobject: str = "") -> None:
        """The next `count` Salesforce record writes (of `sobject` only, when given: "User", "GroupMember", ...) fail
        with UNABLE_TO_LOCK_ROW (per record)."""
        with self._sf.lock:
            self._sf.state.unable_to_lock_next = count
            self._sf.state.unable_to_lock_sobject = sobject

    def set_api_usage(self, used: int | None = None, limit: int | None = None) -> dict[str, int]:
        """Move the daily API counter; at the limit every REST call is REQUEST_LIMIT_EXCEEDED."""
        state = self._sf.state
        with self._sf.lock:
            state.api_used = state.api_used if used is None else used
            state.api_limit = state.api_limit if limit is None else limit
            return {"used": state.api_used, "limit": state.api_limit}

    def expire_sessions(self) -> None:
        """Every Salesforce session becomes invalid (401 INVALID_SESSION_ID); a new login works."""
        with self._sf.lock:
            self._sf.state.expire_sessions()

    def reject_logins(self, code: str | None = "INVALID_LOGIN") -> None:
        """Make every Salesforce login fail with this fault code (None: accept again)."""
        if code is not None and code not in SF_LOGIN_FAULTS:
            raise ValueError(f"code must be one of {SF_LOGIN_FAULTS}")
        self._sf.state.login_rejection = code

    def expire_graph_tokens(self) -> None:
        """Every issued access token fails with 401 InvalidAuthenticationToken (lifetime validation)."""
        with self._entra.lock:
            self._entra.state.tokens = {t: (c, 0.0) for t, (c, _) in self._entra.state.tokens.items()}

    def expire_client_secret(self, expired: bool = True) -> None:
        """The client secret is refused with AADSTS7000222."""
        for client in self._entra.state.clients.values():
            client.secret_expired = expired

    def expire_delta_tokens(self) -> None:
        """Every delta/skip token issued so far answers 410 Gone (syncStateNotFound): a full sync is needed."""
        with self._entra.lock:
            self._entra.state.delta_generation += 1

    def malformed_answers(self, system: str, path: str, shape: str, count: int = 1, method: str = "") -> None:
        """The next `count` 200 answers whose path and query match `path` (a regular expression, searched) keep their
        status but get a body of the wrong shape (emulators/malformed.py SHAPES: html, no_value, item_without_id,
        no_records, ...); JSON batch items included."""
        self._app(system).malformed.add(path, shape, count, method)

    def set_latency(self, ms: int, system: str | None = None) -> None:
        for name in (system,) if system else ("salesforce", "entra"):
            self._app(name).latency_ms = ms

    # --- counters --------------------------------------------------------------------------------
    def counters(self) -> dict[str, Any]:
        """{"salesforce": {label: n}, "entra": {label: n}, "totals": {...}, "writes": {...}}."""
        sf, entra = self._sf.metrics.snapshot(), self._entra.metrics.snapshot()
        return {
            "salesforce": sf["endpoints"],
            "entra": entra["endpoints"],
            "totals": {"salesforce": sf["total"], "entra": entra["total"]},
            "writes": {"salesforce": sf["writes"], "entra": entra["writes"]},
            "api_usage": {"used": self._sf.state.api_used, "limit": self._sf.state.api_limit},
        }

    def reset_counters(self) -> None:
        self._sf.metrics.reset()
        self._entra.metrics.reset()

    # --- Entra state -----------------------------------------------------------------------------
    def _user_id(self, id_or_upn: str) -> str:
        state = self._entra.state
        user = state.find_user(id_or_upn)
        if user is not None:
            return user["id"]
        if id_or_upn in state.deleted_users:
            return id_or_upn
        for uid, deleted in state.deleted_users.items():
            if deleted["userPrincipalName"].lower() == id_or_upn.lower():
                return uid
        raise KeyError(f"no Entra user {id_or_upn!r}")

    def get_entra_user(self, id_or_upn: str) -> dict[str, Any]:
        with self._entra.lock:
            uid = self._user_id(id_or_upn)
            state = self._entra.state
            user = dict(state.users.get(uid) or state.deleted_users[uid])
            user["appRoleAssignments"] = [dict(a) for a in state.user_assignments(uid)]
            user["managerId"] = state.managers.get(uid)
            return user

    def create_entra_user(self, **properties: Any) -> dict[str, Any]:
        """Add a user (userPrincipalName required); it shows up in /users and in delta."""
        with self._entra.lock:
            return dict(self._entra.state.add_user(properties))

    def update_entra_user(self, id_or_upn: str, **changes: Any) -> dict[str, Any]:
        """Change Graph properties (and "manager": id or None); recorded for delta."""
        with self._entra.lock:
            return dict(self._entra.state.update_user(self._user_id(id_or_upn), changes))

    def register_extension_property(
        self, app_id: str, name: str, data_type: str = "String", app_display_name: str = "", multi_valued: bool = False
    ) -> dict[str, Any]:
        """Register a directory extension of users (extension_<appId>_<name>); set its values with
        update_entra_user(upn, extension_..._name=value)."""
        with self._entra.lock:
            return dict(
                self._entra.state.register_extension_property(
                    app_id, name, data_type, app_display_name=app_display_name, multi_valued=multi_valued
                )
            )

    def set_verified_domains(self, domains: list[str], default: str | None = None) -> None:
        """The tenant's verified domains and which one is the default (None: none is)."""
        with self._entra.lock:
            state = self._entra.state
            state.verified_domains = list(domains)
            state.default_domain = default

    def withhold_permission(self, permission: str, withheld: bool = True) -> None:
        """Act as if the console's app registration lacks an application permission (e.g. Directory.Read.All)."""
        with self._entra.lock:
            missing = self._entra.state.missing_permissions
            missing.add(permission) if withheld else missing.discard(permission)

    def hold_audit_log(self, held: bool = True) -> None:
        """Entra's ingestion latency: audit entries recorded from now on are not listed until released (then they
        are listed with the time of their activity, as a late entry is)."""
        with self._entra.lock:
            state = self._entra.state
            if not held:
                state.audit_held_from = None
            elif state.audit_held_from is None:
                state.audit_held_from = len(state.audit_log)

    def disable_entra_user(self, id_or_upn: str) -> dict[str, Any]:
        return self.update_entra_user(id_or_upn, accountEnabled=False)

    def enable_entra_user(self, id_or_upn: str) -> dict[str, Any]:
        return self.update_entra_user(id_or_upn, accountEnabled=True)

    def soft_delete_entra_user(self, id_or_upn: str) -> None:
        with self._entra.lock:
            self._entra.state.soft_delete(self._user_id(id_or_upn))

    def restore_entra_user(self, id_or_upn: str) -> None:
        with self._entra.lock:
            self._entra.state.restore(self._user_id(id_or_upn))

    def hard_delete_entra_user(self, id_or_upn: str) -> None:
        with self._entra.lock:
            self._entra.state.hard_delete(self._user_id(id_or_upn))

    def assign(self, principal: str, role: str | None = None) -> dict[str, Any]:
        """Assign a user (id or UPN) or group (id or name) a role (id, value or name; None = Default Access)."""
        with self._entra.lock:
            return dict(self._entra.state.assign(self._principal(principal), role))

    def unassign(self, principal: str, role: str | None = "*") -> int:
        """Remove the principal's assignments with that role ("*": all of them); returns how many were removed."""
        with self._entra.lock:
            state = self._entra.state
            pid = self._principal(principal)
            rid = None if role == "*" else state.role_id(role)
            doomed = [
                a for a, v in state.assignments.items() if v["principalId"] == pid and rid in (None, v["appRoleId"])
            ]
            for aid in doomed:
                state.unassign(aid)
            return len(doomed)

    def _principal(self, principal: str) -> str:
        state = self._entra.state
        if principal in state.groups:
            return principal
        for gid, group in state.groups.items():
            if group["displayName"].lower() == principal.lower():
                return gid
        return self._user_id(principal)

    def assigned_user_ids(self) -> list[str]:
        """Live users in scope of "assigned users only": direct assignments plus direct members of assigned groups."""
        with self._entra.lock:
            state = self._entra.state
            out: dict[str, None] = {}
            for a in state.assignments.values():
                members = (
                    state.groups[a["principalId"]]["members"] if a["principalType"] == "Group" else [a["principalId"]]
                )
                out.update((m, None) for m in members if m in state.users)
            return list(out)

    def create_group(self, name: str, members: list[str] | None = None) -> dict[str, Any]:
        """A security group with these members (user ids or UPNs, group ids or names)."""
        with self._entra.lock:
            state = self._entra.state
            group = state.add_group(str(uuid.uuid4()), name, [self._principal(m) for m in members or []])
            return {k: v for k, v in group.items() if k != "members"} | {"members": list(group["members"])}

    def create_assigned_groups(self, groups: list[dict[str, Any]]) -> dict[str, Any]:
        """Many groups at once, each assigned a role: [{"name", "members": [object ids, earlier groups of this call
        included], "role": id, value or name, or None for Default Access}]. Members are taken by object id only
        (no name lookups), so that benchmarks can build tenants of thousands of groups in one call. Returns
        {"created": [{"id", "assignment_id"}, ...] in order, "assignments": the application's assignments now}."""
        out = []
        with self._entra.lock:
            state = self._entra.state
            for spec in groups:
                members = list(spec.get("members") or [])
                unknown = [m for m in members if m not in state.users and m not in state.groups]
                if unknown:
                    raise KeyError(f"no user or group {unknown[0]!r}")
                group = state.add_group(str(uuid.uuid4()), str(spec["name"]), members)
                assignment = state.assign(group["id"], spec.get("role"))
                out.append({"id": group["id"], "assignment_id": assignment["id"]})
            return {"created": out, "assignments": len(state.assignments)}

    def add_group_member(self, group: str, member: str) -> None:
        """Add a user (id or UPN) or group (id or name) to a group (id or name), as groups/delta then reports."""
        with self._entra.lock:
            self._entra.state.add_member(self._principal(group), self._principal(member))

    def remove_group_member(self, group: str, member: str) -> None:
        """Remove a member from a group (groups/delta reports it with @removed)."""
        with self._entra.lock:
            self._entra.state.remove_member(self._principal(group), self._principal(member))

    # --- interactive sign-in (the console's own app registration) ---------------------------------------
    def _signin_application(self, client_id: str | None):
        applications = self._entra.state.signin_applications
        if client_id is None:
            return next(iter(applications.values()))
        if client_id not in applications:
            raise KeyError(f"no sign-in application {client_id!r}")
        return applications[client_id]

    def register_redirect_uri(self, uri: str, client_id: str | None = None) -> list[str]:
        """Add a redirect URI to the sign-in app registration (Authentication > Web > Redirect URIs)."""
        with self._entra.lock:
            application = self._signin_application(client_id)
            if uri not in application.redirect_uris:
                application.redirect_uris.append(uri)
            return list(application.redirect_uris)

    def set_password(self, id_or_upn: str, password: str) -> None:
        """The password a user types on the sign-in page."""
        with self._entra.lock:
            self._entra.state.passwords[self._user_id(id_or_upn)] = password

    def assign_signin_role(self, principal: str, role: str, client_id: str | None = None) -> list[str]:
        """Assign a user or group an app role of the sign-in app (by id, value or display name); returns the
        principal's role values."""
        with self._entra.lock:
            application = self._signin_application(client_id)
            pid = self._principal(principal)
            application.role_assignments.setdefault(pid, set()).add(application.role_id(role))
            return application.role_values([pid])

    def unassign_signin_role(self, principal: str, role: str = "*", client_id: str | None = None) -> list[str]:
        with self._entra.lock:
            application = self._signin_application(client_id)
            pid = self._principal(principal)
            held = application.role_assignments.get(pid, set())
            held.difference_update(held.copy() if role == "*" else {application.role_id(role)})
            return application.role_values([pid])

    def set_group_membership_claims(self, value: str = "SecurityGroup", client_id: str | None = None) -> None:
        """The manifest's groupMembershipClaims: "SecurityGroup" puts the user's groups in the ID token, "None"
        leaves them out."""
        if value not in ("None", "SecurityGroup", "All", "ApplicationGroup"):
            raise ValueError("value must be None, SecurityGroup, All or ApplicationGroup")
        with self._entra.lock:
            self._signin_application(client_id).group_membership_claims = value

    def create_signin_user(
        self,
        userPrincipalName: str,
        password: str,
        roles: list[str] | None = None,
        **properties: Any,  # noqa: N803
    ) -> dict[str, Any]:
        """An Entra user who can sign in with `password`, holding these app roles of the sign-in app."""
        local = userPrincipalName.split("@")[0]
        defaults = {"displayName": local.replace(".", " ").title(), "mail": userPrincipalName, "accountEnabled": True}
        user = self.create_entra_user(userPrincipalName=userPrincipalName, **(defaults | properties))
        self.set_password(user["id"], password)
        for role in roles or []:
            self.assign_signin_role(user["id"], role)
        return user

    # --- Salesforce state ------------------------------------------------------------------------
    def add_taken_username(self, username: str) -> None:
        """A username owned by another org: creating it here fails with DUPLICATE_USERNAME."""
        self._sf.state.taken_elsewhere.add(username.lower())

    def set_licence_count(self, total: int, licence: str = "Salesforce") -> None:
        with self._sf.lock:
            self._sf.state.set_licence_count(total, licence)

    def licence_usage(self) -> dict[str, dict[str, int]]:
        state = self._sf.state
        return {
            v["Name"]: {"total": v["TotalLicenses"], "used": state.used_licences(k)} for k, v in state.licences.items()
        }

    def get_salesforce_user(self, username: str | None = None, id: str | None = None) -> dict[str, Any] | None:  # noqa: A002
        with self._sf.lock:
            state = self._sf.state
            if id:
                record = state.user_by_any_id(id)
            else:
                uid = state.by_username.get((username or "").lower())
                record = state.users.get(uid) if uid else None
            if record is None:
                return None
            out = dict(record)
            out["ProfileName"] = state.profiles.get(record.get("ProfileId") or "", {}).get("Name")
            return out

    def salesforce_users(self) -> list[dict[str, Any]]:
        with self._sf.lock:
            return [dict(u) for u in self._sf.state.users.values()]

    def create_salesforce_user(self, **fields: Any) -> str:
        """Create a user through the same validation as the REST API; raises UserError."""
        with self._sf.lock:
            return create_user(self._sf.state, fields)

    def profile_id(self, name: str) -> str:
        return self._sf.state.profile_id(name)

    # --- access beyond the profile ---------------------------------------------------------------
    def access_item_id(self, name: str) -> str:
        """The Id of a permission set (Name), permission set group, licence or group (DeveloperName), or role."""
        state = self._sf.state
        tables = (
            *state.access.tables().values(),
            state.roles,
        )
        for table in tables:
            for record in table.values():
                if name in (record.get("Name"), record.get("DeveloperName")):
                    return record["Id"]
        raise KeyError(name)

    def access_of(self, user_id: str) -> dict[str, Any]:
        """A user's permission sets and groups, licences, group memberships (names) and frozen flag."""
        with self._sf.lock:
            access = self._sf.state.access
            names = {}
            for table in (access.permission_sets, access.permission_set_groups, access.licences, access.groups):
                names.update({k: v.get("DeveloperName") or v.get("Name") for k, v in table.items()})
            sets = sorted(
                names[a["PermissionSetGroupId"] or a["PermissionSetId"]]
                for a in access.assignments.values()
                if a["AssigneeId"] == user_id
                and not access.permission_sets.get(a["PermissionSetId"] or "", {}).get("IsOwnedByProfile")
            )
            licences = sorted(
                names[a["PermissionSetLicenseId"]]
                for a in access.licence_assignments.values()
                if a["AssigneeId"] == user_id
            )
            groups = sorted(names[m["GroupId"]] for m in access.members.values() if m["UserOrGroupId"] == user_id)
            return {"permission_sets": sets, "licences": licences, "groups": groups, "frozen": access.frozen(user_id)}

    def grant_outside(self, user_id: str, item: str) -> str:
        """Assign a permission set, group, licence or group membership as an administrator would in Setup."""
        item_id = self.access_item_id(item)
        obj, field = {
            "0PS": ("PermissionSetAssignment", "PermissionSetId"),
            "0PG": ("PermissionSetAssignment", "PermissionSetGroupId"),
            "0PL": ("PermissionSetLicenseAssign", "PermissionSetLicenseId"),
            "00G": ("GroupMember", "GroupId"),
        }[item_id[:3]]
        values = (
            {"AssigneeId": user_id, field: item_id}
            if obj != "GroupMember"
            else {"GroupId": item_id, "UserOrGroupId": user_id}
        )
        with self._sf.lock:
            record_id, _ = access_rules.create(self._sf.state, obj, values, now_iso())
            return record_id

    def revoke_outside(self, user_id: str, item: str) -> None:
        """Remove a user's assignment or membership of `item` as an administrator would in Setup."""
        item_id = self.access_item_id(item)
        with self._sf.lock:
            access = self._sf.state.access
            for table in (access.assignments, access.licence_assignments, access.members):
                for record_id, record in list(table.items()):
                    owner = record.get("AssigneeId") or record.get("UserOrGroupId")
                    if owner == user_id and item_id in record.values():
                        access._drop(table, record_id)

    def delete_access_item(self, name: str) -> None:
        """Delete a permission set, group, licence or public group in the org, as an administrator would."""
        with self._sf.lock:
            self._sf.state.access.delete_item(self.access_item_id(name))

    def set_permission_set_licence_seats(self, name: str, total: int) -> None:
        """How many seats a permission set licence has (TotalLicenses)."""
        with self._sf.lock:
            self._sf.state.access.licences[self.access_item_id(name)]["TotalLicenses"] = total

    def block_deactivation(
        self, user_id: str, reason: str = "You cannot deactivate a user who is the default lead owner."
    ) -> None:
        """Make Salesforce refuse to deactivate this user (a default lead owner, an approver, ...)."""
        with self._sf.lock:
            self._sf.state.deactivation_blockers[user_id] = reason

    def refresh_sandbox(self, sandbox: str = "uat", only_in_sandbox: list[str] | None = None) -> dict[str, Any]:
        """A sandbox refresh (Salesforce Help, "Servers and IDs" and "Users and Contacts"): a new org with a new org
        ID; users copied from production with new record Ids, the sandbox name appended to each production username
        (usernames already ending in it stay) and ".invalid" to each e-mail; every session ends. Usernames in
        `only_in_sandbox` were created in the sandbox only and are gone. Returns the new org ID and user count."""
        with self._sf.lock:
            state = self._sf.state
            state.refresh(sandbox, {name.lower() for name in only_in_sandbox or []})
            return {"organization_id": state.org_id, "users": len(state.users)}

    def unblock_deactivation(self, user_id: str) -> None:
        with self._sf.lock:
            self._sf.state.deactivation_blockers.pop(user_id, None)

    # --- whole state -----------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the seed: state, faults, latency and counters (issued sessions and tokens stay valid)."""
        self._emu.reset()

    def info(self) -> dict[str, Any]:
        return self._emu.info


PUBLIC = {n for n, m in inspect.getmembers(Control, inspect.isfunction) if not n.startswith("_")}


class ControlApp(EmulatorApp):
    """HTTP face of Control: GET /<method> or POST /<method> with JSON keyword arguments."""

    name = "control"

    def __init__(self, control: Control) -> None:
        super().__init__()
        self.control = control
        self.router.add("GET", r"/(?P<method>\w+)", "GET /control", self.call, faultable=False)
        self.router.add("POST", r"/(?P<method>\w+)", "POST /control", self.call, faultable=False)
        self.router.add("GET", r"/?", "GET /", self.index, faultable=False)

    def index(self, request: Request) -> Response:
        methods = {
            n: str(inspect.signature(getattr(Control, n))).replace("(self, ", "(").replace("(self)", "()")
            for n in sorted(PUBLIC)
        }
        return Response.json({"methods": methods})

    def call(self, request: Request) -> Response:
        method = request.params["method"]
        if method not in PUBLIC:
            return Response.json({"error": f"unknown control method {method!r}"}, 404)
        try:
            kwargs = json.loads(request.body or b"{}")
        except ValueError:
            return Response.json({"error": "body must be a JSON object of keyword arguments"}, 400)
        if not isinstance(kwargs, dict):
            return Response.json({"error": "body must be a JSON object of keyword arguments"}, 400)
        problem = _number_problem(getattr(self.control, method), kwargs)
        if problem:
            return Response.json({"error": problem}, 400)
        try:
            result = getattr(self.control, method)(**kwargs)
        except (KeyError, ValueError, TypeError) as err:
            return Response.json({"error": str(err)}, 400)
        except Exception as err:  # e.g. a Salesforce validation error raised for create_salesforce_user
            return Response.json(
                {"error": str(err), "type": type(err).__name__, "code": getattr(err, "code", None)}, 400
            )
        return Response.json({"result": result})

    def dispatch(self, request: Request) -> Response:
        # control calls take the state locks themselves; no counting, no faults, no latency
        route, params, _ = self.router.match(request.method, request.path)
        if route is None:
            return Response.json({"error": "not found"}, 404)
        request.params = params
        return route.handler(request)


__all__ = ["DEFAULT_ACCESS", "Control", "ControlApp"]


def _number_problem(method: Any, kwargs: dict[str, Any]) -> str:
    """Why a numeric argument over HTTP is unusable ("" when all are fine): a string stored as a latency or a
    count would fail every later request of the emulator instead of this one call."""
    for name, parameter in inspect.signature(method).parameters.items():
        kinds = {part.strip() for part in str(parameter.annotation).split("|")}
        if name not in kwargs or kwargs[name] is None or not kinds & {"int", "float"}:
            continue
        value = kwargs[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{name} must be a number, got {value!r}"
        if "float" not in kinds and not float(value).is_integer():
            return f"{name} must be a whole number, got {value!r}"
        if value < 0:
            return f"{name} must be 0 or more, got {value!r}"
    return ""
