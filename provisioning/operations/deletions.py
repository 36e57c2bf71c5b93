"""Held deletions, as the Overview shows them and the administrator answers them.

When one cycle would deactivate more users than the accidental deletion threshold, the engine holds them all
(engine/deletion_hold.py) and says so in its outcome; `record_outcome` (called by after_cycle) points the job at the
holding cycle. Allow deletes lets the next cycle export them; Reject deletes leaves the Salesforce users active and
stops later cycles from planning the same deactivations. Either ends the TooManyDeletes quarantine.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from console.models import AuditActivity, record_audit
from provisioning.engine.cycle import IMPORT_INCOMPLETE
from provisioning.engine.deletion_hold import held_deletions, held_source_ids
from provisioning.engine.lifecycle import CycleOutcome
from provisioning.models import ProvisionedLink, ProvisioningJob
from provisioning.operations import quarantine
from provisioning.scheduling import sync_now

__all__ = ["allow_deletes", "has_held_deletions", "held_deletions", "record_outcome", "reject_deletes"]


def has_held_deletions(job: ProvisioningJob) -> bool:
    return job.held_deletions_cycle_id is not None and not job.deletions_allowed


def allow_deletes(job: ProvisioningJob, actor: Any = None, *, enqueue: bool = True) -> int:
    """Allow deletes: the next cycle deactivates the held users (those still out of scope). Returns how many."""
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
            sync_now(job)
    return count


def reject_deletes(job: ProvisioningJob, actor: Any = None) -> int:
    """Reject deletes: the held users stay active in Salesforce and later cycles do not plan their deactivation
    again (until they come back in scope and leave it once more). Ends a TooManyDeletes quarantine."""
    with transaction.atomic():
        job = ProvisioningJob.objects.select_for_update().get(pk=job.pk)
        source_ids = held_source_ids(job)
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


def record_outcome(job: ProvisioningJob, outcome: CycleOutcome) -> None:
    """After a completed cycle (not a dry run): remember the holding cycle, or forget an answered hold. A cycle whose
    import was incomplete deactivated nobody: a hold and Allow deletes stay as they were for the next one."""
    if outcome.cycle.error_code == IMPORT_INCOMPLETE:
        return
    update: dict[str, Any] = {}
    if outcome.held_deletions is not None:
        update["held_deletions_cycle"] = outcome.cycle
    elif job.held_deletions_cycle_id is not None:
        update["held_deletions_cycle"] = None
    # Allow deletes is used up by the cycle that ran with it (not by one that was already running).
    if job.deletions_allowed and not outcome.deletion_hold_applied:
        update["deletions_allowed"] = False
    if update:
        ProvisioningJob.objects.filter(pk=job.pk).update(**update)
        for name, value in update.items():
            setattr(job, name, value)
