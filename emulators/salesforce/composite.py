"""POST /composite: up to 25 subrequests (at most 5 collections or queries), references, allOrNone."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from emulators.salesforce.responses import sf_error
from emulators.server import Request, Response, parse_json_body

if TYPE_CHECKING:
    from emulators.salesforce.rest import SalesforceApp

_REFERENCE = re.compile(r"@\{(\w+)((?:\[\d+\]|\.\w+)+)\}")  # @{ref.field}, @{ref[0].id}
HALTED = {
    "errorCode": "PROCESSING_HALTED",
    "message": "The transaction was rolled back since another operation in the same transaction failed.",
}


def _substitute(text: str, results: dict[str, Any]) -> str:
    def repl(m: re.Match) -> str:
        value: Any = results.get(m.group(1))
        for part in re.findall(r"\w+|\[\d+\]", m.group(2)):
            if value is None:
                break
            value = value[int(part[1:-1])] if part.startswith("[") else value.get(part)
        return "" if value is None else str(value)

    return _REFERENCE.sub(repl, text)


def run_composite(app: SalesforceApp, request: Request) -> Response:
    body = parse_json_body(request)
    subrequests = body.get("compositeRequest") if isinstance(body, dict) else None
    if not isinstance(subrequests, list) or not subrequests:
        return sf_error(400, "JSON_PARSER_ERROR", "compositeRequest is required")
    if len(subrequests) > 25:
        return sf_error(400, "LIMIT_EXCEEDED", "Limit Exceeded: The number of subrequests cannot exceed 25.")
    heavy = sum(1 for s in subrequests if "/composite/sobjects" in s.get("url", "") or "/query" in s.get("url", ""))
    if heavy > 5:
        return sf_error(
            400,
            "LIMIT_EXCEEDED",
            "Limit Exceeded: the number of sObject Collections and query "
            "operations in a single composite request cannot exceed 5.",
        )
    all_or_none = bool(body.get("allOrNone"))
    snapshot = app.state.snapshot() if all_or_none else None
    results: dict[str, Any] = {}
    responses: list[dict[str, Any]] = []
    failed = False
    api_used = app.state.api_used
    for sub in subrequests:
        ref = sub.get("referenceId", "")
        if failed and all_or_none:
            responses.append({"body": [HALTED], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": ref})
            continue
        url = _substitute(sub.get("url", ""), results)
        payload = sub.get("body")
        raw = _substitute(json.dumps(payload), results) if payload is not None else ""
        parts = urlsplit(url)
        inner = Request(
            sub.get("method", "GET").upper(), parts.path, parts.query, request.headers, raw.encode(), request.base_url
        )
        route, params, _ = app.router.match(inner.method, inner.path)
        if route is None:
            resp = app.not_found(inner)
        else:
            inner.params = params
            resp = route.handler(inner)
        # The subrequest's answer as its handler built it (as Graph's JSON batch does): not encoded and decoded again.
        parsed = resp.payload if resp.payload is not None else json.loads(resp.body) if resp.body else None
        results[ref] = parsed
        headers = {k: v for k, v in resp.headers.items() if k == "Location"}
        responses.append({"body": parsed, "httpHeaders": headers, "httpStatusCode": resp.status, "referenceId": ref})
        failed = failed or resp.status >= 400
    app.state.api_used = api_used
    if failed and all_or_none:
        app.state.restore(snapshot)
        for item in responses:
            if item["httpStatusCode"] < 400:
                item.update(body=[HALTED], httpHeaders={}, httpStatusCode=400)
    return Response.json({"compositeResponse": responses})
