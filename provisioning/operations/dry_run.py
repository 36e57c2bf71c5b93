"""Dry run: the same cycle with every Salesforce write recorded instead of sent (SalesforceClient dry_run).

Reads go out to both systems; links, watermark, escrows and quarantine stay as they were. The cycle's log
entries (dry_run=True) say what would have happened.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from provisioning.engine.log import shown
from provisioning.models import CycleTrigger, ProvisioningCycle, ProvisioningJob, ProvisioningLogEntry
from provisioning.tasks import run_cycle


@dataclass(frozen=True)
class WouldHappen:
    action: str
    status: str
    user: str
    target: str
    description: str
    changes: str


def run_dry_run(job: ProvisioningJob, *, trigger: str = CycleTrigger.COMMAND) -> ProvisioningCycle | None:
    """Run a dry-run cycle now in this process; None when another cycle of the job is running."""
    cycle = run_cycle(job.pk, trigger=trigger, dry_run=True)
    if cycle is not None:
        cycle.refresh_from_db()
    return cycle


def would_happen(cycle: ProvisioningCycle) -> Iterator[WouldHappen]:
    """The dry run's log, one line per user, in the order it was written (streamed: big tenants log a lot)."""
    entries = ProvisioningLogEntry.objects.filter(cycle=cycle).order_by("id")
    for entry in entries.iterator(chunk_size=1000):
        last = entry.steps[-1]["description"] if entry.steps else ""
        changes = ", ".join(
            f"{p['displayName']}={shown(p['newValue'])}" for p in entry.modified_properties if p.get("newValue")
        )
        yield WouldHappen(
            action=entry.get_action_display(),
            status=entry.get_status_display(),
            user=entry.source_upn or entry.source_id,
            target=entry.target_display_name or entry.target_id,
            description=entry.error_reason or last,
            changes=changes,
        )
