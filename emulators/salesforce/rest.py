"""The Salesforce emulator's HTTP surface: SOAP login, OAuth token, REST query / sObject / collections."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

from emulators.salesforce import external, soap
from emulators.salesforce.composite import run_composite
from emulators.salesforce.query import Cursors, execute
from emulators.salesforce.records import collection_results, create_user, delete_results, update_user
from emulators.salesforce.responses import sf_error
from emulators.salesforce.schema import OBJECT_NAMES, OBJECTS, describe
from emulators.salesforce.soql import SOQLError
from emulators.salesforce.state import SalesforceState
from emulators.salesforce.validation import UserError
from emulators.server import EmulatorApp, Request, Response, parse_json_body

V = r"/services/data/(?P<ver>v\d+\.\d+)"
VL = "/services/data/vXX.X"
MAX_BATCH = 2000


class SalesforceApp(EmulatorApp):
    name = "salesforce"

    def __init__(self, state: SalesforceState) -> None:
        super().__init__()
        self.state = state
        self.cursors = Cursors(state)
        r = self.router
        r.add(
            "POST",
            r"/services/Soap/u/(?P<ver>\d+\.\d+)(?:/[^/]*)?",
            "POST /services/Soap/u/XX.X",
            self.soap_login,
            faultable=False,
        )
        r.add("POST", r"/services/oauth2/token", "POST /services/oauth2/token", self.oauth_token, faultable=False)
        r.add("GET", r"/services/data/?", "GET /services/data", self.versions)
        r.add("GET", V + "/?", f"GET {VL}", self.authed(self.resources))
        r.add("GET", V + "/limits/?", f"GET {VL}/limits", self.authed(self.limits))
        r.add("GET", V + "/(?P<kind>query|queryAll)/?", f"GET {VL}/query", self.authed(self.query))
        r.add(
            "GET",
            V + "/(?P<kind>query|queryAll)/(?P<locator>01g\\w+-\\d+)",
            f"GET {VL}/query/locator",
            self.authed(self.query_more),
        )
        r.add("GET", V + "/sobjects/?", f"GET {VL}/sobjects", self.authed(self.describe_global))
        r.add("GET", V + "/sobjects/(?P<obj>\\w+)/?", f"GET {VL}/sobjects/OBJECT", self.authed(self.sobject_info))
        r.add("POST", V + "/sobjects/(?P<obj>\\w+)/?", f"POST {VL}/sobjects/OBJECT", self.authed(self.create))
        r.add(
            "GET",
            V + "/sobjects/(?P<obj>\\w+)/describe/?",
            f"GET {VL}/sobjects/OBJECT/describe",
            self.authed(self.describe),
        )
        for method, handler in (("GET", self.get), ("PATCH", self.update), ("DELETE", self.delete)):
            r.add(
                method,
                V + "/sobjects/(?P<obj>\\w+)/(?P<id>[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?)",
                f"{method} {VL}/sobjects/OBJECT/ID",
                self.authed(handler),
            )
        by_field = V + "/sobjects/(?P<obj>\\w+)/(?P<field>\\w+)/(?P<value>[^/]+)"
        r.add("GET", by_field, f"GET {VL}/sobjects/OBJECT/FIELD/VALUE", self.authed(self.get_by_field))
        r.add("PATCH", by_field, f"PATCH {VL}/sobjects/OBJECT/FIELD/VALUE", self.authed(self.upsert))
        r.add("POST", V + "/composite/sobjects/?", f"POST {VL}/composite/sobjects", self.authed(self.collection_create))
        r.add(
            "PATCH", V + "/composite/sobjects/?", f"PATCH {VL}/composite/sobjects", self.authed(self.collection_update)
        )
        r.add(
            "DELETE",
            V + "/composite/sobjects/?",
            f"DELETE {VL}/composite/sobjects",
            self.authed(self.collection_delete),
        )
        r.add(
            "GET",
            V + "/composite/sobjects/(?P<obj>\\w+)/?",
            f"GET {VL}/composite/sobjects/OBJECT",
            self.authed(self.collection_get),
        )
        r.add("POST", V + "/composite/?", f"POST {VL}/composite", self.authed(self.composite))

    # --- framework hooks -------------------------------------------------------------------------
    def is_write(self, route, request: Request) -> bool | None:
        """A Composite request carrying only queries reads: it is not counted as a write."""
        if route.label != f"POST {VL}/composite":
            return None
        try:
            subrequests = (request.json() or {}).get("compositeRequest") or []
        except (ValueError, AttributeError):
            return None
        return not subrequests or any(
            str(s.get("method", "")).upper() != "GET" for s in subrequests if isinstance(s, dict)
        )

    def decorate(self, request: Request, response: Response) -> Response:
        if request.path.startswith("/services/data/"):
            response.headers["Sforce-Limit-Info"] = self.state.limit_info()
        return response

    def before_handler(self, kind: str, request: Request) -> None:
        if kind == "lock_row":
            self.state.unable_to_lock_next += 1

    def fault_response(self, kind: str, request: Request) -> Response:
        headers = {"Sforce-Limit-Info": self.state.limit_info()}
        if kind == "expire":  # the session ends (an administrator's logout, a timeout policy): a new login works
            with self.lock:
                self.state.expire_sessions()
            return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if kind == "limit":
            return sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", headers=headers)
        if kind == "429":  # Salesforce's "too many at once" is a 403 naming the concurrency limit, without Retry-After
            return sf_error(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.", headers=headers)
        if kind == "503":
            return sf_error(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable; please retry.", headers=headers)
        return sf_error(
            500,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you "
            "contact support: 1402855839-40431 (-1289938254)",
            headers=headers,
        )

    def not_found(self, request: Request) -> Response:
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist")

    def method_not_allowed(self, request: Request, allowed: list[str]) -> Response:
        methods = ",".join(["HEAD", *sorted(set(allowed))])
        return sf_error(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed. Allowed are {methods}")

    def bad_json(self, request: Request) -> Response:
        return sf_error(400, "JSON_PARSER_ERROR", "Unexpected character: was expecting a JSON value")

    def authed(self, handler):
        """Wrap a REST handler with the session check and the daily API counter."""

        def wrapped(request: Request) -> Response:
            auth = request.header("Authorization")
            token = auth.split(" ", 1)[1].strip() if " " in auth else ""
            if token not in self.state.sessions:
                return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
            if self.state.api_used >= self.state.api_limit:
                return sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.state.api_used += 1
            return handler(request)

        return wrapped

    # --- authentication --------------------------------------------------------------------------
    def soap_login(self, request: Request) -> Response:
        parsed = soap.parse_login(request.body)
        if parsed is None:
            return Response.xml(soap.fault("INVALID_LOGIN", "Missing or malformed login envelope"), 500)
        user_id, code = soap.check_login(self.state, *parsed)
        if code:
            return Response.xml(soap.fault(code), 500)
        sid = self.state.new_session(user_id)
        return Response.xml(soap.success(self.state, request.base_url, request.params["ver"], sid, user_id))

    def oauth_token(self, request: Request) -> Response:
        form = request.form()
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        auth = request.header("Authorization")
        if auth.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                pass
        if form.get("grant_type") != "client_credentials":
            return Response.json(
                {"error": "unsupported_grant_type", "error_description": "grant type not supported"}, 400
            )
        creds = self.state.credentials
        if client_id != creds.client_id or secret != creds.client_secret:
            return Response.json({"error": "invalid_client", "error_description": "invalid client credentials"}, 400)
        if self.state.login_rejection:
            return Response.json({"error": "invalid_grant", "error_description": "authentication failure"}, 400)
        sid = self.state.new_session(self.state.admin_id)
        return Response.json(
            {
                "access_token": sid,
                "signature": "ZW11bGF0b3I=",
                "scope": "api",
                "instance_url": request.base_url,
                "id": f"{request.base_url}/id/{self.state.org_id}/{self.state.admin_id}",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
            }
        )

    # --- metadata --------------------------------------------------------------------------------
    def versions(self, request: Request) -> Response:
        return Response.json(
            [
                {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"},
                {"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"},
            ]
        )

    def resources(self, request: Request) -> Response:
        base = f"/services/data/{request.params['ver']}"
        return Response.json({k: f"{base}/{k}" for k in ("limits", "query", "queryAll", "sobjects", "composite")})

    def limits(self, request: Request) -> Response:
        st = self.state
        return Response.json({"DailyApiRequests": {"Max": st.api_limit, "Remaining": st.api_limit - st.api_used}})

    def _object(self, request: Request) -> str | None:
        return OBJECT_NAMES.get(request.params["obj"].lower())

    def describe_global(self, request: Request) -> Response:
        sobjects = [{k: v for k, v in describe(o, "").items() if k not in ("fields", "urls")} for o in OBJECTS]
        return Response.json({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects})

    def sobject_info(self, request: Request) -> Response:
        obj = self._object(request)
        if obj is None:
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        info = describe(obj, f"/services/data/{request.params['ver']}")
        return Response.json({"objectDescribe": {k: v for k, v in info.items() if k != "fields"}, "recentItems": []})

    def describe(self, request: Request) -> Response:
        obj = self._object(request)
        if obj is None:
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        return Response.json(describe(obj, f"/services/data/{request.params['ver']}"))

    # --- query -----------------------------------------------------------------------------------
    def _page(self, request: Request, locator: str, offset: int, total: int, records: list) -> Response:
        size = MAX_BATCH
        m = re.search(r"batchSize=(\d+)", request.header("Sforce-Query-Options"))
        if m:
            size = max(200, min(MAX_BATCH, int(m.group(1))))
        chunk = records[offset : offset + size]
        body: dict[str, Any] = {"totalSize": total, "done": offset + size >= len(records), "records": chunk}
        if not body["done"]:
            body["nextRecordsUrl"] = (
                f"/services/data/{request.params['ver']}/{request.params['kind']}/{locator}-{offset + size}"  # noqa: E501
            )
        return Response.json(body)

    def query(self, request: Request) -> Response:
        soql = request.query.get("q", "")
        if not soql:
            return sf_error(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            total, records = execute(self.state, soql, request.params["ver"])
        except SOQLError as err:
            return sf_error(400, err.code, err.message)
        locator = self.cursors.store(total, records) if len(records) > 200 else "01g0000000000000000"
        return self._page(request, locator, 0, total, records)

    def query_more(self, request: Request) -> Response:
        locator, _, offset = request.params["locator"].rpartition("-")
        cursor = self.cursors.get(locator)
        if cursor is None:
            return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(request, locator, int(offset), *cursor)

    # --- single records --------------------------------------------------------------------------
    def _user_only(self, request: Request, verb: str) -> Response | None:
        obj = self._object(request)
        if obj is None:
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        if obj != "User":
            return sf_error(400, "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be {verb}: {obj}")
        return None

    def create(self, request: Request) -> Response:
        refused = self._user_only(request, "inserted")
        if refused:
            return refused
        try:
            uid = create_user(self.state, parse_json_body(request) or {})
        except UserError as err:
            return Response.json([err.as_error()], 400)
        return Response.json(
            {"id": uid, "success": True, "errors": []},
            201,
            {"Location": f"/services/data/{request.params['ver']}/sobjects/User/{uid}"},
        )

    def get(self, request: Request) -> Response:
        obj = self._object(request)
        tables = {"User": self.state.users, "Profile": self.state.profiles, "UserRole": self.state.roles}
        table = tables.get(obj or "") or self.state.access.tables().get(obj or "")
        record = None
        if table is not None:
            key = self.state.resolve_id(request.params["id"], table)
            record = table.get(key or "")
        if record is None:
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        fields = request.query.get("fields")
        shaped = {
            "attributes": {"type": obj, "url": f"/services/data/{request.params['ver']}/sobjects/{obj}/{record['Id']}"}
        }
        if fields:
            wanted = {f.strip().lower() for f in fields.split(",")}
            shaped.update({k: v for k, v in record.items() if k.lower() in wanted})
        else:
            shaped.update(record)
        return Response.json(shaped)

    def update(self, request: Request) -> Response:
        refused = self._user_only(request, "updated")
        if refused:
            return refused
        if self.state.user_by_any_id(request.params["id"]) is None:
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        try:
            update_user(self.state, request.params["id"], parse_json_body(request) or {})
        except UserError as err:
            return Response.json([err.as_error()], 400)
        return Response(204)

    def get_by_field(self, request: Request) -> Response:
        return external.get_by_field(self, request)

    def upsert(self, request: Request) -> Response:
        return external.upsert(self, request)

    def delete(self, request: Request) -> Response:
        return sf_error(405, "METHOD_NOT_ALLOWED", "HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH")

    # --- collections -----------------------------------------------------------------------------
    def _collection(self, request: Request, operation: str) -> Response:
        body = parse_json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            return sf_error(400, "JSON_PARSER_ERROR", "Expected a JSON object with a 'records' array")
        if len(body["records"]) > 200:
            return sf_error(
                400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call"
            )
        return Response.json(collection_results(self.state, body["records"], bool(body.get("allOrNone")), operation))

    def collection_create(self, request: Request) -> Response:
        return self._collection(request, "create")

    def collection_update(self, request: Request) -> Response:
        return self._collection(request, "update")

    def collection_delete(self, request: Request) -> Response:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not ids:
            return sf_error(400, "MISSING_ARGUMENT", "ids parameter is required")
        if len(ids) > 200:
            return sf_error(
                400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call"
            )
        all_or_none = request.query.get("allOrNone", "false").lower() == "true"
        return Response.json(delete_results(self.state, ids, all_or_none))

    def collection_get(self, request: Request) -> Response:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        fields = [f.strip() for f in request.query.get("fields", "Id").split(",") if f.strip()]
        if len(ids) > 200:
            return sf_error(400, "EXCEEDED_ID_LIMIT", "too many ids")
        out = []
        for uid in ids:
            record = self.state.user_by_any_id(uid)
            if record is None:
                out.append(None)
                continue
            item = {
                "attributes": {
                    "type": "User",
                    "url": f"/services/data/{request.params['ver']}/sobjects/User/{record['Id']}",
                }
            }  # noqa: E501
            item.update({f: record.get(f) for f in fields})
            out.append(item)
        return Response.json(out)

    def composite(self, request: Request) -> Response:
        return run_composite(self, request)
