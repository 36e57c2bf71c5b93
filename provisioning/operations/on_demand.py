"""Provision on demand: one user, found by name, UPN or mail, run through the cycle's own pipeline at once.

The same modules as a cycle (scope, match, map, plan, export, log) through CycleRunner.provision_users, in an
"on demand" cycle of its own that engine/lifecycle.py's running_cycle() starts and ends as it does every cycle,
and Entra's steps to show for it: Test connection (only when it fails), Import user, Determine if user is in
scope, Match user between source and target, Perform action.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from connections.clients.errors import RemoteError, RequestLimitExceeded, StopError
from connections.clients.graph import GraphClient
from connections.models import Application
from provisioning.engine.cycle import CycleRunner
from provisioning.engine.items import WorkItem
from provisioning.engine.lifecycle import running_cycle
from provisioning.engine.log import access_step, modified_properties, shown
from provisioning.engine.writer import SalesforceWriter
from provisioning.models import CycleKind, CycleStatus, CycleTrigger, ProvisioningCycle, ProvisioningLogEntry

SEARCH_LIMIT = 10
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SEARCH_SELECT = ["id", "displayName", "userPrincipalName", "mail", "givenName", "surname", "accountEnabled"]
SEARCHED = ("displayName", "givenName", "surname", "userPrincipalName", "mail")
ACTION_LABELS = {
    "create": "Create",
    "update": "Update",
    "enable": "Update (enable)",
    "disable": "Disable",
    "skip": "Skip",
    "unchanged": "None (already up to date)",
}


@dataclass
class Step:
    """One of Entra's provision-on-demand steps, with what "View details" shows."""

    name: str
    status: str  # success / failure / skipped
    description: str
    details: list[tuple[str, str]] = field(default_factory=list)
    properties: list[dict] = field(default_factory=list)  # Perform action: [{"displayName","oldValue","newValue"}]

    @property
    def colour(self) -> str:
        return {"success": "green", "failure": "red", "skipped": "grey"}.get(self.status, "grey")


@dataclass
class OnDemandResult:
    query: str
    steps: list[Step] = field(default_factory=list)
    candidates: list[dict] = field(default_factory=list)  # several users matched: the administrator picks one
    user: dict | None = None
    cycle: ProvisioningCycle | None = None
    entry: ProvisioningLogEntry | None = None
    message: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.status != "failure" for step in self.steps)


def _quote(value: str) -> str:
    return value.replace("'", "''")


def search_users(graph: GraphClient, query: str, limit: int = SEARCH_LIMIT) -> list[dict]:
    """Users whose object id equals the query, or whose name, UPN or mail starts with it (Graph $filter)."""
    query = query.strip()
    if not query:
        return []
    if GUID.match(query):
        try:
            return [graph.get_user(query, SEARCH_SELECT)]
        except RemoteError as exc:
            if exc.code in ("Request_ResourceNotFound", "NOT_FOUND") or "404" in exc.code:
                return []
            raise
    clauses = " or ".join(f"startswith({name},'{_quote(query)}')" for name in SEARCHED)
    found: list[dict] = []
    for page in graph.iter_users(SEARCH_SELECT, filter=clauses):
        found.extend(page)
        if len(found) >= limit:
            break
    return found[:limit]


def exact(candidates: list[dict], query: str) -> dict | None:
    """The one candidate the query names exactly (id, UPN, mail or display name), if there is one."""
    wanted = query.strip().lower()
    for name in ("id", "userPrincipalName", "mail", "displayName"):
        hits = [c for c in candidates if str(c.get(name) or "").lower() == wanted]
        if len(hits) == 1:
            return hits[0]
    return candidates[0] if len(candidates) == 1 else None


def provision_on_demand(
    application: Application,
    query: str,
    *,
    graph_client: GraphClient | None = None,
    salesforce_client: SalesforceWriter | None = None,
) -> OnDemandResult:
    """Find the user and provision them now; the result carries Entra's steps, or candidates to choose from."""
    started = time.monotonic()
    result = OnDemandResult(query=query)
    graph = graph_client or GraphClient(application.entra)
    try:
        candidates = search_users(graph, query)
    except RemoteError as exc:
        result.steps.append(_connection_failed("Microsoft Entra ID", exc))
        result.message = f"Microsoft Entra ID could not be searched: {exc.message}"
        result.duration_ms = _ms(started)
        return result
    chosen = exact(candidates, query)
    if chosen is None:
        result.candidates = candidates
        result.message = (
            f"{len(candidates)} users match {query!r}: choose one." if candidates else f"No user matches {query!r}."
        )
        result.duration_ms = _ms(started)
        return result
    _provision(application, chosen["id"], result, graph, salesforce_client)
    result.duration_ms = _ms(started)
    return result


class DailyLimitReached(StopError):
    """Salesforce's daily API limit met by provision on demand. A cycle pauses for it and resumes by itself
    (operations/api_limit.py); one user provisioned on demand has nothing to resume it, so it fails and says when
    to try again. Salesforce counts the allowance over a rolling 24 hours and its Limits resource gives no time
    it frees up (https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/
    salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm): the next hour is the time given."""

    default_code = "REQUEST_LIMIT_EXCEEDED"


def try_again_at(now: datetime | None = None) -> datetime:
    """The start of the next hour."""
    now = timezone.localtime(now)
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def _on_demand_error(exc: RemoteError) -> RemoteError:
    """The error provision on demand ends with: the daily API limit fails it, with when to try again."""
    if not isinstance(exc, RequestLimitExceeded):
        return exc
    usage = f" ({exc.usage[0]:,} of {exc.usage[1]:,} requests used)" if exc.usage else ""
    when = try_again_at()
    return DailyLimitReached(
        f"Salesforce's daily API limit is reached{usage}; try again after {when:%Y-%m-%d %H:%M %Z}.",
        request=exc.request,
    )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _failed(name: str, system: str, exc: RemoteError, description: str) -> Step:
    """A step that failed on a remote call, with what "View details" shows of the error."""
    details = [("System", system), ("Error code", exc.code), ("Error", exc.message)]
    if exc.recommendation:
        details.append(("What to do", exc.recommendation))
    if exc.request:
        details.append(("Failing request", exc.request))
    return Step(name, "failure", description, details)


def _connection_failed(system: str, exc: RemoteError) -> Step:
    return _failed("Test connection", system, exc, f"Could not connect to {system}: {exc.message}")


def _provision(
    application: Application,
    source_id: str,
    result: OnDemandResult,
    graph: GraphClient,
    salesforce_client: SalesforceWriter | None,
) -> None:
    job = application.job
    worker = "provision on demand"
    with running_cycle(
        job,
        kind=CycleKind.ON_DEMAND,
        trigger=CycleTrigger.ON_DEMAND,
        worker=worker,
        mapping_version=application.user_mapping.version,
    ) as run:
        result.cycle = run.cycle
        runner = CycleRunner(job, run, worker, salesforce_client=salesforce_client, graph_client=graph)
        runner.prepare()
        if not runner.object_mapping.enabled:
            result.message = run.message = "The user mapping is disabled (Mappings): nothing is provisioned."
            return
        try:
            runner.salesforce.ensure_signed_in()
        except RemoteError as exc:
            exc = _on_demand_error(exc)
            result.steps.append(_connection_failed("Salesforce", exc))
            result.message = f"Salesforce could not be reached: {exc.message}"
            raise exc from None
        stage, system = "Import user", "Microsoft Entra ID"
        try:
            raw = graph.get_user(source_id, runner.reader.select)
            roles = runner.directory.roles_of(raw["id"])  # this user's only: a few calls
            runner.ctx.assignments = {} if roles is None else {raw["id"]: roles}
            result.user = raw
            stage, system = "Perform action", "Salesforce"
            runner.check_organization()
            if runner.ctx.access.active:
                runner.ctx.access.find_drift()
            [item] = runner.provision_users([raw])
            if runner.ctx.access.active:
                runner.ctx.access.save_baseline(keep_drifted=True)
            if not ProvisioningLogEntry.objects.filter(cycle=run.cycle).exists():  # cycles do not log the unchanged
                runner.ctx.log.add(item)
                runner.ctx.log.flush()
        except RemoteError as exc:  # a stop-class or persistent failure of a read or write: the step it broke
            exc = _on_demand_error(exc)
            result.steps.append(_failed(stage, system, exc, f"{system} failed: {exc.message}"))
            result.message = exc.message
            raise exc from None
        result.steps.extend(_steps(runner, raw, item))
        result.entry = ProvisioningLogEntry.objects.filter(cycle=run.cycle).order_by("-id").first()
        result.message = result.steps[-1].description
    crashed = run.outcome is not None and run.outcome.status == CycleStatus.CRASHED
    if crashed and not any(step.status == "failure" for step in result.steps):
        result.message = (
            f"Provision on demand stopped on an unexpected error ({run.cycle.error_code}); the cycle is recorded "
            "as crashed. Try again; if it happens again, look in the console's log at this time."
        )
        result.steps.append(Step("Perform action", "failure", result.message))


def _steps(runner: CycleRunner, raw: dict, item: WorkItem) -> list[Step]:
    compiled = runner.compiled
    steps: list[Step] = []
    error = item.error
    failed_at = error.step if error else None
    who = raw.get("userPrincipalName") or raw.get("id")

    imported = [(name, shown(raw.get(name))) for name in runner.reader.select if raw.get(name) not in (None, "")]
    roles = runner.ctx.assignments.get(item.source_id)
    imported.append(
        ("appRoleAssignments", ", ".join(roles) if roles else ("(Default Access)" if roles == () else "(none)"))
    )
    missing = [name for name in runner.reader.select if raw.get(name) in (None, "")]
    if missing:
        imported.append(("Not provisioned (null in Entra)", ", ".join(missing)))
    steps.append(
        Step(
            "Import user",
            "failure" if failed_at == "import" else "success",
            f"Retrieved {who} from Microsoft Entra ID",
            imported,
        )
    )
    if failed_at == "import":
        steps[-1].description = error.reason
        return steps

    scope_details = [
        (reason.split(":", 1)[0], reason.split(":", 1)[1].strip() if ":" in reason else "")
        for reason in item.scope_reasons
    ]
    if roles:
        scope_details.insert(2, ("User has required role", f"yes ({', '.join(roles)})"))
    elif roles == ():
        scope_details.insert(
            2, ("User has required role", "Default Access: no role needed, the mapping's default profile applies")
        )
    status = "failure" if failed_at == "scoping" else ("success" if item.in_scope else "skipped")
    text = f"{who} is {'in scope' if item.in_scope else 'out of scope'}"
    steps.append(
        Step("Determine if user is in scope", status, error.reason if failed_at == "scoping" else text, scope_details)
    )
    if failed_at == "scoping":
        return steps

    match_details: list[tuple[str, str]] = []
    try:
        for position, (attribute, value) in enumerate(compiled.match_values(item.user or {}), start=1):
            match_details.append((f"Matching attribute {position}: {attribute}", shown(value) or "(no value)"))
    except Exception as exc:  # noqa: BLE001 - shown as the step's failure below
        match_details.append(("Matching attributes", str(exc)))
    if item.target is not None:  # matched or linked (not the user this run created)
        match_details.append(("Salesforce user", f"{item.target_id} {item.target_name}".strip()))
    if not item.in_scope and not item.target_id:
        note = "Not looked up: the user is out of scope."
    else:
        note = item.match_note or "No matching user was looked up."
    steps.append(
        Step(
            "Match user between source and target",
            "failure" if failed_at == "matching" else "success",
            error.reason if failed_at == "matching" else note,
            match_details,
        )
    )
    if failed_at == "matching":
        return steps

    plan = item.plan
    kind = plan.kind.value if plan is not None else "skip"
    details = [("Action", ACTION_LABELS.get(kind, kind))]
    if plan is not None and plan.reason:
        details.append(("Reason", plan.reason))
    if item.target_id:
        details.append(("Salesforce user Id", item.target_id))
    if error:
        details += [("Error code", error.code), ("Error", error.reason)]
        if error.recommendation:
            details.append(("What to do", error.recommendation))
    if item.next_attempt_at:
        details.append(("Next attempt", f"{item.next_attempt_at:%Y-%m-%d %H:%M} UTC (attempt {item.escrow_attempt})"))
    properties = modified_properties(item, runner.ctx.log.redacted_targets)
    if error and failed_at != "access":  # a refused grant leaves the user's own write done: its step says so
        status, text = "failure", f"Failed to {kind} {who} in Salesforce: {error.reason}"
    elif kind in ("skip", "unchanged"):
        status, text = "skipped", plan.reason if plan else "Nothing to do."
        if item.access_changes:
            status, text = "success", f"{who} is unchanged in Salesforce; only their access changes"
    else:
        done = {"create": "created", "update": "updated", "enable": "enabled", "disable": "disabled"}[kind]
        status, text = "success", f"{who} was {done} in Salesforce"
    steps.append(Step("Perform action", status, text, details, properties))
    for change in item.access_changes:
        logged = access_step(change, who, dry_run=False)
        name = "Grant Salesforce access" if change.action == "grant" else "Revoke Salesforce access"
        steps.append(
            Step(
                name,
                logged["status"],
                logged["description"],
                [("App role", ", ".join(change.roles))] if change.roles else [],
            )
        )
    return steps
