"""Graph /groups (members, transitiveMembers), /servicePrincipals (appRoles) and appRoleAssignedTo."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from emulators.entra.odata import FilterError, compile_filter, resource_id_filter
from emulators.entra.responses import GRAPH, graph_error
from emulators.server import Request, Response, parse_json_body

if TYPE_CHECKING:
    from emulators.entra.app import EntraApp

_GROUP_PROPS = (
    "id",
    "displayName",
    "description",
    "mail",
    "mailEnabled",
    "securityEnabled",
    "groupTypes",
    "createdDateTime",
)
_SP = r"/servicePrincipals(?:/(?P<id>[0-9a-fA-F-]{36})|\(appId='(?P<appid>[0-9a-fA-F-]{36})'\))"


class DirectoryRoutes:
    def __init__(self, app: EntraApp) -> None:
        self.app = app
        r, a = app.router, app.authed
        r.add("GET", GRAPH + "/groups/?", "GET /v1.0/groups", a(self.groups))
        r.add("GET", GRAPH + "/groups/(?P<id>[^/]+)", "GET /v1.0/groups/{id}", a(self.group))
        r.add(
            "GET",
            GRAPH
            + "/groups/(?P<id>[^/]+)/(?P<kind>members|transitiveMembers)(?P<cast>/microsoft\\.graph\\.(?:user|group))?",
            "GET /v1.0/groups/{id}/members",
            a(self.members),
        )
        r.add(
            "GET",
            GRAPH + "/groups/(?P<id>[^/]+)/appRoleAssignments",
            "GET /v1.0/groups/{id}/appRoleAssignments",
            a(self.group_assignments),
        )
        r.add("GET", GRAPH + "/servicePrincipals/?", "GET /v1.0/servicePrincipals", a(self.service_principals))
        r.add("GET", GRAPH + _SP, "GET /v1.0/servicePrincipals/{id}", a(self.service_principal))
        r.add("PATCH", GRAPH + _SP, "PATCH /v1.0/servicePrincipals/{id}", a(self.patch_service_principal))
        r.add(
            "GET",
            GRAPH + _SP + "/appRoleAssignedTo/?",
            "GET /v1.0/servicePrincipals/{id}/appRoleAssignedTo",
            a(self.assigned_to),
        )
        r.add(
            "POST",
            GRAPH + _SP + "/appRoleAssignedTo/?",
            "POST /v1.0/servicePrincipals/{id}/appRoleAssignedTo",
            a(self.assign),
        )
        r.add(
            "DELETE",
            GRAPH + _SP + "/appRoleAssignedTo/(?P<aid>[\\w-]+)",
            "DELETE /v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignmentId}",
            a(self.unassign),
        )

        r.add("GET", GRAPH + "/organization/?", "GET /v1.0/organization", a(self.organization))
        r.add(
            "POST",
            GRAPH + "/directoryObjects/getAvailableExtensionProperties/?",
            "POST /v1.0/directoryObjects/getAvailableExtensionProperties",
            a(self.available_extension_properties),
        )

    @property
    def state(self):
        return self.app.state

    # --- the organization ------------------------------------------------------------------------
    def organization(self, request: Request) -> Response:
        """The tenant, with its verified domains (the initial onmicrosoft.com one is the default)."""
        if "Organization.Read.All" in self.state.missing_permissions:
            return graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        state = self.state
        org = {
            "id": state.tenant_id,
            "displayName": "Contoso",
            "verifiedDomains": [
                {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": d == state.default_domain,
                 "isInitial": d == state.domain, "name": d, "type": "Managed"}
                for d in state.verified_domains
            ],
        }  # fmt: skip
        raw = request.query.get("$select")
        if raw:
            org = {k: v for k, v in org.items() if k in {p.strip() for p in raw.split(",")}}
        context = f"{request.base_url}/v1.0/$metadata#organization"
        return Response.json({"@odata.context": context, "value": [org]})

    # --- directory extensions --------------------------------------------------------------------
    def available_extension_properties(self, request: Request) -> Response:
        """Every directory extension registered in the tenant; isSyncedFromOnPremises true/false keeps only the
        synced or the cloud ones (absent: both)."""
        if "Directory.Read.All" in self.state.missing_permissions:
            return graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        payload = parse_json_body(request) or {}
        if not isinstance(payload, dict):
            return self.app.bad_json(request)
        synced = payload.get("isSyncedFromOnPremises")
        if synced is not None and not isinstance(synced, bool):
            return graph_error(
                400, "Request_BadRequest", "Invalid value specified for property 'isSyncedFromOnPremises'."
            )
        found = [
            dict(p)
            for p in self.state.extension_properties.values()
            if synced is None or p["isSyncedFromOnPremises"] is synced
        ]
        context = f"{request.base_url}/v1.0/$metadata#Collection(extensionProperty)"
        return Response.json({"@odata.context": context, "value": found})

    def _missing(self, what: str) -> Response:
        return graph_error(
            404,
            "Request_ResourceNotFound",
            f"Resource '{what}' does not exist or one of its queried reference-property objects are not present.",
        )

    # --- groups ----------------------------------------------------------------------------------
    def _group_shape(self, group: dict[str, Any], request: Request) -> dict[str, Any]:
        raw = request.query.get("$select")
        props = [p.strip() for p in raw.split(",")] if raw else list(_GROUP_PROPS)
        return {"@odata.type": "#microsoft.graph.group", **{p: group.get(p) for p in props}}

    def group_shape_for(self, request: Request):
        """The shape function of groups for a list answering `request` (its $select)."""
        return lambda group_id: self._group_shape(self.state.groups[group_id], request)

    def groups(self, request: Request) -> Response:
        top = self.app.top(request)
        if isinstance(top, Response):
            return top
        try:
            predicate = (
                compile_filter(request.query["$filter"], set(_GROUP_PROPS)) if request.query.get("$filter") else None
            )
        except FilterError as err:
            return graph_error(400, "Request_UnsupportedQuery", str(err))
        rows = [g for g in self.state.groups.values() if predicate is None or predicate(g)]
        return self.app.page(request, rows, top, lambda g: self._group_shape(g, request), "groups")

    def group(self, request: Request) -> Response:
        group = self.state.groups.get(request.params["id"])
        if group is None:
            return self._missing(request.params["id"])
        return Response.json(self._group_shape(group, request))

    def members(self, request: Request) -> Response:
        gid = request.params["id"]
        if gid not in self.state.groups:
            return self._missing(gid)
        top = self.app.top(request)
        if isinstance(top, Response):
            return top
        select = self.app.users.select(request)
        if isinstance(select, Response):
            return select
        ids = (
            self.state.transitive_members(gid)
            if request.params["kind"] == "transitiveMembers"
            else list(self.state.groups[gid]["members"])
        )
        cast = (request.params.get("cast") or "").rsplit(".", 1)[-1]  # "", "user" or "group"
        users_only, groups_only = cast == "user", cast == "group"

        def shape(member: str) -> dict[str, Any] | None:
            user = self.state.users.get(member)
            if user is not None and not groups_only:
                return {"@odata.type": "#microsoft.graph.user", **self.app.users.shape(user, select)}
            group = self.state.groups.get(member)
            if group is not None and not users_only:
                return self._group_shape(group, request if groups_only else Request("GET", "", "", None, b"", ""))
            return None

        if users_only:
            rows = [m for m in ids if m in self.state.users]
        elif groups_only:
            rows = [m for m in ids if m in self.state.groups]
        else:
            rows = list(ids)
        return self.app.page(request, rows, top, shape, f"groups('{gid}')/{request.params['kind']}")

    def group_assignments(self, request: Request) -> Response:
        if "Directory.Read.All" in self.state.missing_permissions:  # the least privileged application permission
            return graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        gid = request.params["id"]
        if gid not in self.state.groups:
            return self._missing(gid)
        try:
            resource = resource_id_filter(request.query.get("$filter", ""))
        except FilterError as err:
            return graph_error(400, "Request_UnsupportedQuery", str(err))
        rows = [
            a
            for a in self.state.assignments.values()
            if a["principalId"] == gid and resource in (None, a["resourceId"].lower())
        ]
        return self.app.page(request, rows, 100, dict, f"groups('{gid}')/appRoleAssignments")

    # --- service principal -----------------------------------------------------------------------
    def _sp(self, request: Request) -> dict[str, Any] | None:
        sp = self.state.service_principal
        if request.params.get("id") == sp["id"] or request.params.get("appid") == sp["appId"]:
            return sp
        return None

    def _sp_shape(self, request: Request) -> dict[str, Any]:
        sp = self.state.service_principal
        raw = request.query.get("$select")
        props = [p.strip() for p in raw.split(",")] if raw else list(sp)
        return {p: sp.get(p) for p in props}

    def service_principals(self, request: Request) -> Response:
        flt = request.query.get("$filter", "")
        try:
            predicate = compile_filter(flt, {"appId", "displayName", "id"}) if flt else None
        except FilterError as err:
            return graph_error(400, "Request_UnsupportedQuery", str(err))
        sp = self.state.service_principal
        rows = [sp] if predicate is None or predicate(sp) else []
        return self.app.page(request, rows, 100, lambda _: self._sp_shape(request), "servicePrincipals")

    def service_principal(self, request: Request) -> Response:
        if self._sp(request) is None:
            return self._missing(request.params.get("id") or request.params.get("appid"))
        return Response.json(
            {
                "@odata.context": f"{request.base_url}/v1.0/$metadata#servicePrincipals/$entity",
                **self._sp_shape(request),
            }
        )

    def patch_service_principal(self, request: Request) -> Response:
        sp = self._sp(request)
        if sp is None:
            return self._missing(request.params.get("id") or request.params.get("appid"))
        body = parse_json_body(request) or {}
        roles = body.get("appRoles")
        if roles is not None:
            if not isinstance(roles, list) or any(not isinstance(r, dict) or "id" not in r for r in roles):
                return graph_error(400, "Request_BadRequest", "Invalid value specified for property 'appRoles'.")
            in_use = {a["appRoleId"] for a in self.state.assignments.values()}
            kept = {r["id"] for r in roles}
            removed_in_use = [r for r in sp["appRoles"] if r["id"] in in_use and r["id"] not in kept]
            if removed_in_use:
                return graph_error(
                    400,
                    "CannotDeleteOrUpdateEnabledEntitlement",
                    "Permission (scope or role) cannot be deleted or updated unless disabled first.",
                )
            sp["appRoles"] = [
                {
                    "allowedMemberTypes": ["User"],
                    "description": r.get("displayName", ""),
                    "isEnabled": True,
                    "origin": "Application",
                    "value": None,
                    **r,
                }
                for r in roles
            ]
        for key in ("displayName", "notes", "tags"):
            if key in body:
                sp[key] = body[key]
        return Response(204)

    # --- app role assignments --------------------------------------------------------------------
    def assigned_to(self, request: Request) -> Response:
        if self._sp(request) is None:
            return self._missing(request.params.get("id") or request.params.get("appid"))
        top = self.app.top(request)
        if isinstance(top, Response):
            return top
        select = request.query.get("$select")
        props = [p.strip() for p in select.split(",") if p.strip()] if select else None

        def rows() -> list[dict[str, Any]]:  # built for the first page only; later pages read the kept list
            users, groups = self.state.users, self.state.groups  # soft-deleted principals' links are hidden
            return [
                a for a in self.state.assignments.values() if a["principalId"] in users or a["principalId"] in groups
            ]

        def shape(assignment: dict[str, Any]) -> dict[str, Any]:
            return {p: assignment.get(p) for p in props} if props else dict(assignment)

        context = f"servicePrincipals('{self.state.service_principal['id']}')/appRoleAssignedTo"
        return self.app.page(request, rows, top, shape, context)

    def assign(self, request: Request) -> Response:
        sp = self._sp(request)
        if sp is None:
            return self._missing(request.params.get("id") or request.params.get("appid"))
        body = parse_json_body(request) or {}
        principal, role = body.get("principalId", ""), body.get("appRoleId", "")
        if body.get("resourceId") not in (None, sp["id"]):
            return graph_error(400, "Request_BadRequest", "resourceId does not match the service principal.")
        try:
            uuid.UUID(principal)
            assignment = self.state.assign(principal, role)
        except (ValueError, KeyError) as err:
            message = str(err).strip("'\"") if "already exists" in str(err) else "Invalid principal or app role."
            return graph_error(400, "Request_BadRequest", message)
        return Response.json(assignment, 201)

    def unassign(self, request: Request) -> Response:
        if self._sp(request) is None or request.params["aid"] not in self.state.assignments:
            return self._missing(request.params["aid"])
        self.state.unassign(request.params["aid"])
        return Response(204)
