"""Prevent accidental deletions: a cycle that would deactivate more users than the threshold deactivates none.

During a cycle the pipeline hands every planned deactivation to a DeletionHold instead of exporting it. At the
end of the cycle the hold either releases them (at most the threshold: they run through the pipeline again and
are exported) or keeps them: each is logged as StagedDelete, the job points at the holding cycle, and the job is
quarantined with reason TooManyDeletes. Allow deletes lets the next cycle export them; Reject deletes leaves the
Salesforce users active and stops later cycles from planning the same deactivations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from console.models import AuditActivity, record_audit
from provisioning.engine.items import WorkItem
from provisioning.engine.log import entry_for
from provisioning.engine.planner import PlanKind
from provisioning.models import (
    LogAction,
    LogStatus,
    ProvisionedLink,
    ProvisioningCycle,
    ProvisioningJob,
    ProvisioningLogEntry,
)


def fresh(item: WorkItem) -> WorkItem:
    """The item as it entered the pipeline, so that it can run through it again."""
    return WorkItem(
        source_id=item.source_id,
        upn=item.upn,
        display_name=item.display_name,
        user=item.user,
        change=item.change,
        in_scope=item.in_scope if item.user is None else False,
        scope_reasons=list(item.scope_reasons) if item.user is None else [],
        roles_key=item.roles_key,
    )


class DeletionHold:
    """Collects a cycle's planned deactivations; decides at the end whether they run or are held."""

    def __init__(self, cycle: ProvisioningCycle, threshold: int, redacted: frozenset[str] = frozenset()) -> None:
        self.cycle = cycle
        self.threshold = threshold
        self.redacted = redacted
        self.count = 0
        self.staged_ids: set[str] = set()
        self.waiting: list[tuple[WorkItem, WorkItem]] = []  # (as planned, as it entered) while under the threshold

    @property
    def exceeded(self) -> bool:
        return self.count > self.threshold

    def stage(self, items: Sequence[WorkItem]) -> list[WorkItem]:
        """Take the page's deactivations out of it; returns the items that go on to export."""
        kept: list[WorkItem] = []
        held: list[WorkItem] = []
        for item in items:
            if item.error is None and item.plan is not None and item.plan.kind == PlanKind.DISABLE:
                if item.source_id not in self.staged_ids:  # a held user read twice (link check and re-read)
                    self.staged_ids.add(item.source_id)
                    held.append(item)
            else:
                kept.append(item)
        if not held:
            return kept
        self.count += len(held)
        if self.exceeded:
            # Over the threshold: the outcome is known, log them now and keep nothing in memory.
            logged = [planned for planned, _ in self.waiting] + held
            self._log_staged(logged)
            self.cycle.objects_done += len(logged)
            self.waiting = []
        else:
            self.waiting.extend((item, fresh(item)) for item in held)
        return kept

    def settle(self, ctx: Any) -> None:
        """End of the cycle: under the threshold the deactivations run through the pipeline and are exported."""
        from provisioning.engine.pipeline import process

        self.cycle.staged = self.count if self.exceeded else 0
        if self.exceeded or not self.waiting:
            return
        items = [entered for _, entered in self.waiting]
        self.waiting = []
        ctx.deletion_hold = None
        try:
            for start in range(0, len(items), 999):
                process(items[start : start + 999], ctx)
        finally:
            ctx.deletion_hold = self

    def _log_staged(self, items: Sequence[WorkItem]) -> None:
        entries = []
        dry = " (dry run)" if self.cycle.dry_run else ""
        for item in items:
            entry = entry_for(item, self.cycle, self.redacted)
            entry.action = LogAction.STAGED_DELETE
            entry.status = LogStatus.SKIPPED
            entry.steps[-1] = {
                "name": "EntryExportStaged",
                "type": "export",
                "status": "skipped",
                "description": f"Held{dry}: this cycle would deactivate more than {self.threshold} users, the "
                "accidental deletion threshold. Nothing was deactivated. Allow deletes on the Overview lets the "
                "next cycle deactivate them; Reject deletes keeps them active.",
                "details": {"Reason": item.plan.reason if item.plan else "", "Threshold": self.threshold},
            }
            entries.append(entry)
        ProvisioningLogEntry.objects.bulk_create(entries, batch_size=500)


def hold_for(job: ProvisioningJob, cycle: ProvisioningCycle, redacted: frozenset[str] = frozenset()):
    """The cycle's DeletionHold, or None when deactivations run unchecked (setting off, or Allow deletes)."""
    if not job.prevent_accidental_deletions or job.deletions_allowed:
        return None
    return DeletionHold(cycle, job.deletion_threshold, redacted)


# -- held deletions, as the Overview shows them and the administrator answers them -----------------------------


def held_deletions(job: ProvisioningJob) -> QuerySet[ProvisioningLogEntry]:
    """The StagedDelete log entries still waiting for Allow deletes or Reject deletes (empty when none)."""
    if job.held_deletions_cycle_id is None:
        return ProvisioningLogEntry.objects.none()
    return ProvisioningLogEntry.objects.filter(
        job=job, cycle_id=job.held_deletions_cycle_id, action=LogAction.STAGED_DELETE
    )


def has_held_deletions(job: ProvisioningJob) -> bool:
    return job.held_deletions_cycle_id is not None and not job.deletions_allowed


def pending_source_ids(job: ProvisioningJob) -> list[str]:
    """Held users an incremental cycle evaluates again (Graph's delta reports a change only once)."""
    return list(held_deletions(job).values_list("source_id", flat=True))


def allow_deletes(job: ProvisioningJob, actor: Any = None, *, enqueue: bool = True) -> int:
    """Allow deletes: the next cycle deactivates the held users (those still out of scope). Returns how many."""
    from provisioning import tasks

    with transaction.atomic():
        job = ProvisioningJob.objects.select_for_update().get(pk=job.pk)
        count = held_deletions(job).count()
        job.deletions_allowed = True
        job.save(update_fields=["deletions_allowed", "updated_at"])
        record_audit(
            AuditActivity.ALLOW_DELETES,
            actor=actor,
            application=job.application,
            changed_fields=["deletions_allowed"],
            detail=f"{count} held deactivation{'s' if count != 1 else ''} allowed; the next cycle exports them.",
        )
        if enqueue:
            tasks.sync_now(job)
    return count


def reject_deletes(job: ProvisioningJob, actor: Any = None) -> int:
    """Reject deletes: the held users stay active in Salesforce and later cycles do not plan their deactivation
    again (until they come back in scope and leave it once more). Ends a TooManyDeletes quarantine."""
    from provisioning.operations import quarantine

    with transaction.atomic():
        job = ProvisioningJob.objects.select_for_update().get(pk=job.pk)
        source_ids = pending_source_ids(job)
        for start in range(0, len(source_ids), 1000):
            ProvisionedLink.objects.filter(job=job, source_id__in=source_ids[start : start + 1000]).update(
                active=False, in_scope=False
            )
        job.held_deletions_cycle = None
        job.deletions_allowed = False
        job.save(update_fields=["held_deletions_cycle", "deletions_allowed", "updated_at"])
        record_audit(
            AuditActivity.REJECT_DELETES,
            actor=actor,
            application=job.application,
            changed_fields=["held_deletions_cycle"],
            detail=f"{len(source_ids)} held deactivation{'s' if len(source_ids) != 1 else ''} rejected; "
            "the Salesforce users stay active.",
        )
        if job.quarantine_reason == quarantine.TOO_MANY_DELETES:
            quarantine.leave(job, why="The held deactivations were rejected.")
    return len(source_ids)


def record_outcome(job: ProvisioningJob, cycle: ProvisioningCycle, hold: DeletionHold | None) -> None:
    """After a completed cycle (not a dry run): remember the holding cycle, or forget an answered hold."""
    held = hold is not None and hold.exceeded
    update: dict[str, Any] = {}
    if held:
        update["held_deletions_cycle"] = cycle
    elif job.held_deletions_cycle_id is not None:
        update["held_deletions_cycle"] = None
    if job.deletions_allowed and hold is None:  # this cycle ran with the allowance (not one already running)
        update["deletions_allowed"] = False
    if update:
        ProvisioningJob.objects.filter(pk=job.pk).update(**update)
        for name, value in update.items():
            setattr(job, name, value)
