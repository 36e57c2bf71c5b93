"""One page through the pipeline: scope -> match -> evaluate mappings -> (access overlay) -> plan -> (hold deletions)
-> export -> (access reconcile) -> record.

Each step is a module of its own, testable without the others: scope.py, matcher.py, mapper.py, planner.py,
deletion_hold.py, exporter.py, access.py, record.py (links, escrows, counters) and log.py. This module runs them in
order for a page and adds what only the page knows: a transient Salesforce failure that outlasts the client's retries
gets one more try for the whole page before the users it concerns fail (and are escrowed). A new stage is one more
call in `process()`, with the items and the context it needs, as access.py's two are.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from connections.clients.errors import RequestLimitExceeded, StopError, TransientError
from provisioning.engine.context import PageContext
from provisioning.engine.items import ItemError, PageStopped, PlanKind, TargetState, WorkItem
from provisioning.engine.mapper import evaluate
from provisioning.engine.organization import repair_invalid_emails
from provisioning.engine.planner import plan, plan_items
from provisioning.engine.record import record_page
from provisioning.engine.scope import decide_scope
from provisioning.engine.sql import rows_of
from provisioning.models import Escrow, ProvisionedLink

logger = logging.getLogger(__name__)
UNREAD = ("created_at", "updated_at")  # a link's times: not read by a page (a tenth of its rows' decoding)
PAGE_RETRY_PAUSE = 2.0  # seconds before a page's export is tried once more after a transient failure


PageRows = tuple[dict[str, ProvisionedLink], dict[str, Escrow]]


def page_rows(job_id: int, ids: Sequence[str]) -> PageRows:
    """The links and escrows of a page's users, by source id."""
    links = {link.source_id: link for link in rows_of(ProvisionedLink, "source_id", ids, job_id=job_id).defer(*UNREAD)}
    escrows = {e.source_id: e for e in rows_of(Escrow, "source_id", ids, job_id=job_id)}
    return links, escrows


def process(
    items: Sequence[WorkItem],
    ctx: PageContext,
    *,
    assigned_scope_drops_unlinked: bool = True,
    rows: PageRows | None = None,
) -> list[WorkItem]:
    """Run a page of items through the pipeline and record the outcome; returns the items processed. `rows`: the
    page's links and escrows when they were read already (page_rows, the ids of these items and no other)."""
    if rows is None:
        rows = page_rows(ctx.cycle.job_id, [item.source_id for item in items])
    links, escrows = rows
    ctx.seen.add(link.pk for link in links.values())  # read, whatever happens to them next (skipped, held, failed)

    kept = _admit(items, ctx, links, escrows, assigned_scope_drops_unlinked)
    _match_with_retry(kept, ctx)
    evaluate(kept, ctx.compiled)
    if ctx.access is not None:
        ctx.access.overlay(kept)
    if ctx.manager is not None:
        ctx.manager.overlay(kept)
    plan_items(kept, ctx.policy, ctx.types)
    if ctx.repair_invalid_emails:
        repair_invalid_emails(kept)
    if ctx.deletion_hold is not None:
        kept = ctx.deletion_hold.stage(kept)
    if ctx.access is not None:
        ctx.access.before_export(kept)
    # The org's request limit or a stop-class error may cut the page short once users are written. Then what
    # Salesforce did is in the items (a created user with its Id; grants, freezes and ManagerIds written), the rest
    # failed as not written; nothing more is sent, the page is recorded (links, log, the ledger: grants and the Role
    # and feature licences remembered as the console's) and the cycle ends as that error ends it (lifecycle.ENDINGS).
    # The next cycle reads these users again. A lost claim (ClaimLost) is never caught: another worker owns the job
    # and its rows now, so this one records nothing more.
    try:
        _export(kept, ctx)
    except PageStopped as stopped:
        if ctx.access is not None:
            ctx.access.keep_user_fields(kept)
        record_page(kept, ctx, links, escrows)
        raise stopped.error from None
    reconciling = False
    try:
        if ctx.access is not None:
            ctx.access.after_export(kept)
            reconciling = True  # reconcile remembers the Role and feature licences before anything else
            ctx.access.reconcile(kept)
        if ctx.manager is not None:
            ctx.manager.second_pass(kept)
    except (PageStopped, RequestLimitExceeded, StopError) as exc:
        # Past the export every user has its result; a read refused here (grants, UserLogin rows) wrote nothing.
        if ctx.access is not None and not reconciling:
            ctx.access.keep_user_fields(kept)
        record_page(kept, ctx, links, escrows)
        raise (exc.error if isinstance(exc, PageStopped) else exc) from None
    record_page(kept, ctx, links, escrows)
    return kept


def _admit(
    items: Sequence[WorkItem],
    ctx: PageContext,
    links: dict[str, ProvisionedLink],
    escrows: dict[str, Escrow],
    assigned_scope_drops_unlinked: bool,
) -> list[WorkItem]:
    """The items this page works on, each with its link (a user matched by an earlier cycle) and scope decided."""
    kept: list[WorkItem] = []
    now = timezone.now()
    for item in items:
        escrow = escrows.get(item.source_id)
        if ctx.honour_escrow_backoff and escrow is not None and escrow.next_attempt_at > now:
            ctx.cycle.skipped += 1  # failed before; its next attempt is not due yet
            continue
        link = links.get(item.source_id)
        item.link = link
        if link is not None and link.target_id:
            item.target = TargetState(link.target_id, link.active, link.exported)
            item.target_id = link.target_id
            item.target_name = str(link.exported.get("Username") or "")
            item.match_note = f"Linked to the Salesforce user {link.target_id} by an earlier cycle."
            item.upn = item.upn or link.user_principal_name
            item.display_name = item.display_name or link.display_name
            if item.change == "Add":
                item.change = "Update"
        if item.user is not None:
            assigned = item.source_id in ctx.assignments
            item.assigned = assigned or ctx.sync_all
            if not ctx.sync_all and not assigned and link is None and item.source_id not in escrows:
                if assigned_scope_drops_unlinked:
                    continue  # never part of this application: not counted, not logged
            decide_scope(item, ctx.compiled, sync_all=ctx.sync_all, assigned=assigned, removed=item.change == "Delete")
        kept.append(item)
    return kept


def _match(items: Sequence[WorkItem], ctx: PageContext) -> None:
    values: dict[str, list[tuple[str, Any]]] = {}
    for item in items:
        if item.error or not item.in_scope or item.target is not None or item.user is None:
            continue
        try:
            values[item.source_id] = list(ctx.compiled.match_values(item.user))
        except Exception as exc:  # MappingError and friends: this user only
            item.fail(ItemError("MatchingAttributeError", str(exc), step="matching"))
    if values:
        ctx.matcher.match([i for i in items if i.source_id in values], values)


def _match_with_retry(items: Sequence[WorkItem], ctx: PageContext) -> None:
    """Matching reads Salesforce: a transient failure that outlasts the client's retries gets one more try
    for the page, then the users it concerns fail (and are escrowed) while the rest of the page goes on."""
    try:
        _match(items, ctx)
        return
    except TransientError as exc:
        logger.warning("Matching a page failed (%s); trying the page once more", exc.code)
        ctx.sleep(max(PAGE_RETRY_PAUSE, exc.retry_after or 0))
    unmatched = [item for item in items if item.target is None and not item.error]
    for item in unmatched:
        item.match_note = ""
    try:
        _match(unmatched, ctx)
    except TransientError as exc:
        for item in unmatched:
            if item.in_scope and item.user is not None and not item.error:
                item.fail(
                    ItemError(
                        exc.code or "TransientError",
                        f"Salesforce could not be searched for a matching user: {exc.message}",
                        "Nothing to do: the user is retried in the next cycle.",
                        step="matching",
                        category="nonServiceFailure",
                    )
                )


def _export(items: Sequence[WorkItem], ctx: PageContext) -> None:
    writes = [item for item in items if item.plan is not None and item.plan.writes and not item.error]
    if not writes:
        return
    try:
        ctx.exporter.export(writes)
        return
    except TransientError as exc:
        logger.warning("Export of a page failed (%s); trying the page once more", exc.code)
        first = exc
    ctx.sleep(max(PAGE_RETRY_PAUSE, first.retry_after or 0))
    # The failed call may have reached Salesforce: look again for users about to be created.
    creates = [item for item in writes if item.plan.kind == PlanKind.CREATE]
    for item in creates:
        item.match_note = ""
    _match(creates, ctx)
    for item in creates:
        if item.target is not None and not item.error:
            item.plan = plan(item.desired, in_scope=True, target=item.target, policy=ctx.policy, types=ctx.types)
    retry = [item for item in writes if item.plan.writes and not item.error]
    try:
        ctx.exporter.export(retry)
    except TransientError as exc:
        for item in retry:
            item.fail(
                ItemError(
                    exc.code or "TransientError",
                    f"Salesforce did not answer in time, even after retries: {exc.message}",
                    "Nothing to do: the user is retried in the next cycle.",
                    category="nonServiceFailure",
                )
            )
