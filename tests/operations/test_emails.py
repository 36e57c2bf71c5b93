"""Failure digests: one mail per cycle with new failures, none for retries that fail again; nothing when off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from provisioning.models import Escrow, LogStatus, ProvisioningLogEntry
from tests.operations.conftest import RECIPIENT, run

pytestmark = pytest.mark.django_db(transaction=True)


def digests(mailbox):
    return [m for m in mailbox.messages if "failure" in m.message["Subject"]]


def test_a_cycle_with_new_failures_sends_one_digest_and_retries_failing_again_send_none(
    notifying_app, emu, smtp_server
):
    job = notifying_app.job
    first = run(job)
    assert first.failed, "the seed has users that fail"
    [mail] = digests(smtp_server)
    assert mail.rcpt_tos == [RECIPIENT]
    assert f"{first.failed} failure" in mail.message["Subject"]
    text, html = mail.part("text/plain"), mail.part("text/html")
    failure = ProvisioningLogEntry.objects.filter(cycle=first, status=LogStatus.FAILURE).first()
    assert failure.error_code in text and failure.error_code in html
    assert (failure.source_upn or failure.source_id) in text
    assert emu.info["salesforce"]["password"] not in text + html

    Escrow.objects.filter(job=job).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    second = run(job)
    assert second.failed == first.failed  # the same users, failing again
    assert len(digests(smtp_server)) == 1


def test_no_mail_when_the_checkbox_is_off(notifying_app, emu, smtp_server):
    job = notifying_app.job
    job.notify_on_failure = False
    job.save()
    emu.control.reject_logins("INVALID_LOGIN")
    run(job)
    emu.control.reject_logins(None)
    assert run(job).failed
    assert smtp_server.messages == []


def test_the_digest_links_to_the_cycle_log_when_the_console_address_is_configured(
    notifying_app, emu, smtp_server, settings
):
    settings.CONSOLE_URL = "https://console.example.com"
    cycle = run(notifying_app.job)
    [mail] = digests(smtp_server)
    logs = f"https://console.example.com/apps/{notifying_app.slug}/provisioning-logs/?cycle={cycle.cycle_id}"
    assert logs in mail.part("text/plain")
    assert logs in mail.part("text/html").replace("&amp;", "&")
