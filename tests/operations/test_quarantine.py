"""Quarantine: bad credentials or a high failure ratio quarantine the job, once-per-reason email, good cycle ends it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from console.models import AuditActivity, AuditEntry
from provisioning import tasks
from provisioning.models import CycleStatus, ProvisioningJob
from provisioning.operations import quarantine
from provisioning.scheduling import apply_schedule
from tests.operations.conftest import RECIPIENT, run

pytestmark = pytest.mark.django_db(transaction=True)


def quarantine_mails(mailbox):
    return [m for m in mailbox.messages if "quarantined" in m.message["Subject"]]


def test_wrong_credentials_quarantine_at_once_email_once_and_the_first_good_cycle_ends_it(
    notifying_app, emu, smtp_server
):
    job = notifying_app.job
    emu.control.reject_logins("INVALID_LOGIN")

    first = run(job)
    assert first.status == CycleStatus.FAILED and first.error_code == "INVALID_LOGIN"
    job.refresh_from_db()
    assert job.quarantine_reason == quarantine.CREDENTIALS
    assert job.quarantine_request.startswith("POST https://") and "/services/Soap/" in job.quarantine_request
    assert "INVALID_LOGIN" in job.quarantine_error or "password" in job.quarantine_error.lower()
    assert job.quarantine_series_count == 1
    assert job.quarantine_next_attempt == job.quarantine_series_began + timedelta(hours=6)

    [mail] = quarantine_mails(smtp_server)
    assert mail.rcpt_tos == [RECIPIENT]
    assert "EncounteredQuarantineException" in mail.message["Subject"]
    text, html = mail.part("text/plain"), mail.part("text/html")
    assert job.quarantine_request in text and job.quarantine_request in html
    for secret in (emu.info["salesforce"]["password"], emu.info["salesforce"]["security_token"]):
        assert secret not in text and secret not in html

    # The schedule's cycle waits for the next attempt; Sync now still runs and counts one more failure, no mail.
    ProvisioningJob.objects.filter(pk=job.pk).update(enabled=True)
    assert tasks.run_scheduled_cycle(job.pk).startswith("skipped: quarantined (EncounteredQuarantineException)")
    second = run(job)
    assert second.status == CycleStatus.FAILED
    job.refresh_from_db()
    assert job.quarantine_series_count == 2
    assert job.quarantine_next_attempt == job.quarantine_series_began + timedelta(hours=12)
    assert len(quarantine_mails(smtp_server)) == 1

    # Fixed: the next cycle succeeds and the quarantine ends.
    emu.control.reject_logins(None)
    third = run(job)
    assert third.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS)
    job.refresh_from_db()
    assert not job.is_quarantined and job.quarantine_next_attempt is None
    audit = list(AuditEntry.objects.filter(application=notifying_app, activity=AuditActivity.QUARANTINE).order_by("id"))
    assert [a.detail.split(":")[0].split(" (")[0] for a in audit] == ["Quarantined", "Quarantine"]
    assert "ended" in audit[1].detail
    assert len(quarantine_mails(smtp_server)) == 1


def test_most_operations_failing_quarantines_with_the_failure_ratio_reason(notifying_app, emu, smtp_server):
    job = notifying_app.job
    emu.control.set_licence_count(0, "Salesforce")
    emu.control.set_licence_count(0, "Chatter Free")
    cycle = run(job)
    assert cycle.failed > 0.4 * (cycle.created + cycle.updated + cycle.failed)
    job.refresh_from_db()
    assert job.quarantine_reason == quarantine.FAILURE_RATIO
    assert "SalesforceLicenseLimitExceeded" in job.quarantine_error
    assert job.quarantine_request.startswith("Create user ")
    [mail] = quarantine_mails(smtp_server)
    assert "EncounteredEscrowProportionThreshold" in mail.message["Subject"]
    assert not [m for m in smtp_server.messages if "failure" in m.message["Subject"]]  # no digest on top


def test_the_failure_ratio_waits_for_the_minimum_number_of_operations(configured_app, emu):
    job = configured_app.job
    job.quarantine_min_operations = 10_000
    job.save()
    emu.control.set_licence_count(0, "Salesforce")
    emu.control.set_licence_count(0, "Chatter Free")
    cycle = run(job)
    assert cycle.failed
    job.refresh_from_db()
    assert not job.is_quarantined


def test_a_quarantine_reason_change_mails_again(notifying_app, emu, smtp_server):
    job = notifying_app.job
    trouble = quarantine.Trouble(quarantine.CREDENTIALS, "Sign-in refused.", "POST https://login.example/x")
    assert quarantine.enter(job, trouble) is True
    assert quarantine.enter(job, trouble) is False
    ratio = quarantine.Trouble(quarantine.FAILURE_RATIO, "9 of 10 operations failed.")
    assert quarantine.enter(job, ratio) is True
    job.refresh_from_db()
    assert job.quarantine_reason == quarantine.FAILURE_RATIO and job.quarantine_series_count == 3


def test_retries_back_off_6_12_24_hours_then_daily_and_the_job_is_switched_off_after_four_weeks(configured_app):
    job = configured_app.job
    job.enabled = True
    job.save()
    apply_schedule(job)
    began = timezone.now() - timedelta(days=30)
    trouble = quarantine.Trouble(quarantine.CREDENTIALS, "Sign-in refused.")
    attempts = [began, began + timedelta(hours=6), began + timedelta(hours=12), began + timedelta(hours=24)]
    expected = [timedelta(hours=6), timedelta(hours=12), timedelta(hours=24), timedelta(hours=48)]
    for at, offset in zip(attempts, expected, strict=True):
        quarantine.enter(job, trouble, now=at)
        job.refresh_from_db()
        assert job.quarantine_next_attempt - began == offset
        assert job.enabled
    assert quarantine.waiting(job, began + timedelta(hours=47)) and not quarantine.waiting(
        job, began + timedelta(hours=48)
    )

    quarantine.enter(job, trouble, now=began + timedelta(days=28))
    job = ProvisioningJob.objects.get(pk=job.pk)
    assert not job.enabled and job.is_quarantined
    assert not Schedule.objects.filter(name=f"provisioning-cycle-{job.pk}").exists()
    assert AuditEntry.objects.filter(activity=AuditActivity.QUARANTINE, detail__contains="switched off").exists()


def test_the_quarantine_email_is_sent_after_the_cycle_released_the_job(notifying_app, emu, smtp_server, monkeypatch):
    # A slow mail server (up to EMAIL_TIMEOUT) must not keep the job locked: the next cycle would be skipped.
    from provisioning.operations import emails

    job = notifying_app.job
    owners_while_sending = []
    real_send = emails.send_mail_to_recipients

    def send_and_look_at_the_lock(job, *args, **kwargs):
        owners_while_sending.append(ProvisioningJob.objects.values_list("lock_owner", flat=True).get(pk=job.pk))
        return real_send(job, *args, **kwargs)

    monkeypatch.setattr(emails, "send_mail_to_recipients", send_and_look_at_the_lock)
    emu.control.reject_logins("INVALID_LOGIN")
    run(job)
    assert owners_while_sending == [""]
    assert len(quarantine_mails(smtp_server)) == 1


def test_more_than_the_total_escrow_limit_quarantines_even_when_few_operations_fail(configured_app, emu, monkeypatch):
    job = configured_app.job
    first = run(job)
    assert 0 < first.failed and quarantine.failure_ratio_trouble(job, first) is None
    monkeypatch.setattr(quarantine, "TOTAL_ESCROW_LIMIT", first.failed - 1)
    second = run(job)
    job.refresh_from_db()
    assert second.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS)
    assert job.quarantine_reason == quarantine.TOTAL_ESCROWS
    assert "waiting in escrow" in job.quarantine_error
