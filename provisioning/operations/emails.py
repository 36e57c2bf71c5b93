"""Every email the console sends, through the configured SMTP server (Django's mail API), text and HTML parts.

To the job's Notification Email, when "Send an email notification when a failure occurs" is ticked: quarantine
entered (or its reason changed), accidental deletion threshold reached, and a digest of a cycle's new failures
(what reacts to a finished cycle decides which); whether ticked or not, a Salesforce org that changed (a sandbox
refresh). And the "Send test email" button. Error messages only:
the clients keep secrets out of them.
"""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from provisioning.models import LogStatus, ProvisioningCycle, ProvisioningJob, ProvisioningLogEntry
from provisioning.operations.quarantine import reason_text

logger = logging.getLogger(__name__)
DIGEST_ROWS = 25


class NotificationError(Exception):
    """The mail could not be handed to the SMTP server; the message says why, without credentials."""


def send_mail_to_recipients(
    job: ProvisioningJob, subject: str, template: str, context: dict, recipients: list[str] | None = None
) -> list[str]:
    """Render `template`.txt and `template`.html and send both parts; returns the recipients.

    Raises NotificationError when no address is configured or the SMTP server refuses or cannot be reached.
    """
    to = recipients if recipients is not None else job.notification_recipients()
    if not to:
        raise NotificationError("No Notification Email is saved for this application.")
    context = {"job": job, "application": job.application, **context}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    try:
        message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise NotificationError(
            f"The mail server refused the recipient(s) {', '.join(sorted(exc.recipients))}."
        ) from None
    except smtplib.SMTPAuthenticationError:
        raise NotificationError(
            "The mail server refused the console's SMTP credentials (EMAIL_HOST_USER / EMAIL_HOST_PASSWORD)."
        ) from None
    except smtplib.SMTPException as exc:
        raise NotificationError(f"The mail server at {settings.EMAIL_HOST}:{settings.EMAIL_PORT} said: {exc}") from None
    except (TimeoutError, OSError) as exc:
        raise NotificationError(
            f"Cannot reach the mail server at {settings.EMAIL_HOST or '(EMAIL_HOST not set)'}:{settings.EMAIL_PORT}"
            f" ({exc.strerror or type(exc).__name__})."
        ) from None
    return to


def send_test_email(job: ProvisioningJob) -> list[str]:
    """The "Send test email" button: a mail to the saved Notification Email addresses."""
    return send_mail_to_recipients(
        job,
        subject=f"Test notification from provisioning of {job.application.name}",
        template="email/test_notification",
        context={},
    )


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


def notify_org_changed(job: ProvisioningJob, cycle: ProvisioningCycle) -> bool:
    """A cycle signed in to another Salesforce org than its links point into (a sandbox refresh): sent to the
    Notification Email whenever one is saved, failure notifications ticked or not, since nothing is provisioned
    until an administrator acts."""
    if not job.notification_recipients():
        return False
    context = {"cycle": cycle, "connection": job.application.salesforce, **_links(job, cycle)}
    return _send(
        job,
        f"Provisioning of {job.application.name} stopped: the Salesforce org changed (sandbox refresh?)",
        "email/org_changed",
        context,
    )


def notify_failures(job: ProvisioningJob, cycle: ProvisioningCycle) -> bool:
    """A digest of the cycle's failures (after_cycle sends it when one of them is new, not an escrow's retry)."""
    if not _wanted(job) or not cycle.failed:
        return False
    failures = ProvisioningLogEntry.objects.filter(cycle=cycle, status=LogStatus.FAILURE)
    rows = list(failures.order_by("id")[:DIGEST_ROWS])
    context = {"cycle": cycle, "failures": rows, "more": max(0, cycle.failed - len(rows))}
    return _send(
        job,
        f"Provisioning of {job.application.name}: {cycle.failed} failure{'s' if cycle.failed != 1 else ''} in the "
        f"{cycle.get_kind_display().lower()} cycle",
        "email/failure_digest",
        {**context, **_links(job, cycle)},
    )
