"""The Microsoft Graph client: an msal client-credentials token, then paged reads of users and assignments.

One ConfidentialClientApplication per credential set lives at module level (keyed by a hash of the
secret, never the secret itself) so the token cache and the tenant discovery survive across cycles.
It uses the connection's own HTTP session (CA bundle honoured even with REQUESTS_CA_BUNDLE set) and
instance_discovery=False, which skips the call to login.microsoftonline.com that a single-tenant
authority does not need (and that national clouds and the emulator cannot answer).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, urlsplit

import msal
import requests
from msal.exceptions import MsalServiceError

from connections.clients import shapes
from connections.clients.errors import NotFound, RemoteError, StopError, TransientError
from connections.clients.graph_errors import graph_error, tenant_unknown, token_error
from connections.clients.http import (
    DEFAULT_CALL_BUDGET,
    AttemptClock,
    RetryBudget,
    build_session,
    describe_request,
    parse_retry_after,
    transport_error,
)
from connections.models import EntraConnection

PAGE_SIZE = 999  # Graph's maximum $top
BATCH_LIMIT = 20
# JSON batches a whole-application read keeps in flight at once: the reads are independent, so waiting on them one
# after another made the network's latency most of a large read. Graph throttles each request inside a batch on its
# own (https://learn.microsoft.com/en-us/graph/throttling); a throttled one is resent after its Retry-After.
READ_WORKERS = 4
IN_LIMIT = 15  # values of an `in` operator in $filter that Graph accepts
ASSIGNMENT_SELECT = "id,appRoleId,principalId,principalType,principalDisplayName,createdDateTime"
# Token audiences of the national clouds; any other Graph address (an emulator) uses the public one.
GRAPH_AUDIENCES = {
    "graph.microsoft.com",
    "graph.microsoft.us",
    "dod-graph.microsoft.us",
    "microsoftgraph.chinacloudapi.cn",
}

_APPLICATIONS: dict[tuple[str, ...], tuple[msal.ConfidentialClientApplication, requests.Session]] = {}
_APPLICATIONS_LOCK = threading.Lock()


def secret_fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def forget_applications() -> None:
    """Drop every cached msal application (tests; credential changes take effect without it anyway)."""
    with _APPLICATIONS_LOCK:
        _APPLICATIONS.clear()


class GraphClient:
    """One Entra tenant read through Graph with an app registration's client secret."""

    def __init__(
        self, connection: EntraConnection, *, max_retries: int | None = None, retry_budget: RetryBudget | None = None
    ) -> None:
        self.connection = connection
        # Retries go on while the budget (a cycle's, shared with its Salesforce client) allows; max_retries only caps
        # interactive calls such as Test Connection.
        self.max_retries = max_retries
        self.retry_budget = retry_budget or RetryBudget(DEFAULT_CALL_BUDGET)
        self.calls = 0
        self.throttles = 0  # 429 answers, batch items included (counted for /metrics)
        self._counting = threading.Lock()  # reads run in a few threads at once (READ_WORKERS)
        self.last_delta_link: str | None = None
        self.graph_url = connection.graph_url.rstrip("/")
        self.authority = f"{connection.authority_host.rstrip('/')}/{connection.tenant_id}"
        host = urlsplit(self.graph_url).hostname or ""
        audience = f"https://{host}" if host in GRAPH_AUDIENCES else "https://graph.microsoft.com"
        self.scopes = [f"{audience}/.default"]
        self.session: requests.Session | None = None
        self._app: msal.ConfidentialClientApplication | None = None
        self._sleep: Callable[[float], None] = time.sleep

    # -- token -------------------------------------------------------------------------------

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is not None:
            return self._app
        conn = self.connection
        missing = [
            label for label, value in (("Tenant ID", conn.tenant_id), ("Client ID", conn.client_id)) if not value
        ]
        if not conn.has_secret("client_secret"):
            missing.append("Client secret")
        if missing:
            raise StopError(f"The Entra connection is incomplete: fill in {', '.join(missing)}.", code="NOT_CONFIGURED")
        secret = conn.secret("client_secret")
        key = (self.authority, conn.client_id, secret_fingerprint(secret), conn.ca_bundle)
        request = describe_request("GET", f"{self.authority}/v2.0/.well-known/openid-configuration")
        with _APPLICATIONS_LOCK:
            entry = _APPLICATIONS.get(key)
            if entry is None:
                session = build_session(conn.ca_bundle)
                self._count()
                try:
                    app = msal.ConfidentialClientApplication(
                        conn.client_id,
                        client_credential=secret,
                        authority=self.authority,
                        instance_discovery=False,
                        http_client=session,
                    )
                except ValueError as exc:
                    if "authority configuration" in str(exc):
                        raise tenant_unknown(conn.tenant_id, conn.authority_host, request) from None
                    raise StopError(
                        "The authority host is not usable: it must be an https address such as "
                        "https://login.microsoftonline.com.",
                        code="BAD_AUTHORITY",
                        request=request,
                    ) from None
                except KeyError:
                    raise StopError(
                        "The authority host did not answer like Entra (no token endpoint in its configuration).",
                        code="BAD_AUTHORITY",
                        recommendation="Check the authority host setting.",
                        request=request,
                    ) from None
                except MsalServiceError:
                    raise TransientError(
                        "Entra's sign-in service is unavailable.", code="HTTP_5XX", request=request
                    ) from None
                except requests.RequestException as exc:
                    raise transport_error(exc, request, conn.ca_bundle) from None
                entry = _APPLICATIONS[key] = (app, session)
        self._app, self.session = entry
        return self._app

    def token(self) -> str:
        """An access token for Graph, from msal's cache when still valid for 5 minutes."""
        app = self._application()
        request = describe_request("POST", f"{self.authority}/oauth2/v2.0/token")
        attempt = 0
        clock = AttemptClock(self.retry_budget)
        while True:
            try:
                result = app.acquire_token_for_client(scopes=self.scopes)
            except MsalServiceError:
                error: RemoteError = TransientError(
                    "Entra's token endpoint is unavailable.", code="HTTP_5XX", request=request
                )
            except requests.RequestException as exc:
                error = transport_error(exc, request, self.connection.ca_bundle)
            else:
                if result.get("token_source") != "cache":
                    self._count()
                if "access_token" in result:
                    return result["access_token"]
                error = token_error(result, request)
            if not isinstance(error, TransientError):
                raise error
            self._wait_or_raise(error, attempt, clock)
            attempt += 1

    def _count(self, *, throttled: bool = False) -> None:
        with self._counting:
            if throttled:
                self.throttles += 1
            else:
                self.calls += 1

    def _wait_or_raise(self, error: TransientError, attempt: int, clock: AttemptClock) -> None:
        """Wait before the next attempt if the retry budget allows it, else raise the error saying so."""
        clock.failed()
        wait = self.retry_budget.next_wait(attempt, error, self.max_retries)
        if wait is None:
            raise self.retry_budget.exhausted(error, attempt + 1, self.max_retries)
        self._sleep(wait)
        clock.restart()

    # -- the one way out ---------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if path.startswith(("https://", "http://")):
            own, other = urlsplit(self.graph_url), urlsplit(path)
            if (own.scheme, own.netloc) != (other.scheme, other.netloc):
                # Never hand the bearer token to a host other than the configured Graph endpoint.
                raise StopError(
                    f"Graph pointed to another host ({other.netloc}); refusing to follow.",
                    code="FOREIGN_LINK",
                    request=describe_request("GET", path),
                )
            return path
        return f"{self.graph_url}/{path.lstrip('/')}"

    def _request(
        self, method: str, path: str, *, params: dict | None = None, json: Any = None, headers: dict | None = None
    ) -> dict:
        """One Graph call with retries while the budget allows (Retry-After of a 429 or 503 honoured) and one token
        refresh on 401."""
        url = self._url(path)
        request = describe_request(method, url)
        attempt = 0
        refreshed = False
        clock = AttemptClock(self.retry_budget)
        while True:
            token = self.token()
            assert self.session is not None
            self._count()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers={**(headers or {}), "Authorization": f"Bearer {token}"},
                )
            except requests.RequestException as exc:
                error = transport_error(exc, request, self.connection.ca_bundle)
            else:
                if response.status_code < 300:
                    return shapes.json_body(response, request)
                if response.status_code == 401 and not refreshed:
                    refreshed = True
                    self._app.remove_tokens_for_client()  # type: ignore[union-attr]
                    continue
                error = graph_error(response, request)
            if isinstance(error, TransientError) and error.throttled:
                self._count(throttled=True)
            if not isinstance(error, TransientError):
                raise error
            self._wait_or_raise(error, attempt, clock)
            attempt += 1

    def _needing(self, advice: str, method: str, path: str, **kwargs: Any) -> dict:
        """A call that needs a permission the console's basic set lacks: a refusal says which one to grant."""
        try:
            return self._request(method, path, **kwargs)
        except StopError as exc:
            raise StopError(exc.message, code=exc.code, recommendation=advice, request=exc.request) from None

    # -- reads -------------------------------------------------------------------------------

    def get(self, path: str, params: dict | None = None) -> dict:
        return self._request("GET", path, params=params)

    def iter_pages(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Each page (a dict with a "value" list of objects with ids: shapes.graph_page), following @odata.nextLink,
        which carries the parameters. A page of another shape is an UnexpectedAnswer, never an empty page."""
        while True:
            page = shapes.graph_page(self.get(path, params), describe_request("GET", self._url(path)))
            yield page
            path, params = page.get("@odata.nextLink"), None
            if not path:
                return

    def service_principal(self, select: str = "id,appId,displayName,appRoles") -> dict:
        sp_id = self.connection.service_principal_id
        try:
            return self.get(f"servicePrincipals/{quote(sp_id, safe='')}", {"$select": select})
        except NotFound as exc:
            raise NotFound(
                f"No service principal with object ID {sp_id} in tenant {self.connection.tenant_id}.",
                code=exc.code,
                recommendation="Copy the Object ID from Enterprise applications > (the Salesforce Sandbox app) > "
                "Overview; the app registration's object ID is a different one.",
                request=exc.request,
            ) from None

    def iter_app_role_assignments(self) -> Iterator[dict]:
        """Every user and group assigned to the enterprise application (the properties an assignment row reads)."""
        path = f"servicePrincipals/{quote(self.connection.service_principal_id, safe='')}/appRoleAssignedTo"
        for page in self.iter_pages(path, {"$select": ASSIGNMENT_SELECT, "$top": PAGE_SIZE}):
            yield from page["value"]

    def iter_users(
        self, select: Sequence[str], filter: str | None = None, expand: str | None = None
    ) -> Iterator[list[dict]]:
        params: dict[str, Any] = {"$select": ",".join(select), "$top": PAGE_SIZE}
        if filter:
            params["$filter"] = filter
        if expand:
            params["$expand"] = expand
        for page in self.iter_pages("users", params):
            yield page["value"]

    def get_user(self, id_or_upn: str, select: Sequence[str]) -> dict:
        return self.get(f"users/{quote(id_or_upn, safe='@')}", {"$select": ",".join(select)})

    def default_domain(self) -> str | None:
        """The tenant's default verified domain (the organization's verifiedDomains entry marked isDefault), read
        with the Organization.Read.All application permission; None when no verified domain is the default."""
        body = self._needing(
            "Grant the application permission Organization.Read.All (with admin consent): DefaultDomain() reads the "
            "tenant's verified domains.",
            "GET",
            "organization",
            params={"$select": "id,verifiedDomains"},
        )
        for organization in shapes.graph_page(body, describe_request("GET", self._url("organization")))["value"]:
            for domain in organization.get("verifiedDomains") or []:
                if domain.get("isDefault") and domain.get("name"):
                    return domain["name"]
        return None

    def directory_extensions(self) -> list[dict]:
        """The directory extensions of users registered in the tenant (extensionProperty objects), by Graph's
        getAvailableExtensionProperties, which needs the Directory.Read.All application permission."""
        body = self._needing(
            "Grant the application permission Directory.Read.All (with admin consent) to list the tenant's directory "
            "extensions, or type the extension's full name (extension_<appId>_<name>).",
            "POST",
            "directoryObjects/getAvailableExtensionProperties",
            json={},
        )
        call = describe_request("POST", self._url("directoryObjects/getAvailableExtensionProperties"))
        return [p for p in shapes.graph_page(body, call)["value"] if "User" in (p.get("targetObjects") or [])]

    def groups_user_members(
        self,
        group_ids: Sequence[str],
        select: Sequence[str],
        failed: dict[str, RemoteError] | None = None,
        *,
        workers: int = READ_WORKERS,
    ) -> Iterator[tuple[str, list[dict]]]:
        """(group id, its user members with nested groups expanded) for each group in order, 20 groups to a JSON
        batch and `workers` batches in flight; a group of more than a page continues through its @odata.nextLink.
        Any answer but 200 is an error: a group read wrongly must never look like a group without members. With
        `failed`, a group whose read fails (after the retries) is put there with its error and left out instead of
        ending the read (a StopError still ends it: nothing else would work either)."""
        select_text = ",".join(select)

        def read(chunk: list[str]) -> list[tuple[str, list[dict] | RemoteError]]:
            requests_ = [
                {
                    "id": str(i),
                    "method": "GET",
                    "url": f"/groups/{quote(gid, safe='')}/transitiveMembers/microsoft.graph.user"
                    f"?$select={select_text}&$top={PAGE_SIZE}",
                }
                for i, gid in enumerate(chunk)
            ]
            try:
                answers = self.batch(requests_)
            except StopError:
                raise
            except RemoteError as exc:
                return [(group_id, exc) for group_id in chunk]
            out: list[tuple[str, list[dict] | RemoteError]] = []
            for i, group_id in enumerate(chunk):
                try:
                    page = _batch_body(
                        answers.get(str(i)),
                        f"the members of group {group_id}",
                        f"GET /groups/{group_id}/transitiveMembers/microsoft.graph.user (in a JSON batch)",
                    )
                    members = list(page["value"])
                    if page.get("@odata.nextLink"):
                        for more in self.iter_pages(page["@odata.nextLink"]):
                            members.extend(more["value"])
                except StopError:
                    raise
                except RemoteError as exc:
                    out.append((group_id, exc))
                    continue
                out.append((group_id, members))
            return out

        chunks = [list(group_ids[start : start + BATCH_LIMIT]) for start in range(0, len(group_ids), BATCH_LIMIT)]
        for outcome in self.in_parallel(read, chunks, workers):
            for group_id, members in outcome:
                if isinstance(members, RemoteError):
                    if failed is None:
                        raise members
                    failed[group_id] = members
                    continue
                yield group_id, members

    def in_parallel(self, read: Callable[[Any], Any], items: Iterable[Any], workers: int = READ_WORKERS) -> Iterator:
        """read(item) for each item, `workers` at a time in threads, the answers in the order of `items`. The token
        is taken first so that the threads share it; an error of one read ends the lot once its turn comes."""
        items = list(items)
        if workers <= 1 or len(items) <= 1:
            yield from (read(item) for item in items)
            return
        self.token()
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graph-read")
        pending: deque[Future] = deque()
        try:
            queue = iter(items)
            for item in queue:
                pending.append(pool.submit(read, item))
                if len(pending) >= workers * 2:
                    break
            while pending:
                answer = pending.popleft().result()
                for item in queue:
                    pending.append(pool.submit(read, item))
                    break
                yield answer
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def count_users(self) -> int:
        """The number of users of the tenant: what listing them all costs (GET /users/$count, an advanced query)."""
        body = self._request("GET", "users/$count", headers={"ConsistencyLevel": "eventual"})
        if isinstance(body, bool) or not isinstance(body, int):
            raise RemoteError("Microsoft Graph answered the user count with something other than a number.")
        return body

    def users_by_ids(
        self, ids: Sequence[str], select: Sequence[str], *, workers: int = READ_WORKERS
    ) -> Iterator[list[dict]]:
        """Users by object id: 15 ids to a request (Graph's limit for `in` in $filter), 20 requests to a JSON batch,
        `workers` batches in flight. An id that is no user (any more) is simply not returned."""
        select_text = ",".join(select)
        per_batch = IN_LIMIT * BATCH_LIMIT

        def read(chunk: list[str]) -> list[list[dict]]:
            groups = [chunk[n : n + IN_LIMIT] for n in range(0, len(chunk), IN_LIMIT)]
            requests_ = [
                {
                    "id": str(i),
                    "method": "GET",
                    "url": "/users?$filter="
                    + quote("id in (" + ",".join(f"'{user_id}'" for user_id in group) + ")", safe="(),'")
                    + f"&$select={select_text}",
                }
                for i, group in enumerate(groups)
            ]
            answers = self.batch(requests_)
            call = "GET /users?$filter=id in (...) (in a JSON batch)"
            return [
                list(_batch_body(answers.get(str(i)), "users by object id", call)["value"]) for i in range(len(groups))
            ]

        chunks = [list(ids[start : start + per_batch]) for start in range(0, len(ids), per_batch)]
        for pages in self.in_parallel(read, chunks, workers):
            yield from pages

    def delta(self, select: Sequence[str], delta_link: str | None) -> Iterator[list[dict]]:
        """Pages of changed users; afterwards `last_delta_link` holds the link for the next round.

        Raises DeltaExpired when the stored link is no longer valid (start a full synchronisation).
        """
        self.last_delta_link = None
        pages = (
            self.iter_pages(delta_link) if delta_link else self.iter_pages("users/delta", {"$select": ",".join(select)})
        )
        for page in pages:
            if page.get("@odata.deltaLink"):
                self.last_delta_link = page["@odata.deltaLink"]
            yield page["value"]

    def latest_group_delta_link(self) -> str:
        """A groups/delta link "from now on" with membership changes ($select=members, $deltatoken=latest): no data,
        one call. Raises RemoteError when the answer carries no link."""
        page = self.get("groups/delta", {"$select": "members", "$deltatoken": "latest"})
        link = page.get("@odata.deltaLink")
        if not link:
            raise RemoteError("Microsoft Graph answered groups/delta without a deltaLink.")
        return link

    def group_delta(self, delta_link: str) -> Iterator[list[dict]]:
        """Pages of groups whose membership changed since `delta_link` (each with members@delta); afterwards
        `last_group_delta_link` holds the link for the next round. Raises DeltaExpired when the link is no longer
        valid."""
        self.last_group_delta_link = None
        for page in self.iter_pages(delta_link):
            if page.get("@odata.deltaLink"):
                self.last_group_delta_link = page["@odata.deltaLink"]
            yield page["value"]

    def nested_groups(self, group_ids: Sequence[str]) -> dict[str, list[str]]:
        """Each group's groups nested inside it at any depth (transitiveMembers cast to groups), 20 to a batch."""
        out: dict[str, list[str]] = {}
        for start in range(0, len(group_ids), BATCH_LIMIT):
            chunk = list(group_ids[start : start + BATCH_LIMIT])
            path = "transitiveMembers/microsoft.graph.group?$select=id&$top=" + str(PAGE_SIZE)
            answers = self.batch(
                [{"id": str(i), "method": "GET", "url": f"/groups/{quote(gid, safe='')}/{path}"}
                 for i, gid in enumerate(chunk)]
            )  # fmt: skip
            for i, group_id in enumerate(chunk):
                page = _batch_body(
                    answers.get(str(i)),
                    f"the groups nested in group {group_id}",
                    f"GET /groups/{group_id}/transitiveMembers/microsoft.graph.group (in a JSON batch)",
                )
                found = [g["id"] for g in page["value"] if g.get("id")]
                if page.get("@odata.nextLink"):
                    for more in self.iter_pages(page["@odata.nextLink"]):
                        found.extend(g["id"] for g in more["value"] if g.get("id"))
                out[group_id] = found
        return out

    def iter_directory_audits(self, since: str) -> Iterator[list[dict]]:
        """Pages of the directory audit log's entries since `since` (ISO 8601, UTC) that name this enterprise
        application among their target resources: GET /auditLogs/directoryAudits (AuditLog.Read.All), `$filter` on
        activityDateTime (ge) and on targetResources by id
        (https://learn.microsoft.com/graph/api/directoryaudit-list,
        https://learn.microsoft.com/graph/api/resources/directoryaudit)."""
        sp_id = self.connection.service_principal_id
        params = {"$filter": f"activityDateTime ge {since} and targetResources/any(t:t/id eq '{sp_id}')"}
        for page in self.iter_pages("auditLogs/directoryAudits", params):
            yield page["value"]

    def principals_app_role_assignments(self, principals: Mapping[str, str]) -> Iterator[tuple[str, list[dict] | None]]:
        """(principal id, its own assignments to this enterprise application) for users and groups by object id
        (`principals`: id -> "User" or "Group"), 20 to a JSON batch: GET /users/{id}/appRoleAssignments and
        /groups/{id}/appRoleAssignments with `$filter=resourceId eq {sp}`
        (https://learn.microsoft.com/graph/api/user-list-approleassignments,
        https://learn.microsoft.com/graph/api/group-list-approleassignments). A user's list also holds the
        assignments of the groups they are a direct member of: only the principal's own are kept. None for a
        principal that does not exist (any more): what it holds is then unknown, not nothing. Any other answer but
        a 200 collection page is an error."""
        sp_id = self.connection.service_principal_id
        ids = list(principals)
        for start in range(0, len(ids), BATCH_LIMIT):
            chunk = ids[start : start + BATCH_LIMIT]
            kinds = ["groups" if principals[pid] == "Group" else "users" for pid in chunk]
            answers = self.batch(
                [{"id": str(i), "method": "GET",
                  "url": f"/{kind}/{quote(pid, safe='')}/appRoleAssignments?$filter=resourceId%20eq%20{sp_id}"}
                 for i, (pid, kind) in enumerate(zip(chunk, kinds, strict=True))]
            )  # fmt: skip
            for i, (pid, kind) in enumerate(zip(chunk, kinds, strict=True)):
                call = f"GET /{kind}/{pid}/appRoleAssignments (in a JSON batch)"
                try:
                    page = _batch_body(answers.get(str(i)), f"the assignments of {pid}", call)
                except NotFound:
                    yield pid, None
                    continue
                found = list(page["value"])
                if page.get("@odata.nextLink"):
                    for more in self.iter_pages(page["@odata.nextLink"]):
                        found.extend(more["value"])
                if not all(isinstance(a.get("principalId"), str) and isinstance(a.get("resourceId"), str)
                           for a in found):  # fmt: skip
                    # an assignment that does not say whose or to what it is must never count as none
                    raise shapes.UnexpectedAnswer(
                        f"Microsoft Graph answered {call} with an assignment without its principalId or resourceId; "
                        "the answer was not used.",
                        request=call,
                    )
                own = [
                    a for a in found
                    if a["principalId"].lower() == pid.lower() and a["resourceId"].lower() == sp_id.lower()
                ]  # fmt: skip
                yield pid, own

    def user_app_role_assignments(self, user_id: str, *, nested_groups: bool = True) -> list[dict]:
        """The assignments to this enterprise application that reach one user, in a few calls whatever the
        number of assignments of the application: the user's own and direct groups' (appRoleAssignments),
        plus, with `nested_groups`, those of the groups the user is in through nesting, in JSON batches."""
        sp_id = self.connection.service_principal_id
        user = quote(user_id, safe="")
        mine = [
            assignment
            for page in self.iter_pages(f"users/{user}/appRoleAssignments", {"$filter": f"resourceId eq {sp_id}"})
            for assignment in page["value"]
        ]
        if not nested_groups:
            return mine
        known = {a.get("principalId") for a in mine}
        groups = [
            group["id"]
            for page in self.iter_pages(
                f"users/{user}/transitiveMemberOf/microsoft.graph.group", {"$select": "id", "$top": PAGE_SIZE}
            )
            for group in page["value"]
            if group["id"] not in known
        ]
        for start in range(0, len(groups), BATCH_LIMIT):
            chunk = groups[start : start + BATCH_LIMIT]
            requests = [
                {
                    "id": str(i),
                    "method": "GET",
                    "url": f"/groups/{gid}/appRoleAssignments?$filter=resourceId%20eq%20{sp_id}",
                }
                for i, gid in enumerate(chunk)
            ]
            for i, answer in self.batch(requests).items():
                status = int(answer.get("status") or 0)
                if status == 200:
                    call = f"GET /groups/{chunk[int(i)]}/appRoleAssignments (in a JSON batch)"
                    mine.extend(shapes.graph_page(answer.get("body"), call)["value"])
                elif status != 404:  # a group deleted meanwhile has no assignment left
                    message = ((answer.get("body") or {}).get("error") or {}).get("message") or f"HTTP {status}"
                    raise RemoteError(
                        f"Reading the assignments of group {chunk[int(i)]} failed: {message}", code=f"Graph{status}"
                    )
        return [a for a in mine if (a.get("resourceId") or sp_id).lower() == sp_id.lower()]

    def batch(self, requests: list[dict]) -> dict[str, dict]:
        """A JSON batch of at most 20 requests; answers keyed by id. Throttled inner requests are resent."""
        if len(requests) > BATCH_LIMIT:
            raise ValueError(f"a Graph batch holds at most {BATCH_LIMIT} requests")
        pending = {str(r["id"]): r for r in requests}
        answers: dict[str, dict] = {}
        attempt = 0
        while True:
            body = self._request("POST", "$batch", json={"requests": list(pending.values())})
            throttled: list[TransientError] = []
            for answer in shapes.graph_batch(body, describe_request("POST", self._url("$batch"))):
                answer_id = str(answer.get("id"))
                answers[answer_id] = answer
                status = answer.get("status")
                if status == 429:
                    self._count(throttled=True)
                if answer_id in pending and (status == 429 or (isinstance(status, int) and status >= 500)):
                    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
                    throttled.append(
                        TransientError(
                            f"Graph is busy (HTTP {status} inside a batch).",
                            code=f"Graph{status}",
                            retry_after=parse_retry_after(str(headers.get("retry-after") or "")),
                            throttled=status == 429,
                        )
                    )
                else:
                    pending.pop(answer_id, None)
            if not pending or not throttled:
                return answers
            # Inner requests throttled or failed on their own: resend only those, after the longest wait asked for.
            slowest = max(throttled, key=lambda e: e.retry_after or 0.0)
            wait = self.retry_budget.next_wait(attempt, slowest, self.max_retries)
            if wait is None:
                return answers  # the callers turn what is still a 429 or 5xx into an error of that read
            self._sleep(wait)
            attempt += 1

    # -- writes (role import, tests against the emulator) ------------------------------------

    def set_app_roles(self, roles: list[dict]) -> None:
        self._request(
            "PATCH",
            f"servicePrincipals/{quote(self.connection.service_principal_id, safe='')}",
            json={"appRoles": roles},
        )

    def add_assignment(self, principal_id: str, app_role_id: str) -> dict:
        sp_id = self.connection.service_principal_id
        return self._request(
            "POST",
            f"servicePrincipals/{quote(sp_id, safe='')}/appRoleAssignedTo",
            json={"principalId": principal_id, "resourceId": sp_id, "appRoleId": app_role_id},
        )

    def remove_assignment(self, assignment_id: str) -> None:
        sp_id = quote(self.connection.service_principal_id, safe="")
        self._request("DELETE", f"servicePrincipals/{sp_id}/appRoleAssignedTo/{quote(assignment_id, safe='')}")


def _batch_body(answer: dict | None, what: str, call: str) -> dict:
    """The body of one answer of a JSON batch, which must be a 200 with a collection page: anything else is an
    error naming what was read."""
    status = int((answer or {}).get("status") or 0)
    body = (answer or {}).get("body")
    if status != 200:
        error = (body.get("error") if isinstance(body, dict) else None) or {}
        message = error.get("message") or ("no answer" if answer is None else f"HTTP {status}")
        kind = NotFound if status == 404 else TransientError if status == 429 or status >= 500 else RemoteError
        raise kind(f"Reading {what} from Microsoft Graph failed: {message}", code=error.get("code") or f"Graph{status}")
    return shapes.graph_page(body, call)
