"""Notification emails of a provisioning job, sent through the configured SMTP server (Django's mail API)."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from provisioning.models import ProvisioningJob


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
