"""The Entra emulator's server app: token routes and Graph v1.0 routes on one HTTPS port."""

from __future__ import annotations

import itertools
import json
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from emulators.entra.audit import AuditRoutes
from emulators.entra.directory import DirectoryRoutes
from emulators.entra.group_delta import GroupDeltaRoutes
from emulators.entra.responses import GRAPH, decode_token, encode_token, graph_error
from emulators.entra.signin import SignInRoutes
from emulators.entra.state import EntraState
from emulators.entra.tokens import TokenRoutes
from emulators.entra.users import UserRoutes
from emulators.server import EmulatorApp, Request, Response, parse_json_body


class EntraApp(EmulatorApp):
    name = "entra"

    def __init__(self, state: EntraState) -> None:
        super().__init__()
        self.state = state
        self.snapshots: OrderedDict[str, list[Any]] = OrderedDict()
        self.snapshot_ids = itertools.count(1)
        self.tokens = TokenRoutes(self)
        self.signin = SignInRoutes(self)
        self.browser_url = ""  # the plain-HTTP listener of the sign-in pages, set once it listens
        self.users = UserRoutes(self)
        self.group_delta = GroupDeltaRoutes(self)  # before /groups/{id}, which would take "delta" for an id
        self.directory = DirectoryRoutes(self)
        self.audit = AuditRoutes(self)
        # faults are drawn per inner request, as Graph throttles each one separately
        self.router.add("POST", GRAPH + r"/\$batch", "POST /v1.0/$batch", self.authed(self.batch), faultable=False)

    # --- framework hooks -------------------------------------------------------------------------
    def spoil(self, kind: str, request: Request, response: Response) -> Response:
        """no_value: a 200 collection answer without its `value` array (a proxy's page, a changed API)."""
        if kind != "no_value" or request.method != "GET" or response.status != 200 or not response.body:
            return response
        try:
            body = json.loads(response.body)
        except ValueError:
            return response
        if not isinstance(body, dict) or "value" not in body:
            return response
        body.pop("value")
        body.pop("@odata.nextLink", None)
        body.pop("@odata.deltaLink", None)
        return Response.json(body, 200)

    def fault_response(self, kind: str, request: Request) -> Response:
        if kind == "expire":  # the access token stops being accepted (revoked, lifetime policy): a new one works
            with self.lock:
                self.state.tokens = {t: (c, 0.0) for t, (c, _) in self.state.tokens.items()}
            return graph_error(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        if kind in ("429", "limit"):
            return graph_error(
                429, "TooManyRequests", "Please retry again later.", {"Retry-After": str(self.faults.retry_after)}
            )
        if kind == "503":
            return graph_error(
                503, "serviceNotAvailable", "Service unavailable, please retry later.", {"Retry-After": "1"}
            )
        return graph_error(500, "generalException", "An unexpected error occurred.")

    def not_found(self, request: Request) -> Response:
        if request.path.startswith(GRAPH):
            return graph_error(
                400, "BadRequest", f"Resource not found for the segment '{request.path.rsplit('/', 1)[-1]}'."
            )
        return Response.json({"error": "not_found"}, 404)

    def method_not_allowed(self, request: Request, allowed: list[str]) -> Response:
        return graph_error(405, "Request_BadRequest", f"Specified HTTP method is not allowed for the request target.")  # noqa: F541

    def bad_json(self, request: Request) -> Response:
        return graph_error(
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header "
            "is set and payload is of valid JSON format.",
        )

    def authed(self, handler):
        def wrapped(request: Request) -> Response:
            auth = request.header("Authorization")
            if not auth.startswith("Bearer ") or not auth[7:].strip():
                return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
            issued = self.state.tokens.get(auth[7:].strip())
            if issued is None:
                return graph_error(
                    401,
                    "InvalidAuthenticationToken",
                    "IDX14100: JWT is not well formed, there are no "
                    "dots (.) or the token is not a valid access token for this tenant.",
                )
            if issued[1] < time.time():
                return graph_error(
                    401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."
                )
            return handler(request)

        return wrapped

    # --- paging ----------------------------------------------------------------------------------
    def top(self, request: Request, default: int = 100) -> int | Response:
        raw = request.query.get("$top")
        if raw is None:
            return default
        if not raw.isdigit() or not 1 <= int(raw) <= 999:
            return graph_error(
                400, "Request_BadRequest", f"Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive."
            )
        return int(raw)

    def page(self, request: Request, items: Any, size: int, shape, context: str) -> Response:
        """One page of `items` (a list built on the first call, kept as a snapshot for the $skiptoken links)."""
        token = decode_token(request.query.get("$skiptoken", "")) if "$skiptoken" in request.query else None
        if isinstance(token, dict) and token.get("s") in self.snapshots:
            snapshot_id, offset = token["s"], token["o"]
            rows = self.snapshots[snapshot_id]
        elif "$skiptoken" in request.query:
            return graph_error(
                400,
                "Request_BadRequest",
                "The specified page token value has expired and can no longer be included in your request.",
            )
        else:
            rows = items() if callable(items) else items
            offset = 0
            snapshot_id = str(next(self.snapshot_ids))
            if len(rows) > size:
                self.snapshots[snapshot_id] = rows
                while len(self.snapshots) > 500:
                    self.snapshots.popitem(last=False)
        chunk = [s for s in (shape(x) for x in rows[offset : offset + size]) if s is not None]
        body: dict[str, Any] = {"@odata.context": f"{request.base_url}/v1.0/$metadata#{context}"}
        if request.query.get("$count", "").lower() == "true":  # an advanced query: Graph insists on the header
            if request.header("ConsistencyLevel").lower() != "eventual":
                return graph_error(400, "Request_BadRequest", "$count is not currently supported without the "
                                   "ConsistencyLevel: eventual header.")  # fmt: skip
            body["@odata.count"] = len(rows)
        if offset + size < len(rows):
            params = [(k, v) for k, v in parse_qsl(request.raw_query, keep_blank_values=True) if k != "$skiptoken"]
            params.append(("$skiptoken", encode_token({"s": snapshot_id, "o": offset + size})))
            body["@odata.nextLink"] = f"{request.base_url}{request.path}?{urlencode(params, safe='$,()=')}"
        body["value"] = chunk
        return Response.json(body)

    # --- $batch ----------------------------------------------------------------------------------
    def batch(self, request: Request) -> Response:
        payload = parse_json_body(request)
        requests = payload.get("requests") if isinstance(payload, dict) else None
        if not isinstance(requests, list) or not requests:
            return graph_error(400, "BadRequest", "Invalid batch payload format.")
        if len(requests) > 20:
            return graph_error(400, "BadRequest", "Number of requests exceeds the maximum of 20.")
        ids = [r.get("id") for r in requests]
        if any(not i for i in ids) or len(set(ids)) != len(ids):
            return graph_error(400, "BadRequest", "Batch request ids must be present and unique.")
        responses = []
        for item in requests:
            url = item.get("url", "")
            parts = urlsplit(url if url.startswith("/") else "/" + url)
            body = json.dumps(item["body"]).encode() if item.get("body") is not None else b""
            inner = Request(
                item.get("method", "GET").upper(),
                GRAPH + parts.path,
                parts.query,
                request.headers,
                body,
                request.base_url,
            )
            route, params, allowed = self.router.match(inner.method, inner.path)
            if route is None:
                resp = self.method_not_allowed(inner, allowed) if allowed else self.not_found(inner)
            else:
                inner.params = params
                self.metrics.count(route)
                kind = self.faults.draw() if route.faultable else None
                if kind in ("timeout", "timeout_after"):
                    kind = "503"  # a batch's inner request does not time out on its own: Graph answers it 503
                if kind in ("lock_row",):
                    kind = None
                if kind and kind != "no_value":
                    resp = self.fault_response(kind, inner)
                else:
                    resp = route.handler(inner)
                    if kind:
                        resp = self.spoil(kind, inner, resp)
                resp = self.malform(
                    inner.method, f"{inner.path}?{inner.raw_query}" if inner.raw_query else inner.path, resp
                )
            headers = {k: v for k, v in resp.headers.items() if k in ("Retry-After", "Content-Type", "Location")}
            responses.append(
                {
                    "id": item["id"],
                    "status": resp.status,
                    "headers": headers,
                    "body": resp.payload if resp.payload is not None else _inner_body(resp.body),
                }
            )
        responses.reverse()  # Graph does not keep the order; clients must correlate by id
        return Response.json({"responses": responses})


def _inner_body(body: bytes) -> Any:
    """A batch answer's body: its JSON, or its text when it is none (an answer of the wrong shape)."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
