"""Graph /users, /users/{id}, /users/{id}/manager, /users/delta and deleted users."""

from __future__ import annotations

import bisect
import itertools
import re
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from emulators.entra.odata import FilterError, compile_filter, resource_id_filter
from emulators.entra.responses import (
    GRAPH,
    delta_gone,
    delta_round,
    delta_state,
    encode_token,
    graph_error,
)
from emulators.entra.state import DEFAULT_SELECT, USER_PROPERTIES
from emulators.server import Request, Response

if TYPE_CHECKING:
    from emulators.entra.app import EntraApp

_PROPS = {p.lower(): p for p in USER_PROPERTIES}
_ID_IN = re.compile(r"^\s*id\s+in\s*\((?P<ids>[^()]*)\)\s*$", re.IGNORECASE)
IN_LIMIT = 15  # values Graph accepts in one `in` of a $filter
_EXPAND = re.compile(r"^manager(?:\(\$select=([\w,]+)\))?$")


class UserRoutes:
    def __init__(self, app: EntraApp) -> None:
        self.app = app
        self.delta_page_size = 200
        self.rounds: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.round_ids = itertools.count(1)
        r, a = app.router, app.authed
        r.add("GET", GRAPH + "/users/?", "GET /v1.0/users", a(self.list))
        r.add("GET", GRAPH + "/users/delta(?:\\(\\))?", "GET /v1.0/users/delta", a(self.delta))
        r.add("GET", GRAPH + "/users/\\$count", "GET /v1.0/users/$count", a(self.count))
        r.add("GET", GRAPH + "/users/(?P<id>[^/]+)", "GET /v1.0/users/{id}", a(self.get))
        r.add("GET", GRAPH + "/users/(?P<id>[^/]+)/manager", "GET /v1.0/users/{id}/manager", a(self.manager))
        r.add(
            "GET",
            GRAPH + "/users/(?P<id>[^/]+)/appRoleAssignments",
            "GET /v1.0/users/{id}/appRoleAssignments",
            a(self.app_role_assignments),
        )
        r.add(
            "GET",
            GRAPH + "/users/(?P<id>[^/]+)/transitiveMemberOf(?P<cast>/microsoft\\.graph\\.group)?",
            "GET /v1.0/users/{id}/transitiveMemberOf",
            a(self.transitive_member_of),
        )
        r.add(
            "GET",
            GRAPH + "/directory/deletedItems/microsoft\\.graph\\.user",
            "GET /v1.0/directory/deletedItems/microsoft.graph.user",
            a(self.deleted),
        )

    @property
    def state(self):
        return self.app.state

    # --- shaping ---------------------------------------------------------------------------------
    def select(self, request: Request) -> list[str] | Response:
        raw = request.query.get("$select")
        if not raw:
            return list(DEFAULT_SELECT)
        out = []
        extensions = {n.lower(): n for n in self.state.extension_properties}
        for name in (n.strip() for n in raw.split(",") if n.strip()):
            prop = _PROPS.get(name.lower()) or extensions.get(name.lower())
            if prop is None:
                return graph_error(
                    400,
                    "Request_BadRequest",
                    f"Could not find a property named '{name}' on type 'microsoft.graph.user'.",
                )
            out.append(prop)
        return out

    def expand(self, request: Request) -> list[str] | None | Response:
        raw = request.query.get("$expand")
        if not raw:
            return None
        m = _EXPAND.match(raw.replace(" ", ""))
        if not m:
            return graph_error(
                400, "Request_BadRequest", f"Parsing OData Select and Expand failed: '{raw}' cannot be expanded."
            )
        return [_PROPS.get(p.lower(), p) for p in (m.group(1) or "id,displayName,userPrincipalName,mail").split(",")]

    def shape(self, user: dict[str, Any], select: list[str], expand: list[str] | None = None) -> dict[str, Any]:
        # Graph leaves out a directory extension the user has no value for, even when it is selected.
        out = {p: user.get(p) for p in select if user.get(p) is not None or p not in self.state.extension_properties}
        if expand is not None:
            manager = self.state.users.get(self.state.managers.get(user["id"], ""))
            if manager is not None:
                out["manager"] = {"@odata.type": "#microsoft.graph.user", **{p: manager.get(p) for p in expand}}
        return out

    def _params(self, request: Request) -> tuple[list[str], list[str] | None] | Response:
        select = self.select(request)
        if isinstance(select, Response):
            return select
        expand = self.expand(request)
        if isinstance(expand, Response):
            return expand
        return select, expand

    # --- routes ----------------------------------------------------------------------------------
    def list(self, request: Request) -> Response:
        params = self._params(request)
        if isinstance(params, Response):
            return params
        top = self.app.top(request)
        if isinstance(top, Response):
            return top
        predicate = None
        flt = request.query.get("$filter") or ""
        by_id = _ID_IN.match(flt)
        if by_id and by_id["ids"].count(",") >= IN_LIMIT:
            message = f"Too many values in the 'in' operator; at most {IN_LIMIT} are allowed."
            return graph_error(400, "Request_UnsupportedQuery", message)
        if flt:
            try:
                predicate = compile_filter(flt, set(USER_PROPERTIES))
            except FilterError as err:
                return graph_error(400, "Request_UnsupportedQuery", str(err))
        users = self.state.users

        def rows() -> list[str]:
            if by_id:  # looked up by key (object ids are lower-case GUIDs here), not by scanning a large tenant
                wanted = dict.fromkeys(v.strip().strip("'").lower() for v in by_id["ids"].split(","))
                return [uid for uid in wanted if uid in users]
            return [uid for uid, u in users.items() if predicate is None or predicate(u)]

        def shape(uid: str) -> dict[str, Any] | None:
            user = users.get(uid)
            return self.shape(user, *params) if user else None

        return self.app.page(request, rows, top, shape, "users")

    def count(self, request: Request) -> Response:
        """The number of users as plain text; an advanced query, refused without ConsistencyLevel: eventual."""
        if request.header("ConsistencyLevel").lower() != "eventual":
            return graph_error(
                400, "Request_BadRequest", "$count is not currently supported without the ConsistencyLevel: eventual "
                "header."
            )  # fmt: skip
        return Response(200, str(len(self.state.users)).encode(), {"Content-Type": "text/plain;charset=utf-8"})

    def _find(self, request: Request) -> dict[str, Any] | Response:
        user = self.state.find_user(request.params["id"])
        if user is None:
            return graph_error(
                404,
                "Request_ResourceNotFound",
                f"Resource '{request.params['id']}' does not exist or "
                "one of its queried reference-property objects are not present.",
            )
        return user

    def get(self, request: Request) -> Response:
        user = self._find(request)
        if isinstance(user, Response):
            return user
        params = self._params(request)
        if isinstance(params, Response):
            return params
        body = {"@odata.context": f"{request.base_url}/v1.0/$metadata#users/$entity", **self.shape(user, *params)}
        return Response.json(body)

    def manager(self, request: Request) -> Response:
        user = self._find(request)
        if isinstance(user, Response):
            return user
        manager = self.state.users.get(self.state.managers.get(user["id"], ""))
        if manager is None:
            return graph_error(
                404,
                "Request_ResourceNotFound",
                "Resource 'manager' does not exist or one of its queried reference-property objects are not present.",
            )
        select = self.select(request)
        if isinstance(select, Response):
            return select
        return Response.json({"@odata.type": "#microsoft.graph.user", **self.shape(manager, select)})

    def app_role_assignments(self, request: Request) -> Response:
        if "Directory.Read.All" in self.state.missing_permissions:  # the least privileged application permission
            return graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        user = self._find(request)
        if isinstance(user, Response):
            return user
        # As Graph: the user's own assignments and those of the groups the user is a direct member of.
        try:
            resource = resource_id_filter(request.query.get("$filter", ""))
        except FilterError as err:
            return graph_error(400, "Request_UnsupportedQuery", str(err))
        rows = [a for a in self.state.user_assignments(user["id"]) if resource in (None, a["resourceId"].lower())]
        return self.app.page(request, rows, 100, lambda a: a, f"users('{user['id']}')/appRoleAssignments")

    def transitive_member_of(self, request: Request) -> Response:
        """The groups the user belongs to, nested ones included (only groups exist here, so the cast is a no-op)."""
        user = self._find(request)
        if isinstance(user, Response):
            return user
        top = self.app.top(request)
        if isinstance(top, Response):
            return top
        groups = self.state.groups_of(user["id"])
        return self.app.page(
            request,
            groups,
            top,
            self.app.directory.group_shape_for(request),
            f"users('{user['id']}')/transitiveMemberOf",
        )

    def deleted(self, request: Request) -> Response:
        select = self.select(request)
        if isinstance(select, Response):
            return select
        select = [*select, "deletedDateTime"] if "deletedDateTime" not in select else select
        rows = list(self.state.deleted_users.values())
        return self.app.page(request, rows, 100, lambda u: self.shape(u, select), "directory/deletedItems")

    # --- delta -----------------------------------------------------------------------------------
    def delta(self, request: Request) -> Response:
        state, q = self.state, request.query
        if "$skiptoken" in q:
            found = delta_round(self.rounds, q["$skiptoken"], state.delta_generation)
            if found is None:
                return delta_gone()
            round_, token = found
            return self._delta_page(request, round_, token["o"])
        if q.get("$deltatoken") == "latest":
            select = self.select(request)
            if isinstance(select, Response):
                return select
            link = self._delta_link(request, state.last_sequence, select, None)
            return Response.json(
                {"@odata.context": f"{request.base_url}/v1.0/$metadata#users", "value": [], "@odata.deltaLink": link}
            )
        if "$deltatoken" in q:
            token = delta_state(q["$deltatoken"], state.delta_generation)
            if token is None:
                return delta_gone()
            select, ids, since = token["sel"], token.get("ids"), token["s"]
            start = bisect.bisect_right(state.changes, (since, "\uffff"))
            changed = list(OrderedDict.fromkeys(uid for _, uid in reversed(state.changes[start:])))
            changed.reverse()
        else:
            select = self.select(request)
            if isinstance(select, Response):
                return select
            ids = None
            if q.get("$filter"):
                ids = re.findall(r"id\s+eq\s+'([^']+)'", q["$filter"])
                if not ids or len(ids) > 50:
                    return graph_error(
                        400,
                        "Request_UnsupportedQuery",
                        "Unsupported query: delta only filters on id eq '...', at most 50 ids.",
                    )
            changed = list(state.users)
        if ids:
            wanted = set(ids)
            changed = [uid for uid in changed if uid in wanted]
        if "id" not in select:
            select = ["id", *select]
        rid = str(next(self.round_ids))
        round_ = {
            "ids": changed,
            "end": state.last_sequence,
            "sel": select,
            "g": state.delta_generation,
            "filter_ids": ids,
        }
        self.rounds[rid] = round_
        round_["rid"] = rid
        while len(self.rounds) > 200:
            self.rounds.popitem(last=False)
        return self._delta_page(request, round_, 0)

    def _delta_page(self, request: Request, round_: dict[str, Any], offset: int) -> Response:
        state = self.state
        chunk = round_["ids"][offset : offset + self.delta_page_size]
        value = []
        for uid in chunk:
            user = state.users.get(uid)
            if user is not None:
                value.append(self.shape(user, round_["sel"]))
            elif uid in state.deleted_users:
                value.append({"id": uid, "@removed": {"reason": "changed"}})
            else:
                value.append({"id": uid, "@removed": {"reason": "deleted"}})
        body: dict[str, Any] = {"@odata.context": f"{request.base_url}/v1.0/$metadata#users", "value": value}
        if offset + self.delta_page_size < len(round_["ids"]):
            token = encode_token({"r": round_["rid"], "o": offset + self.delta_page_size})
            body["@odata.nextLink"] = f"{request.base_url}/v1.0/users/delta?$skiptoken={token}"
        else:
            body["@odata.deltaLink"] = self._delta_link(request, round_["end"], round_["sel"], round_["filter_ids"])
        return Response.json(body)

    def _delta_link(self, request: Request, sequence: int, select: list[str], ids: list[str] | None) -> str:
        token = encode_token({"g": self.state.delta_generation, "s": sequence, "sel": select, "ids": ids})
        return f"{request.base_url}/v1.0/users/delta?$deltatoken={token}"
