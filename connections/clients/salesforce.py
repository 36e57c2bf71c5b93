"""The Salesforce client: sign-in, SOQL, and User writes in sObject Collections.

Sign-in is explicit (SalesforceLogin against the configured login URL, or an OAuth client-credentials
token request), then `Salesforce(instance=..., session_id=...)`. That "direct" mode never signs in
again by itself, so `_with_retries` does it: one new sign-in after 401 INVALID_SESSION_ID, then retry.
Every call goes through `_request`, which is also where dry run stops writes.

The login URL is used as SalesforceLogin's `scratch_url`: the SOAP endpoint becomes
`{login_url}/services/Soap/u/{version}` for any https address (https://test.salesforce.com, a My Domain
such as https://acme--uat.sandbox.my.salesforce.com, or https://127.0.0.1:8443). The `domain` argument
would only ever build https://{domain}.salesforce.com.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from html import escape
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from simple_salesforce import Salesforce, SalesforceLogin
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError

from connections.clients import shapes
from connections.clients.errors import RemoteError, RequestLimitExceeded, SessionExpired, StopError, TransientError
from connections.clients.http import (
    DEFAULT_CALL_BUDGET,
    AttemptClock,
    RetryBudget,
    build_session,
    describe_request,
    parse_retry_after,
    transport_error,
)
from connections.clients.salesforce_errors import login_error, oauth_failure, request_limit_error, rest_error
from connections.models import SalesforceAuthMethod, SalesforceConnection

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COLLECTION_SIZE = 200  # records per sObject Collections request
# A /composite call carries up to 25 subrequests, at most 5 of them sObject Collections or queries ("Composite",
# REST API Developer Guide): 5 collections of 200, 1,000 records a call.
COLLECTIONS_PER_COMPOSITE = 5
# Independent access writes (write_access_lanes) go out this many Composite calls at a time. Salesforce limits
# concurrent API requests only when they last 20 s or more (25 in production orgs, 5 in Developer Edition; "API
# Request Limits and Allocations", Salesforce Developer Limits and Allocations Quick Reference): a Composite call of
# 1,000 assignments takes well under that, and three leave room for the org's other integrations.
ACCESS_CALLS_AT_ONCE = 3
PERMISSION_SET_GROUPS_VERSION = 45.0  # PermissionSetGroup and PermissionSet.PermissionSetGroupId exist from here
IN_CLAUSE_SIZE = 200
IN_CLAUSE_CHARS = 8000  # keeps the GET query URL well under Salesforce's 16 KB limit
LIMIT_INFO = re.compile(r"api-usage=(?P<used>\d+)/(?P<max>\d+)")
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
LOCKED = "UNABLE_TO_LOCK_ROW"  # a record another transaction holds: written again after a pause
T = TypeVar("T")


@dataclass(frozen=True)
class AccessOperation:
    """One access write: insert a record of `sobject` with `values`, or delete the record `record_id`."""

    sobject: str
    values: dict = field(default_factory=dict)
    record_id: str = ""

    @property
    def delete(self) -> bool:
        return bool(self.record_id)


@dataclass
class RecordResult:
    """The outcome of one record in a collection write, in the order the records were given."""

    ok: bool
    id: str | None
    code: str = ""
    message: str = ""
    fields: list[str] = field(default_factory=list)


class WriteInterrupted(Exception):
    """Writes (users, access) cut short by an error that ends the cycle (the org's request limit, a stop-class error):
    `results` in the shape the method returns, with what Salesforce answered for the calls that went through and None
    for each record or operation not written, and `error` to raise once the results are kept."""

    def __init__(self, error: RemoteError, results: list) -> None:
        super().__init__(str(error))
        self.error = error
        self.results = results


def soql_quote(value: str) -> str:
    """A SOQL string literal: backslash and quotes escaped, control characters as escapes."""
    escaped = (
        str(value)
        .replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
        .replace("\b", "\\b")
        .replace("\f", "\\f")
    )
    return f"'{escaped}'"


def _field_name(name: str) -> str:
    if not FIELD_NAME.match(name):
        raise ValueError(f"{name!r} is not a Salesforce field name")
    return name


def _creates(records: Sequence[dict]) -> list[dict]:
    return [{"attributes": {"type": "User"}, **{k: v for k, v in r.items() if k.lower() != "id"}} for r in records]


def _updates(records: Sequence[dict]) -> list[dict]:
    payload = []
    for record in records:
        record_id = record.get("Id") or record.get("id")
        if not record_id:
            raise ValueError("update_users needs an Id in every record")
        rest = {k: v for k, v in record.items() if k.lower() != "id"}
        payload.append({"attributes": {"type": "User"}, "id": record_id, **rest})
    return payload


def _strip_attributes(record: Any) -> Any:
    if isinstance(record, dict):
        return {k: _strip_attributes(v) for k, v in record.items() if k != "attributes"}
    return record


def _only_reads(path: str, body: Any) -> bool:
    """A Composite request whose subrequests all read (queries): safe to send in a dry run."""
    subrequests = body.get("compositeRequest") if path == "composite" and isinstance(body, dict) else None
    return bool(subrequests) and all(str(sub.get("method", "")).upper() in SAFE_METHODS for sub in subrequests)


def record_result(item: Any) -> RecordResult:
    if not isinstance(item, dict):
        return RecordResult(False, None, "UNKNOWN", "Salesforce returned no result for this record.")
    if item.get("success"):
        return RecordResult(True, item.get("id"))
    errors = item.get("errors") or [{}]
    first = errors[0] if isinstance(errors[0], dict) else {}
    return RecordResult(
        False,
        item.get("id"),
        str(first.get("statusCode") or first.get("errorCode") or "UNKNOWN"),
        str(first.get("message") or ""),
        list(first.get("fields") or []),
    )


class SalesforceClient:
    """One Salesforce org, reached through one connection's credentials and HTTP session."""

    def __init__(
        self,
        connection: SalesforceConnection,
        *,
        dry_run: bool = False,
        max_retries: int | None = None,
        retry_budget: RetryBudget | None = None,
    ) -> None:
        self.connection = connection
        self.dry_run = dry_run
        # Retries go on while the budget (a cycle's, shared with its Graph client) allows; max_retries only caps
        # interactive calls such as Test Connection.
        self.max_retries = max_retries
        self.retry_budget = retry_budget or RetryBudget(DEFAULT_CALL_BUDGET)
        # Called before every write; raises to stop it (a cycle whose claim on the job was lost).
        self.before_write: Callable[[], None] | None = None
        self.calls = 0
        self.throttles = 0  # answers that said "too many requests" (429, REQUEST_LIMIT_EXCEEDED)
        self.api_usage: tuple[int, int] | None = None  # (used, max) from the last Sforce-Limit-Info header
        self.recorded_writes: list[dict] = []
        self.session = build_session(connection.ca_bundle)
        self.instance = ""  # host[:port] of the org after sign-in
        self._sf: Salesforce | None = None
        self._sleep: Callable[[float], None] = time.sleep
        # Retry-After of the last answer, per thread: write_access_lanes sends from several threads at once.
        self._answer = threading.local()
        self._count_lock = threading.Lock()
        self.session.hooks["response"].append(self._read_headers)

    def _read_headers(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        # simple-salesforce's exceptions carry no headers: keep Retry-After for the back-off, and the org's API usage
        # (Sforce-Limit-Info: api-usage=used/max) from every answer, refusals included.
        self._answer.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        usage = LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info") or "")
        if usage:
            self.api_usage = (int(usage["used"]), int(usage["max"]))

    # -- sign-in -------------------------------------------------------------------------------

    @property
    def login_url(self) -> str:
        return self.connection.login_url.rstrip("/")

    @property
    def version(self) -> str:
        return self.connection.api_version

    def ensure_signed_in(self) -> None:
        """Sign in unless this client already holds a session (SOAP logins do not count as API calls)."""
        if self._sf is None:
            self.login()

    def login(self) -> None:
        """Sign in (SOAP username + password + token, or OAuth client credentials); no retry on refusal."""
        missing = self.connection.missing_fields()
        if missing:
            # Signing in without them would only reach the default login URL and hide the cause.
            raise StopError(
                f"The Salesforce connection is incomplete: fill in {', '.join(missing)}.", code="NOT_CONFIGURED"
            )
        if self.connection.auth_method == SalesforceAuthMethod.CLIENT_CREDENTIALS:
            session_id, instance = self._oauth_login()
        else:
            session_id, instance = self._soap_login()
        self.instance = instance
        self._sf = Salesforce(instance=instance, session_id=session_id, session=self.session, version=self.version)

    def _soap_login(self) -> tuple[str, str]:
        url = f"{self.login_url}/services/Soap/u/{self.version}"
        conn = self.connection

        def send() -> tuple[str, str]:
            # The library escapes username and password but not the token, so escape it here.
            return SalesforceLogin(
                username=conn.admin_username,
                password=conn.secret("admin_password"),
                security_token=escape(conn.secret("security_token")),
                sf_version=self.version,
                session=self.session,
                scratch_url=self.login_url,
            )

        return self._with_retries(describe_request("POST", url), send, relogin=False)

    def _oauth_login(self) -> tuple[str, str]:
        url = f"{self.login_url}/services/oauth2/token"
        request = describe_request("POST", url)
        conn = self.connection

        def send() -> tuple[str, str]:
            response = self.session.post(
                url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": conn.consumer_key,
                    "client_secret": conn.secret("consumer_secret"),
                },
                headers={"Accept": "application/json"},
            )
            try:
                body = response.json()
            except ValueError:
                body = None
            if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
                raise oauth_failure(response.status_code, body, request)
            instance = urlsplit(str(body.get("instance_url") or "")).netloc
            if not instance:
                raise StopError("The token answer carried no instance_url.", code="NO_INSTANCE_URL", request=request)
            return body["access_token"], instance

        return self._with_retries(request, send, relogin=False)

    # -- the one way out ---------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, params: dict | None = None, json: Any = None, claim_checked: bool = False
    ) -> Any:
        """One REST call (path relative to /services/data/vXX.X/, or an absolute /services/... path).

        In dry run, writes stop here: they are recorded and answered as if they had succeeded. `claim_checked`: the
        caller ran before_write already (from the thread that may use the database).
        """
        method = method.upper()
        prefix = f"/services/data/v{self.version}/"
        if path.startswith(prefix):
            path = path[len(prefix) :]
        writes = method not in SAFE_METHODS and not _only_reads(path, json)
        if self.dry_run and writes:
            return self._record_write(method, path, json)
        if writes and self.before_write is not None and not claim_checked:
            self.before_write()
        if self._sf is None:
            self.login()

        def send() -> Any:
            assert self._sf is not None
            return self._sf.restful(path, params=params, method=method, json=json)

        return self._with_retries(describe_request(method, f"https://{self.instance}{prefix}{path}"), send)

    def _with_retries(self, request: str, send: Callable[[], T], *, relogin: bool = True) -> T:
        """Send until it works, the error is not transient, or the retry budget is used up; an expired session
        signs in again once."""
        attempt = 0
        signed_in_again = False
        clock = AttemptClock(self.retry_budget)
        while True:
            try:
                with self._count_lock:
                    self.calls += 1
                return self._mapped(request, send)
            except SessionExpired:
                if not relogin or signed_in_again:
                    raise
                signed_in_again = True
                self.login()
                clock.restart()
            except TransientError as exc:
                clock.failed()
                if exc.throttled:
                    self.throttles += 1
                wait = self.retry_budget.next_wait(attempt, exc, self.max_retries)
                if wait is None:
                    raise self.retry_budget.exhausted(exc, attempt + 1, self.max_retries) from None
                self._sleep(wait)
                clock.restart()
                attempt += 1
            except RequestLimitExceeded as exc:
                self.throttles += 1
                exc.usage = exc.usage or self.api_usage
                raise

    def _mapped(self, request: str, send: Callable[[], T]) -> T:
        try:
            return send()
        except RemoteError:
            raise
        except SalesforceAuthenticationFailed as exc:
            raise login_error(exc, request) from None
        except SalesforceError as exc:
            error = rest_error(exc, request)
            if isinstance(error, TransientError) and error.retry_after is None:
                error.retry_after = getattr(self._answer, "retry_after", None)
            raise error from None
        except ValueError:  # a 2xx answer that is not JSON (requests' JSONDecodeError is one too)
            raise shapes.not_json(shapes.SALESFORCE, request) from None
        except requests.RequestException as exc:
            raise transport_error(exc, request, self.connection.ca_bundle) from None

    def _record_write(self, method: str, path: str, body: Any) -> Any:
        ok = {"id": None, "success": True, "errors": []}
        if path == "composite":
            answers = []
            for sub in body["compositeRequest"]:
                sub_path = sub["url"].split(f"/v{self.version}/", 1)[-1]
                if sub.get("body") is not None:
                    records = sub["body"]["records"]
                else:  # a collection delete names its ids in the URL
                    records = parse_qs(urlsplit(sub_path).query).get("ids", [""])[0].split(",")
                self.recorded_writes.append({"method": sub["method"], "path": sub_path, "records": records})
                answers.append(
                    {
                        "referenceId": sub["referenceId"],
                        "httpStatusCode": 200,
                        "httpHeaders": {},
                        "body": [ok] * len(records),
                    }
                )
            return {"compositeResponse": answers}
        records = body.get("records") if isinstance(body, dict) else None
        self.recorded_writes.append(
            {"method": method, "path": path, "records": records if records is not None else body}
        )
        return [dict(ok) for _ in records] if records is not None else None

    # -- reads -------------------------------------------------------------------------------

    def query(self, soql: str) -> Iterator[dict]:
        """Every record of a SOQL query, following nextRecordsUrl; "attributes" removed."""
        yield from self._follow(self._request("GET", "query/", params={"q": soql}), self._call("GET", "query/"))

    def query_many(self, queries: Sequence[str]) -> list[list[dict]]:
        """Several SOQL queries, up to five a call inside Composite; every record of each, in order."""
        found: list[list[dict]] = []
        for start in range(0, len(queries), COLLECTIONS_PER_COMPOSITE):
            group = queries[start : start + COLLECTIONS_PER_COMPOSITE]
            subrequests = [
                {
                    "method": "GET",
                    "url": f"/services/data/v{self.version}/query/?{urlencode({'q': q})}",
                    "referenceId": f"q{i}",
                }
                for i, q in enumerate(group)
            ]
            body = self._request("POST", "composite", json={"allOrNone": False, "compositeRequest": subrequests}) or {}
            answers = {a.get("referenceId"): a for a in body.get("compositeResponse") or [] if isinstance(a, dict)}
            for sub in subrequests:
                answer = answers.get(sub["referenceId"]) or {}
                status = int(answer.get("httpStatusCode") or 0)
                result = answer.get("body")
                if not 200 <= status < 300 or not isinstance(result, dict):
                    error = result[0] if isinstance(result, list) and result and isinstance(result[0], dict) else {}
                    # A query that did not answer is an error of this call, never an empty result.
                    raise TransientError(
                        f"A query inside Composite failed: {error.get('message') or f'HTTP {status}'}",
                        code=str(error.get("errorCode") or f"HTTP_{status}"),
                        request=describe_request(
                            "POST", f"https://{self.instance}/services/data/v{self.version}/composite"
                        ),
                    )
                query_call = f"{self._call('GET', 'query/')} (in Composite)"
                shapes.salesforce_query(result, query_call)
                records = [_strip_attributes(r) for r in result["records"]]
                if not result["done"]:
                    next_url = result["nextRecordsUrl"]
                    records.extend(self._follow(self._request("GET", next_url), self._call("GET", next_url)))
                found.append(records)
        return found

    def _call(self, method: str, path: str) -> str:
        """The call as messages name it (no query string)."""
        if not path.startswith("/"):
            path = f"/services/data/v{self.version}/{path}"
        return describe_request(method, f"https://{self.instance}{path}")

    def _follow(self, body: Any, call: str) -> Iterator[dict]:
        """Every record of a query answer and the pages after it; an answer of another shape is an UnexpectedAnswer
        (shapes.salesforce_query), never an empty result."""
        while True:
            shapes.salesforce_query(body, call)
            for record in body["records"]:
                yield _strip_attributes(record)
            if body["done"]:
                return
            next_url = body["nextRecordsUrl"]
            body, call = self._request("GET", next_url), self._call("GET", next_url)

    def find_users(self, field: str, values: Sequence[str], fields: Sequence[str]) -> list[dict]:
        """Users whose `field` is one of `values`: one SOQL per chunk of at most 200 values."""
        where_field = _field_name(field)
        select = ", ".join(dict.fromkeys(_field_name(f) for f in fields)) or "Id"
        found: list[dict] = []
        for chunk in self._in_chunks(list(dict.fromkeys(str(v) for v in values if v not in (None, "")))):
            # Field names are checked against FIELD_NAME and every value is quoted by soql_quote.
            soql = f"SELECT {select} FROM User WHERE {where_field} IN ({', '.join(chunk)})"  # noqa: S608
            found.extend(self.query(soql))
        return found

    @staticmethod
    def _in_chunks(values: list[str]) -> Iterator[list[str]]:
        chunk: list[str] = []
        size = 0
        for value in values:
            quoted = soql_quote(value)
            if chunk and (len(chunk) >= IN_CLAUSE_SIZE or size + len(quoted) > IN_CLAUSE_CHARS):
                yield chunk
                chunk, size = [], 0
            chunk.append(quoted)
            size += len(quoted) + 2
        if chunk:
            yield chunk

    def organization_id(self) -> str:
        """The 18-character ID of the org this client is signed in to (one SOQL on Organization). A sandbox gets a
        new one each time it is refreshed."""
        found = list(self.query("SELECT Id FROM Organization"))
        org_id = str(found[0].get("Id") or "") if len(found) == 1 else ""
        if not org_id.startswith("00D"):
            raise shapes.UnexpectedAnswer(
                "Salesforce answered the query of its Organization without one organization ID.",
                request=self._call("GET", "query/"),
            )
        return org_id

    def daily_api_requests(self) -> tuple[int, int]:
        """(Max, Remaining) of the org's rolling 24-hour API allowance, from the Limits resource (one API call)."""
        body = self._request("GET", "limits/") or {}
        daily = body.get("DailyApiRequests") if isinstance(body, dict) else None
        try:
            return int(daily["Max"]), int(daily["Remaining"])
        except (TypeError, KeyError, ValueError):
            raise TransientError(
                "Salesforce's Limits resource answered without DailyApiRequests Max and Remaining.",
                code="BAD_RESPONSE",
                request=describe_request("GET", f"https://{self.instance}/services/data/v{self.version}/limits/"),
            ) from None

    def describe_user(self) -> dict:
        return self._request("GET", "sobjects/User/describe") or {}

    def profiles(self) -> list[dict]:
        """[{"Id", "Name"}] of every profile, for role import and ProfileId lookups."""
        return [
            {"Id": p.get("Id"), "Name": p.get("Name")} for p in self.query("SELECT Id, Name FROM Profile ORDER BY Name")
        ]

    # -- writes ------------------------------------------------------------------------------

    def create_users(self, records: Sequence[dict]) -> list[RecordResult]:
        """Create Users in sObject Collections; one result per record, in input order (see _write)."""
        return self._write([("POST", record) for record in _creates(records)])

    def update_users(self, records: Sequence[dict]) -> list[RecordResult]:
        """Update Users (each record carries "Id") in sObject Collections; results in input order (see _write)."""
        return self._write([("PATCH", record) for record in _updates(records)])

    def save_users(
        self, creates: Sequence[dict], updates: Sequence[dict]
    ) -> tuple[list[RecordResult], list[RecordResult]]:
        """Create and update Users with both kinds of collections in the same Composite calls (creates first, five
        collections a call); (create results, update results), each in input order, also in WriteInterrupted.
        Composite runs its subrequests in order, each collection with its own per-record results
        (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_composite.htm)."""
        writes = [("POST", record) for record in _creates(creates)]
        writes += [("PATCH", record) for record in _updates(updates)]
        try:
            results = self._write(writes)
        except WriteInterrupted as stop:
            raise WriteInterrupted(stop.error, [stop.results[: len(creates)], stop.results[len(creates) :]]) from None
        return results[: len(creates)], results[len(creates) :]

    def _write(self, writes: list[tuple[str, dict]]) -> list[RecordResult]:
        """Send (method, record) writes, in order, and return one result per record; records refused with
        UNABLE_TO_LOCK_ROW are sent again (only those) after a pause, while the retry budget allows.

        The org's request limit or a stop-class error raises WriteInterrupted with the results Salesforce gave for
        the calls before it (None for each record not written, a record still locked among them), so that the users
        created or updated before it are known."""
        results = self._write_once(writes)
        attempt = 0
        while locked := self._locked_to_send_again(results, attempt):
            attempt += 1
            stopped: RemoteError | None = None
            try:
                again: list[RecordResult | None] = list(self._write_once([writes[i] for i in locked]))
            except WriteInterrupted as stop:
                again, stopped = stop.results, stop.error
            for index, result in zip(locked, again, strict=True):
                results[index] = result
            if stopped is not None:
                raise WriteInterrupted(stopped, [None if r is None or r.code == LOCKED else r for r in results])
        return results

    def _locked_to_send_again(self, results: list[RecordResult], attempt: int) -> list[int]:
        """The indices of the records refused with UNABLE_TO_LOCK_ROW, to send again now that the retry budget's wait
        for this attempt is over (slept here); none when nothing is locked, or when the budget is spent (the locked
        records' messages then say so). A row lock is momentary."""
        locked = [i for i, r in enumerate(results) if r.code == LOCKED]
        if not locked:
            return []
        lock_error = TransientError(results[locked[0]].message, code=LOCKED)
        wait_for = self.retry_budget.next_wait(attempt, lock_error, self.max_retries)
        if wait_for is None:
            exhausted = self.retry_budget.exhausted(lock_error, attempt + 1, self.max_retries)
            for index in locked:
                results[index].message = exhausted.message
            return []
        self._sleep(wait_for)
        return locked

    def _write_once(self, writes: list[tuple[str, dict]]) -> list[RecordResult]:
        """One pass over the writes: collections of one method (200 records), five a Composite call, in order. The
        org's request limit or a stop-class error raises WriteInterrupted with the results of the calls before it."""
        chunks: list[tuple[str, list[dict]]] = []
        for method, record in writes:
            if chunks and chunks[-1][0] == method and len(chunks[-1][1]) < COLLECTION_SIZE:
                chunks[-1][1].append(record)
            else:
                chunks.append((method, [record]))
        url = f"/services/data/v{self.version}/composite/sobjects"
        results: list[RecordResult] = []
        try:
            for start in range(0, len(chunks), COLLECTIONS_PER_COMPOSITE):
                group = chunks[start : start + COLLECTIONS_PER_COMPOSITE]
                if len(group) == 1:
                    method, chunk = group[0]
                    body = self._request(method, "composite/sobjects", json={"allOrNone": False, "records": chunk})
                    results.extend(self._chunk_results(body, len(chunk)))
                    continue
                subrequests = [
                    ({"method": method, "url": url, "body": {"allOrNone": False, "records": chunk}}, len(chunk))
                    for method, chunk in group
                ]
                results.extend(self._send_composite(subrequests))
        except (RequestLimitExceeded, StopError) as exc:
            raise WriteInterrupted(exc, [*results, *[None] * (len(writes) - len(results))]) from None
        return results

    def _send_composite(
        self, subrequests: list[tuple[dict, int]], *, claim_checked: bool = False
    ) -> list[RecordResult]:
        """One /composite call of collection subrequests (each with its record count), run in order; one result per
        record, in order. A subrequest refused as a whole fails each of its records with its error."""
        requests_ = [{**sub, "referenceId": f"part{i}"} for i, (sub, _) in enumerate(subrequests)]
        payload = {"allOrNone": False, "compositeRequest": requests_}
        body = self._request("POST", "composite", json=payload, claim_checked=claim_checked) or {}
        answers = {a.get("referenceId"): a for a in body.get("compositeResponse") or [] if isinstance(a, dict)}
        results: list[RecordResult] = []
        for sub, (_, size) in zip(requests_, subrequests, strict=True):
            answer = answers.get(sub["referenceId"]) or {}
            status = int(answer.get("httpStatusCode") or 0)
            if 200 <= status < 300:
                results.extend(self._chunk_results(answer.get("body"), size))
                continue
            error = (answer.get("body") or [{}])[0] if isinstance(answer.get("body"), list) else {}
            code = str(error.get("errorCode") or f"HTTP_{status}")
            if code == "REQUEST_LIMIT_EXCEEDED":
                text = str(error.get("message") or "")
                limit = request_limit_error(
                    text,
                    f"{text} [{code}]",
                    describe_request("POST", f"https://{self.instance}{sub['url'].split('?')[0]}"),
                )
                if isinstance(limit, RequestLimitExceeded):
                    limit.usage = self.api_usage
                    raise limit
            results.extend(RecordResult(False, None, code, str(error.get("message") or "")) for _ in range(size))
        return results

    # -- access beyond the profile -----------------------------------------------------------

    def access_catalogue(self) -> dict[str, list[dict]]:
        """The org's roles, assignable permission sets, permission set groups (API 45.0+), permission set licences,
        public groups and queues: one SOQL each, "attributes" removed."""
        groups_supported = float(self.version) >= PERMISSION_SET_GROUPS_VERSION
        queries = {
            "role": "SELECT Id, Name, DeveloperName FROM UserRole ORDER BY Name",
            # Profile-owned permission sets (and, from 45.0, a group's aggregate one) are not assignable on their own.
            "permission_set": (
                "SELECT Id, Name, Label, LicenseId, PermissionSetGroupId FROM PermissionSet "
                "WHERE IsOwnedByProfile = false ORDER BY Label"
                if groups_supported
                else "SELECT Id, Name, Label, LicenseId FROM PermissionSet "
                "WHERE IsOwnedByProfile = false ORDER BY Label"
            ),
            "licence": "SELECT Id, DeveloperName, MasterLabel FROM PermissionSetLicense ORDER BY MasterLabel",
            "group": "SELECT Id, Name, DeveloperName, Type FROM Group WHERE Type IN ('Regular', 'Queue') ORDER BY Name",
        }
        if groups_supported:
            queries["permission_set_group"] = (
                "SELECT Id, DeveloperName, MasterLabel, Status FROM PermissionSetGroup ORDER BY MasterLabel"
            )
        found = {kind: list(self.query(soql)) for kind, soql in queries.items()}
        found["permission_set"] = [p for p in found["permission_set"] if not p.get("PermissionSetGroupId")]
        return found

    def write_access(self, operations: Sequence[AccessOperation]) -> list[RecordResult]:
        """Insert and delete assignments and memberships, in the given order, in sObject Collections (200 records
        each) inside Composite (5 collections a call); one result per operation, in order. Written as one lane
        (write_access_lanes): a transient failure fails the rest, locked records are sent again, and an error that
        ends the cycle raises WriteInterrupted with the results of the calls that went through."""
        try:
            return self.write_access_lanes([operations])[0]
        except WriteInterrupted as stop:
            raise WriteInterrupted(stop.error, stop.results[0]) from None

    def write_access_lanes(self, lanes: Sequence[Sequence[AccessOperation]]) -> list[list[RecordResult]]:
        """Write lanes of access operations that do not depend on each other, ACCESS_CALLS_AT_ONCE Composite calls
        at a time; each lane's calls go in order, one after the other. One result per operation, lane by lane.

        A transient failure that outlasts the retries fails the rest of its lane (that call's operations and the
        ones after it, which may depend on them: a permission set after its licence); the operations of the lane's
        earlier calls keep their results. The org's request limit or a stop-class error raises WriteInterrupted
        once every lane has ended, carrying every result Salesforce gave (None for what was not written), so that
        what was granted is remembered before the cycle stops. Any other error (a lost claim) is raised as it is."""
        if self.dry_run or len(lanes) <= 1:
            return self._lanes_ended([self._lane_outcome(lane) for lane in lanes])
        # Signed in and the claim checked here, in the caller's thread: the sending threads touch neither the
        # client's sign-in nor the database.
        self.ensure_signed_in()
        if self.before_write is not None:
            self.before_write()
        with ThreadPoolExecutor(max_workers=min(ACCESS_CALLS_AT_ONCE, len(lanes))) as pool:
            futures = [pool.submit(self._lane_outcome, lane, claim_checked=True) for lane in lanes]
            wait(futures)
        for future in futures:
            if future.exception() is not None:
                raise future.exception()
        return self._lanes_ended([future.result() for future in futures])

    @staticmethod
    def _lanes_ended(outcomes: list[tuple[list[RecordResult | None], RemoteError | None]]) -> list[list[RecordResult]]:
        stopped = next((error for _, error in outcomes if error is not None), None)
        if stopped is not None:
            raise WriteInterrupted(stopped, [results for results, _ in outcomes])
        return [results for results, _ in outcomes]  # without an error, every operation has its answer

    def _lane_outcome(
        self, operations: Sequence[AccessOperation], *, claim_checked: bool = False
    ) -> tuple[list[RecordResult | None], RemoteError | None]:
        """A lane's results, and the error that ended the cycle's writes in it (None for what was not written).
        A lane after an interrupted one still runs: its first call meets the same error, or goes through."""
        results: list[RecordResult | None] = []
        for call in self._access_calls(operations):
            size = sum(count for _, count in call)
            answered: list[RecordResult] = []
            try:
                answered = self._send_composite(call, claim_checked=claim_checked)
                self._send_locked_again(operations[len(results) : len(results) + size], answered, claim_checked)
            except TransientError as exc:
                failed = RecordResult(False, None, exc.code or "TransientError", exc.message)
                # The call's records that went through keep their results; those still locked fail with the error.
                results.extend(failed if r.code == LOCKED else r for r in answered)
                return results + [failed] * (len(operations) - len(results)), None
            except (RequestLimitExceeded, StopError) as exc:
                results.extend(None if r.code == LOCKED else r for r in answered)
                return results + [None] * (len(operations) - len(results)), exc
            results.extend(answered)
        return results, None

    def _send_locked_again(
        self, operations: Sequence[AccessOperation], results: list[RecordResult], claim_checked: bool
    ) -> None:
        """Send the call's records refused with UNABLE_TO_LOCK_ROW (only those, in their order) again after the
        retry budget's wait, before the lane's next call, and put their new results in `results`; past the budget
        they keep the lock error. Group membership is locked while Salesforce recalculates sharing, and Salesforce
        advises integrations to retry ("Group Membership Locking", Designing Record Access for Enterprise Scale:
        https://developer.salesforce.com/docs/atlas.en-us.draes.meta/draes/draes_group_membership_locking.htm).
        A permission set refused because its licence was locked in the same call is not sent again: it fails alone
        and the next cycle grants it."""
        attempt = 0
        while locked := self._locked_to_send_again(results, attempt):
            attempt += 1
            again: list[RecordResult] = []
            for call in self._access_calls([operations[i] for i in locked]):
                again.extend(self._send_composite(call, claim_checked=claim_checked))
            for index, result in zip(locked, again, strict=True):
                results[index] = result

    def _access_calls(self, operations: Sequence[AccessOperation]) -> list[list[tuple[dict, int]]]:
        """The Composite calls (their collection subrequests, each with its record count) writing these operations
        in order: a collection holds up to 200 operations of one kind (inserts or deletes), a call 5 collections."""
        url = f"/services/data/v{self.version}/composite/sobjects"
        subrequests: list[tuple[dict, int]] = []
        run: list[AccessOperation] = []

        def close() -> None:
            if not run:
                return
            if run[0].delete:
                ids = ",".join(op.record_id for op in run)
                subrequests.append(({"method": "DELETE", "url": f"{url}?ids={ids}&allOrNone=false"}, len(run)))
            else:
                records = [{"attributes": {"type": op.sobject}, **op.values} for op in run]
                subrequests.append(
                    ({"method": "POST", "url": url, "body": {"allOrNone": False, "records": records}}, len(run))
                )
            run.clear()

        for op in operations:
            if run and (run[0].delete != op.delete or len(run) >= COLLECTION_SIZE):
                close()
            run.append(op)
        close()
        return [
            subrequests[start : start + COLLECTIONS_PER_COMPOSITE]
            for start in range(0, len(subrequests), COLLECTIONS_PER_COMPOSITE)
        ]

    def update_records(self, sobject: str, records: Sequence[dict]) -> list[RecordResult]:
        """Update records of one type (each carries "Id"), e.g. UserLogin to freeze users; results in input order."""
        payload = [
            {"attributes": {"type": sobject}, "id": r["Id"], **{k: v for k, v in r.items() if k != "Id"}}
            for r in records
        ]
        return self._write([("PATCH", record) for record in payload])

    @staticmethod
    def _chunk_results(body: Any, expected: int) -> list[RecordResult]:
        items = body if isinstance(body, list) else []
        results = [record_result(item) for item in items[:expected]]
        results.extend(record_result(None) for _ in range(expected - len(results)))
        return results
