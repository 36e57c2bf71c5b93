"""Re-match after refresh: after a sandbox refresh (a new org, engine/organization.py), start again in the new org.

The links, escrows, access ledger and baseline, pending manager look-ups, held deletions and watermark all name
records of the old org: they are dropped (cycles and logs stay). The new org becomes the recorded one, and the
next cycle is an initial one that matches every user again by the matching attribute, as for an org never
provisioned into; with `repair_emails` it also removes the ".invalid" the refresh appended to matched users'
e-mails (engine/organization.py: repair_invalid_emails).
"""

from __future__ import annotations

from django.db import transaction

from connections.models import SalesforceConnection
from provisioning import scheduling
from provisioning.models import AccessGrant, CycleKind, CycleTrigger, Escrow, ProvisionedLink, ProvisioningJob


def rematch_after_refresh(job: ProvisioningJob, *, repair_emails: bool) -> dict[str, int]:
    """Drop what points into the old org, record the new org and queue an initial cycle; returns what was dropped."""
    with transaction.atomic():
        connection = SalesforceConnection.objects.select_for_update().get(application_id=job.application_id)
        dropped = {
            "links": ProvisionedLink.objects.filter(job=job).delete()[0],
            "escrows": Escrow.objects.filter(job=job).delete()[0],
            "access records": AccessGrant.objects.filter(job=job).delete()[0],
        }
        if connection.new_organization_id:
            connection.organization_id = connection.new_organization_id
        connection.new_organization_id = ""
        connection.organization_changed_at = None
        connection.repair_invalid_emails = repair_emails
        connection.save(
            update_fields=["organization_id", "new_organization_id", "organization_changed_at", "repair_invalid_emails"]
        )
        ProvisioningJob.objects.filter(pk=job.pk).update(
            watermark="",
            watermark_scope="",
            needs_initial_cycle=True,
            access_baseline={},
            held_deletions_cycle=None,
            deletions_allowed=False,
        )
        job.clear_quarantine()
        job.save(update_fields=[*ProvisioningJob.QUARANTINE_FIELDS, "updated_at"])
        job.refresh_from_db()
        scheduling.enqueue_cycle(job, kind=CycleKind.INITIAL, trigger=CycleTrigger.RESTART)
    return dropped
