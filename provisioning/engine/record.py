"""Record a page: what the pipeline did to each user, written in one transaction after the page's Salesforce writes.

The cycle's counters; escrows for the users that failed (with their next attempt, engine/escrow.py) and resolved
for those that succeeded; each user's link (Entra user <-> Salesforce user, with the values last exported so that
an unchanged user costs no write); and the page's log entries (log.py). A crash between pages loses nothing; a crash
inside a page is repaired by the next cycle's matching, which finds what was already created.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from console.bulk import insert_objects, update_objects
from mappings.target_types import is_redacted, redaction_marker
from provisioning.engine.context import PageContext
from provisioning.engine.escrow import next_attempt_at
from provisioning.engine.items import WARNING, WorkItem
from provisioning.engine.log import should_log
from provisioning.engine.planner import ACTIVE, is_true
from provisioning.models import Escrow, ProvisionedLink, ProvisioningCycle

UNASSIGNED = "(unassigned)"  # roles_key of a user not assigned: any assignment differs from it


def stored(value: Any) -> Any:
    """A value as the link remembers it (JSON; Redact()-ed values only as a fingerprint)."""
    if type(value) is str:  # most values; a Redact()-ed one is of a subclass of str
        return value
    if is_redacted(value):
        return redaction_marker(value)
    if isinstance(value, tuple):
        return list(value)
    if value is None or isinstance(value, bool | int | float | str | list):
        return value
    return str(value)


def record_page(
    items: Sequence[WorkItem],
    ctx: PageContext,
    links: dict[str, ProvisionedLink],
    escrows: dict[str, Escrow],
) -> None:
    """Count the page's items, escrow its failures, update its links and write its log, in one transaction."""
    cycle = ctx.cycle
    now = timezone.now()
    new_links: list[ProvisionedLink] = []
    changed_links: list[ProvisionedLink] = []
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
            escrow.display_name = item.display_name or ""
            escrow.user_principal_name = item.upn or ""
            escrow.action = item.plan.kind.value if item.plan else ""
            escrow.last_failed_at = now
            escrow.next_attempt_at = next_attempt_at(
                escrow.attempts,
                item.error.code,
                failed_at=now,
                cycle_started_at=cycle.started_at,
                interval_minutes=cycle.job.interval_minutes,
            )
            escrow.error_code = item.error.code
            escrow.error_message = item.error.reason
            escrow.last_cycle = cycle
            item.escrow_attempt = escrow.attempts
            item.next_attempt_at = escrow.next_attempt_at
            escrow.fit_columns()
            if item.error.category != WARNING:  # a warning is retried, never mailed as a failure
                ctx.failures.add(escrow.attempts)
        elif escrow is not None:
            resolved_escrows.append(escrow.pk)
        _remember(item, cycle, new_links, changed_links, ctx.log.redacted_targets)
    for link in (*new_links, *changed_links):
        link.fit_columns()

    for item in items:
        if should_log(item, initial=ctx.initial):
            ctx.log.add(item)
    with transaction.atomic():
        if new_links:
            insert_objects(new_links)
        if changed_links:
            update_objects(
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
            )
        if new_escrows:
            Escrow.objects.bulk_create(new_escrows)
        for escrow in changed_escrows:
            escrow.save()
        if resolved_escrows:
            Escrow.objects.filter(pk__in=resolved_escrows).delete()
        if ctx.access is not None:
            ctx.access.record()
        if ctx.manager is not None:
            ctx.manager.record(items)
        ctx.log.flush()
        cycle.objects_done += len(items)


def _remember(
    item: WorkItem,
    cycle: ProvisioningCycle,
    new_links: list[ProvisionedLink],
    changed_links: list[ProvisionedLink],
    redacted: frozenset[str] = frozenset(),
) -> None:
    """Update the item's link with what Salesforce now holds (or create it for a new or matched user)."""
    link = item.link
    # A refused grant fails the user, but their own write went through: the link keeps what was exported.
    succeeded = (item.error is None or item.error.step == "access") and item.plan is not None
    names = {
        "roles_key": item.roles_key if item.assigned else UNASSIGNED,
        "display_name": item.display_name or "",
        "user_principal_name": item.upn or "",
        "last_seen_cycle": cycle.pk,
    }
    if item.target_id and succeeded and link is not None and not item.plan.changes and _as_linked(item, link, redacted):
        # Nothing written and the target is what the link remembered: the link keeps what it holds.
        fields = {
            "target_id": item.target_id,
            "exported": link.exported,
            "active": link.active,
            "in_scope": item.in_scope,
            **names,
        }
    elif item.target_id and succeeded:
        exported = dict(item.target.values) if item.target is not None else {}
        active = item.target.active if item.target is not None else True
        for name, value in (item.plan.changes or {}).items():
            if name == ACTIVE:
                active = is_true(value)
            exported[name] = stored(value)
        exported.pop(ACTIVE, None)
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
        return
    if link is None:
        new_links.append(ProvisionedLink(job_id=cycle.job_id, source_id=item.source_id, **fields))
        return
    if all(getattr(link, name) == value for name, value in fields.items() if name != "last_seen_cycle"):
        return  # unchanged: not written (the cycle knows it saw the link, PageContext.seen)
    for name, value in fields.items():
        setattr(link, name, value)
    link.updated_at = timezone.now()
    changed_links.append(link)


def _as_linked(item: WorkItem, link: ProvisionedLink, redacted: frozenset[str]) -> bool:
    """Whether the item's target state is the one its link gave it (engine/pipeline.py's _admit), with every
    Redact()-ed value already kept as its fingerprint."""
    target = item.target
    if target is None or target.values is not link.exported or target.id != link.target_id:
        return False
    values = link.exported
    return all(not isinstance(values.get(n), str) or values[n].startswith("[Redact]:") for n in redacted)
