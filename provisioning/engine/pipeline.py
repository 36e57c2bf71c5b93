"""One page through the pipeline: scope -> match -> map -> plan -> export -> remember -> log.

Everything a page changes in the database (links, escrows, log entries, counters) is written in one
transaction after the page's Salesforce writes, so a crash between pages loses nothing and a crash inside a
page is repaired by the next cycle's matching (which finds what was already created).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from connections.clients.errors import TransientError
from provisioning.engine.exporter import Exporter
from provisioning.engine.items import ItemError, WorkItem
from provisioning.engine.log import LogWriter, should_log
from provisioning.engine.matcher import Matcher
from provisioning.engine.planner import PlanKind, Policy, TargetState, comparable, is_redacted, plan, redaction_marker
from provisioning.engine.scope import decide_scope
from provisioning.models import Escrow, ProvisionedLink, ProvisioningCycle
from provisioning.operations import hooks

logger = logging.getLogger(__name__)
UNASSIGNED = "(unassigned)"  # roles_key of a user not assigned: any assignment differs from it
PAGE_RETRY_PAUSE = 2.0  # seconds before a page's export is tried once more after a transient failure


def stored(value: Any) -> Any:
    """A value as the link remembers it (JSON; Redact()-ed values only as a fingerprint)."""
    if is_redacted(value):
        return redaction_marker(value)
    if isinstance(value, tuple):
        return list(value)
    if value is None or isinstance(value, bool | int | float | str | list):
        return value
    return str(value)


@dataclass
class PageContext:
    """What every page of a cycle shares."""

    cycle: ProvisioningCycle
    compiled: Any
    policy: Policy
    matcher: Matcher
    exporter: Exporter
    log: LogWriter
    initial: bool
    sync_all: bool
    assignments: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sleep: Any = time.sleep
    honour_escrow_backoff: bool = True  # provision on demand retries an escrowed user at once
    deletion_hold: Any = None  # Prevent accidental deletions (provisioning/operations/deletions.py)

    @property
    def dry_run(self) -> bool:
        return self.cycle.dry_run


def process(
    items: Sequence[WorkItem], ctx: PageContext, *, assigned_scope_drops_unlinked: bool = True
) -> list[WorkItem]:
    """Run a page of items through the pipeline and record the outcome; returns the items processed."""
    job_id = ctx.cycle.job_id
    ids = [item.source_id for item in items]
    links = {link.source_id: link for link in ProvisionedLink.objects.filter(job_id=job_id, source_id__in=ids)}
    escrows = {e.source_id: e for e in Escrow.objects.filter(job_id=job_id, source_id__in=ids)}

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

    _match_with_retry(kept, ctx)
    _map_and_plan(kept, ctx)
    kept = hooks.hold_deletions(kept, ctx)
    _export(kept, ctx)
    _record(kept, ctx, links, escrows)
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


def _map_and_plan(items: Sequence[WorkItem], ctx: PageContext) -> None:
    for item in items:
        if item.error:
            continue
        desired = None
        if item.in_scope and item.user is not None:
            try:
                desired = ctx.compiled.evaluate(item.user, creating=item.target is None)
            except Exception as exc:  # MappingError: e.g. two app roles for SingleAppRoleAssignment
                attribute = getattr(exc, "target_attribute", "")
                item.fail(
                    ItemError(
                        "AttributeMappingError",
                        f"{attribute + ': ' if attribute else ''}{getattr(exc, 'message', None) or exc}",
                        "Fix the user's data or assignments in Entra, or the attribute mapping.",
                        step="processing",
                    )
                )
                continue
        item.desired = desired
        item.plan = plan(desired, in_scope=item.in_scope, target=item.target, policy=ctx.policy)
        if desired and not item.target_name:
            item.target_name = str(desired.get("Username") or "")


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
            item.plan = plan(item.desired, in_scope=True, target=item.target, policy=ctx.policy)
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


def _record(items: Sequence[WorkItem], ctx: PageContext, links: dict, escrows: dict[str, Escrow]) -> None:
    cycle = ctx.cycle
    now = timezone.now()
    new_links: list[ProvisionedLink] = []
    changed_links: list[ProvisionedLink] = []
    seen_only: list[int] = []
    new_escrows: list[Escrow] = []
    changed_escrows: list[Escrow] = []
    resolved_escrows: list[int] = []

    for item in items:
        setattr(cycle, item.outcome, getattr(cycle, item.outcome) + 1)
        if ctx.dry_run:
            continue
        escrow = escrows.get(item.source_id)
        if item.error:
            if escrow is None:
                escrow = Escrow(job_id=cycle.job_id, source_id=item.source_id, attempts=1, first_failed_at=now)
                new_escrows.append(escrow)
            else:
                escrow.attempts += 1
                changed_escrows.append(escrow)
            escrow.display_name = (item.display_name or "")[:256]
            escrow.user_principal_name = (item.upn or "")[:256]
            escrow.action = item.plan.kind.value if item.plan else ""
            escrow.last_failed_at = now
            escrow.next_attempt_at = hooks.escrow_retry_at(
                cycle.job.interval_minutes, escrow.attempts, item.error.code, cycle, now
            )
            escrow.error_code = item.error.code[:100]
            escrow.error_message = item.error.reason
            escrow.last_cycle = cycle
            item.escrow_attempt = escrow.attempts
            item.next_attempt_at = escrow.next_attempt_at
        elif escrow is not None:
            resolved_escrows.append(escrow.pk)
        _remember(item, cycle, new_links, changed_links, seen_only, ctx.log.redacted_targets)

    for item in items:
        if should_log(item, initial=ctx.initial):
            ctx.log.add(item)
    with transaction.atomic():
        if new_links:
            ProvisionedLink.objects.bulk_create(new_links, batch_size=500)
        if changed_links:
            ProvisionedLink.objects.bulk_update(
                changed_links,
                [
                    "target_id",
                    "exported",
                    "active",
                    "in_scope",
                    "roles_key",
                    "display_name",
                    "user_principal_name",
                    "last_seen_cycle",
                    "updated_at",
                ],
                batch_size=500,
            )
        if seen_only:
            ProvisionedLink.objects.filter(pk__in=seen_only).update(last_seen_cycle=cycle.pk)
        if new_escrows:
            Escrow.objects.bulk_create(new_escrows)
        for escrow in changed_escrows:
            escrow.save()
        if resolved_escrows:
            Escrow.objects.filter(pk__in=resolved_escrows).delete()
        ctx.log.flush()
        cycle.objects_done += len(items)


def _remember(
    item: WorkItem,
    cycle: ProvisioningCycle,
    new_links: list[ProvisionedLink],
    changed_links: list[ProvisionedLink],
    seen_only: list[int],
    redacted: frozenset[str] = frozenset(),
) -> None:
    """Update the item's link with what Salesforce now holds (or create it for a new or matched user)."""
    link = item.link
    succeeded = item.error is None and item.plan is not None
    names = {
        "roles_key": item.roles_key if item.assigned else UNASSIGNED,
        "display_name": (item.display_name or "")[:256],
        "user_principal_name": (item.upn or "")[:256],
        "last_seen_cycle": cycle.pk,
    }
    if item.target_id and succeeded:
        exported = dict(item.target.values) if item.target is not None else {}
        active = item.target.active if item.target is not None else True
        for name, value in (item.plan.changes or {}).items():
            if name == "IsActive":
                active = comparable(value) == "true"
            exported[name] = stored(value)
        exported.pop("IsActive", None)
        for name in redacted:  # a value read from Salesforce when matched is not kept readable either
            if isinstance(exported.get(name), str) and not exported[name].startswith("[Redact]:"):
                exported[name] = redaction_marker(exported[name])
        fields = {
            "target_id": item.target_id,
            "exported": {k: stored(v) for k, v in exported.items()},
            "active": active,
            "in_scope": item.in_scope,
            **names,
        }
    elif not item.target_id and item.user is not None:
        # Known in Entra but not in Salesforce (skipped or failed): remembered with its roles, so that checking
        # assignments in later cycles need not read it from Graph again.
        fields = {"target_id": "", "exported": {}, "active": False, "in_scope": item.in_scope, **names}
    else:
        if link is not None:
            seen_only.append(link.pk)
        return
    if link is None:
        new_links.append(ProvisionedLink(job_id=cycle.job_id, source_id=item.source_id, **fields))
        return
    if all(getattr(link, name) == value for name, value in fields.items() if name != "last_seen_cycle"):
        seen_only.append(link.pk)
        return
    for name, value in fields.items():
        setattr(link, name, value)
    link.updated_at = timezone.now()
    changed_links.append(link)
