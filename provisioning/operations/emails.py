"""Failure notifications to the job's Notification Email, when "Send an email notification when a failure
occurs" is ticked: quarantine entered (or its reason changed), accidental deletion threshold reached, and a digest
of a cycle's new failures. Text and HTML parts; error messages only (the clients keep secrets out of them)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.urls import reverse

from provisioning.models import LogStatus, ProvisioningCycle, ProvisioningJob, ProvisioningLogEntry
from provisioning.notifications import NotificationError, send_mail_to_recipients
from provisioning.operations.quarantine import reason_text

logger = logging.getLogger(__name__)
DIGEST_ROWS = 25


def _wanted(job: ProvisioningJob) -> bool:
    return job.notify_on_failure and bool(job.notification_recipients())


def _links(job: ProvisioningJob, cycle: ProvisioningCycle | None) -> dict[str, str]:
    """Absolute links into the console when CONSOLE_URL is configured, else none (mail clients need hosts)."""
    base = str(getattr(settings, "CONSOLE_URL", "") or "").rstrip("/")
    if not base:
        return {}
    slug = job.application.slug
    logs = base + reverse("provisioning_logs", args=[slug])
    return {
        "overview_url": base + reverse("application_overview", args=[slug]),
        "logs_url": f"{logs}?cycle={cycle.cycle_id}" if cycle is not None else logs,
    }


def _send(job: ProvisioningJob, subject: str, template: str, context: dict) -> bool:
    try:
        send_mail_to_recipients(job, subject, template, context)
    except NotificationError as exc:
        logger.warning("Job %s: the notification %r was not sent: %s", job.pk, subject, exc)
        return False
    return True


def notify_quarantine(job: ProvisioningJob, cycle: ProvisioningCycle | None) -> bool:
    """Quarantine entered or its reason changed."""
    if not _wanted(job):
        return False
    context = {
        "cycle": cycle,
        "reason": job.quarantine_reason,
        "reason_text": reason_text(job.quarantine_reason),
        **_links(job, cycle),
    }
    return _send(
        job,
        f"Provisioning of {job.application.name} is quarantined ({job.quarantine_reason})",
        "email/quarantine",
        context,
    )


def notify_deletions_held(job: ProvisioningJob, cycle: ProvisioningCycle, count: int) -> bool:
    """A cycle would have deactivated more users than the accidental deletion threshold."""
    if not _wanted(job):
        return False
    sample = ProvisioningLogEntry.objects.filter(cycle=cycle, action="stageddelete").order_by("id")[:DIGEST_ROWS]
    context = {"cycle": cycle, "count": count, "threshold": job.deletion_threshold, "sample": sample}
    return _send(
        job,
        f"Provisioning of {job.application.name}: {count} deactivations held (threshold {job.deletion_threshold})",
        "email/deletions_held",
        {**context, **_links(job, cycle)},
    )


def notify_failures(job: ProvisioningJob, cycle: ProvisioningCycle) -> bool:
    """A digest of the cycle's failures, sent when at least one of them is new (not a retry of an escrow)."""
    if not _wanted(job) or not cycle.failed:
        return False
    failures = ProvisioningLogEntry.objects.filter(cycle=cycle, status=LogStatus.FAILURE)
    if not failures.filter(escrow_attempt__lte=1).exists() and failures.filter(escrow_attempt__gt=1).exists():
        return False  # only retries that failed again: already reported
    rows = list(failures.order_by("id")[:DIGEST_ROWS])
    context = {"cycle": cycle, "failures": rows, "more": max(0, cycle.failed - len(rows))}
    return _send(
        job,
        f"Provisioning of {job.application.name}: {cycle.failed} failure{'s' if cycle.failed != 1 else ''} in the "
        f"{cycle.get_kind_display().lower()} cycle",
        "email/failure_digest",
        {**context, **_links(job, cycle)},
    )
