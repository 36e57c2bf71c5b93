"""Prevent accidental deletions, as the engine applies it: a cycle that would deactivate more users than the
threshold deactivates none.

During a cycle the pipeline hands every planned deactivation to the cycle's DeletionHold instead of exporting it.
At the end of the cycle (`settle()`) the hold either releases them (at most the threshold: the runner sends them
through the pipeline again and they are exported) or keeps them: each is logged as StagedDelete and the outcome
says how many were held (CycleOutcome.held_deletions). What follows (pointing the job at the holding cycle,
quarantine TooManyDeletes, the email, Allow deletes / Reject deletes) is provisioning/operations/.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet

from provisioning.engine.items import PlanKind, WorkItem
from provisioning.engine.log import entry_for
from provisioning.models import (
    CycleKind,
    LogAction,
    LogStatus,
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

    def settle(self) -> list[WorkItem]:
        """End of the cycle: the deactivations to run through the pipeline and export now (under the threshold),
        or none (over it: they stay held, already logged)."""
        self.cycle.staged = self.count if self.exceeded else 0
        if self.exceeded:
            return []
        released = [entered for _, entered in self.waiting]
        self.waiting = []
        return released

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


def hold_for(
    job: ProvisioningJob, cycle: ProvisioningCycle, redacted: frozenset[str] = frozenset()
) -> DeletionHold | None:
    """The cycle's DeletionHold, or None when deactivations run unchecked (setting off, Allow deletes, or one user
    provisioned on demand: the threshold counts cycles)."""
    if cycle.kind == CycleKind.ON_DEMAND or not job.prevent_accidental_deletions or job.deletions_allowed:
        return None
    return DeletionHold(cycle, job.deletion_threshold, redacted)


def held_deletions(job: ProvisioningJob) -> QuerySet[ProvisioningLogEntry]:
    """The StagedDelete log entries still waiting for Allow deletes or Reject deletes (empty when none)."""
    if job.held_deletions_cycle_id is None:
        return ProvisioningLogEntry.objects.none()
    return ProvisioningLogEntry.objects.filter(
        job=job, cycle_id=job.held_deletions_cycle_id, action=LogAction.STAGED_DELETE
    )


def held_source_ids(job: ProvisioningJob) -> list[str]:
    """Held users an incremental cycle evaluates again (Graph's delta reports a change only once)."""
    return list(held_deletions(job).values_list("source_id", flat=True))
