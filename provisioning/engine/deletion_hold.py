"""Deactivations wait for the end of the cycle: a cycle whose import was incomplete deactivates nobody, and with
Prevent accidental deletions a cycle that would deactivate more users than the threshold deactivates none.

During a cycle the pipeline hands every planned deactivation to the cycle's DeletionHold instead of exporting it.
At the end of the cycle (`settle()`) the hold drops them when the import was incomplete (each logged as skipped, with
why), else releases them (at most the threshold, when there is one: the runner sends them through the pipeline
again and they are exported) or keeps them: each is logged as StagedDelete and the outcome says how many were held
(CycleOutcome.held_deletions). What follows (pointing the job at the holding cycle,
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

    def __init__(self, cycle: ProvisioningCycle, threshold: int | None, redacted: frozenset[str] = frozenset()) -> None:
        self.cycle = cycle
        self.threshold = threshold
        self.redacted = redacted
        self.count = 0
        self.staged_ids: set[str] = set()
        self.waiting: list[tuple[WorkItem, WorkItem]] = []  # (as planned, as it entered) while under the threshold

    @property
    def exceeded(self) -> bool:
        """Over the accidental deletion threshold (never without one: the hold only waits for the import)."""
        return self.threshold is not None and self.count > self.threshold

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

    def settle(self, incomplete: str = "") -> list[WorkItem]:
        """End of the cycle: the deactivations to run through the pipeline and export now (under the threshold),
        or none (over it: they stay held, already logged; or `incomplete` says why the import was incomplete: they
        are dropped, each logged as skipped with that reason)."""
        self.cycle.staged = self.count if self.exceeded else 0
        if self.exceeded:
            return []
        if incomplete:
            dropped = [planned for planned, _ in self.waiting]
            self.waiting = []
            self._log_skipped(
                dropped,
                LogAction.DISABLE,
                "EntryExportSkippedImportIncomplete",
                f"Not deactivated{' (dry run)' if self.cycle.dry_run else ''}: the import of this cycle was incomplete "
                f"({incomplete}), so being out of scope could be a gap in what was read. Nothing was deactivated; the "
                "next complete cycle decides again.",
                {"Import": incomplete},
            )
            self.cycle.skipped += len(dropped)
            self.cycle.objects_done += len(dropped)
            return []
        released = [entered for _, entered in self.waiting]
        self.waiting = []
        return released

    def _log_staged(self, items: Sequence[WorkItem]) -> None:
        dry = " (dry run)" if self.cycle.dry_run else ""
        self._log_skipped(
            items,
            LogAction.STAGED_DELETE,
            "EntryExportStaged",
            f"Held{dry}: this cycle would deactivate more than {self.threshold} users, the "
            "accidental deletion threshold. Nothing was deactivated. Allow deletes on the Overview lets the "
            "next cycle deactivate them; Reject deletes keeps them active.",
            {"Threshold": self.threshold},
        )

    def _log_skipped(self, items: Sequence[WorkItem], action: str, step: str, description: str, details: dict) -> None:
        entries = []
        for item in items:
            entry = entry_for(item, self.cycle, self.redacted)
            entry.action = action
            entry.status = LogStatus.SKIPPED
            entry.steps[-1] = {
                "name": step,
                "type": "export",
                "status": "skipped",
                "description": description,
                "details": {"Reason": item.plan.reason if item.plan else "", **details},
            }
            entries.append(entry)
        ProvisioningLogEntry.objects.bulk_create(entries, batch_size=500)


def hold_for(
    job: ProvisioningJob, cycle: ProvisioningCycle, redacted: frozenset[str] = frozenset()
) -> DeletionHold | None:
    """The cycle's DeletionHold: with the threshold, or without one (setting off, Allow deletes) to wait for the end of
    the import only; None for one user provisioned on demand (read on its own, not by an import)."""
    if cycle.kind == CycleKind.ON_DEMAND:
        return None
    checked = job.prevent_accidental_deletions and not job.deletions_allowed
    return DeletionHold(cycle, job.deletion_threshold if checked else None, redacted)


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
