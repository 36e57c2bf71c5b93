"""Quarantine: a job whose cycles keep failing is retried less and less often, then disabled.

Entered after a cycle stopped by bad credentials or another stop-class error (EncounteredQuarantineException),
a cycle where more than 40 % of the operations failed (EncounteredEscrowProportionThreshold), or a cycle that
would deactivate more users than the accidental deletion threshold (TooManyDeletes). While quarantined, the
schedule's cycles wait for the next attempt: +6 h, +12 h and +24 h after the series began, then daily; after
four weeks the job is switched off. The first good cycle ends the quarantine, as does Restart provisioning.
One email on entry and one when the reason changes, never one per cycle.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from console.concurrency import save_changes, snapshot
from console.models import AuditActivity, record_audit
from provisioning.models import (
    Escrow,
    LogStatus,
    ProvisioningCycle,
    ProvisioningJob,
    ProvisioningLogEntry,
)
from provisioning.scheduling import apply_schedule

CREDENTIALS = "EncounteredQuarantineException"
FAILURE_RATIO = "EncounteredEscrowProportionThreshold"
TOO_MANY_DELETES = "TooManyDeletes"
TOTAL_ESCROWS = "EncounteredTotalEscrowThreshold"
REASON_TEXT = {
    TOTAL_ESCROWS: "More than 40,000 users are waiting in escrow for a retry",
    CREDENTIALS: "The cycle could not reach or sign in to a connected system",
    FAILURE_RATIO: "More than 40% of the cycle's operations failed",
    TOO_MANY_DELETES: "The cycle would deactivate more users than the accidental deletion threshold",
}
FAILURE_RATIO_LIMIT = 0.40
TOTAL_ESCROW_LIMIT = 40_000  # Entra: more than 40,000 failures quarantine the job, whatever their share
RETRY_OFFSETS = (timedelta(hours=6), timedelta(hours=12), timedelta(hours=24))  # after the series began
DAILY = timedelta(hours=24)
GIVE_UP_AFTER = timedelta(days=28)
OPERATION_COUNTERS = ("created", "updated", "disabled", "enabled", "failed")
ERROR_TEXT_LIMIT = 4000  # what the Overview's banner and the email quote of the error


@dataclass(frozen=True)
class Trouble:
    """Why a cycle calls for quarantine: the reason, what went wrong and the request that failed."""

    reason: str
    error: str
    request: str = ""


def reason_text(reason: str) -> str:
    return REASON_TEXT.get(reason, reason)


def next_attempt(series_began: datetime, series_count: int, last_attempt: datetime) -> datetime:
    """+6 h, +12 h, +24 h after the series began (for the 1st, 2nd, 3rd failure), then a day after the last."""
    if series_count <= len(RETRY_OFFSETS):
        return max(series_began + RETRY_OFFSETS[series_count - 1], last_attempt)
    return last_attempt + DAILY


def failure_ratio_trouble(job: ProvisioningJob, cycle: ProvisioningCycle) -> Trouble | None:
    """More than 40 % of the cycle's operations failed, over at least the job's minimum sample; or more than
    40,000 users wait in escrow (a large tenant's failures can stay under 40 % and still swamp the job)."""
    escrows = Escrow.objects.filter(job=job).count()
    if escrows > TOTAL_ESCROW_LIMIT:
        return Trouble(
            TOTAL_ESCROWS,
            f"{escrows:,} users are waiting in escrow after failures. Open the provisioning log filtered on "
            "Failure, fix the most common error, then Restart provisioning.",
        )
    operations = sum(getattr(cycle, name) for name in OPERATION_COUNTERS)
    if operations < max(1, job.quarantine_min_operations) or cycle.failed <= FAILURE_RATIO_LIMIT * operations:
        return None
    failures = ProvisioningLogEntry.objects.filter(cycle=cycle, status=LogStatus.FAILURE)
    codes = Counter(failures.values_list("error_code", flat=True)[:5000])
    code, count = codes.most_common(1)[0] if codes else ("", 0)
    example = failures.filter(error_code=code).order_by("id").first()
    error = f"{cycle.failed} of {operations} operations failed."
    request = ""
    if example is not None:
        error += f" Most often {code or 'an error'} ({count}), e.g. {example.source_upn or example.source_id}: "
        error += example.error_reason
        verb = {"create": "Create", "update": "Update", "disable": "Disable"}.get(example.action, "Export")
        request = f"{verb} user {example.target_display_name or example.source_upn} in Salesforce"
    return Trouble(FAILURE_RATIO, error, request)


def enter(job: ProvisioningJob, trouble: Trouble, *, now: datetime | None = None) -> bool:
    """Quarantine the job (or count one more failure of the series); True when the reason is new (email it)."""
    now = now or timezone.now()
    with transaction.atomic():
        job = ProvisioningJob.objects.select_for_update().get(pk=job.pk)
        changed = job.quarantine_reason != trouble.reason
        if not job.quarantine_reason:
            job.quarantine_series_began = now
            job.quarantine_series_count = 0
        if changed:
            job.quarantine_began = now
        job.quarantine_reason = trouble.reason
        job.quarantine_series_count += 1
        job.quarantine_error = trouble.error[:ERROR_TEXT_LIMIT]
        job.quarantine_request = trouble.request
        job.quarantine_next_attempt = next_attempt(job.quarantine_series_began, job.quarantine_series_count, now)
        fields = [*ProvisioningJob.QUARANTINE_FIELDS, "updated_at"]
        gave_up = now - job.quarantine_series_began >= GIVE_UP_AFTER and job.enabled
        job.fit_columns().save(update_fields=fields)
        if gave_up:
            # Versioned like Stop: a Provisioning Status form opened before is refused instead of switching it On again.
            before = snapshot(job, ["enabled"])
            job.enabled = False
            save_changes(job, ["enabled"], before=before, actor="quarantine", summary="Quarantined for four weeks")
        if changed:
            record_audit(
                AuditActivity.QUARANTINE,
                application=job.application,
                changed_fields=["quarantine_reason"],
                detail=f"Quarantined: {trouble.reason}. {trouble.error}",
            )
        if gave_up:
            apply_schedule(job)
            record_audit(
                AuditActivity.QUARANTINE,
                application=job.application,
                changed_fields=["enabled"],
                detail="Provisioning was switched off: quarantined for four weeks. Fix the cause, then Restart.",
            )
    return changed


def leave(job: ProvisioningJob, *, why: str = "A cycle completed without reason for quarantine.") -> bool:
    """End the quarantine (a good cycle, Reject deletes); True when the job was quarantined."""
    with transaction.atomic():
        job = ProvisioningJob.objects.select_for_update().get(pk=job.pk)
        if not job.is_quarantined:
            return False
        reason = job.quarantine_reason
        job.clear_quarantine()
        job.save(update_fields=[*ProvisioningJob.QUARANTINE_FIELDS, "updated_at"])
        record_audit(
            AuditActivity.QUARANTINE,
            application=job.application,
            changed_fields=["quarantine_reason"],
            detail=f"Quarantine ({reason}) ended. {why}",
        )
    return True


def waiting(job: ProvisioningJob, now: datetime | None = None) -> bool:
    """True while a quarantined job's next attempt is not due: the schedule's cycle is skipped."""
    if not job.is_quarantined or job.quarantine_next_attempt is None:
        return False
    return (now or timezone.now()) < job.quarantine_next_attempt


def wait_reason(job_pk: int, now: datetime | None = None) -> str | None:
    """Why the schedule's cycle is skipped now (quarantined, next attempt not due), or None to run it."""
    job = ProvisioningJob.objects.filter(pk=job_pk).first()
    if job is None or not waiting(job, now):
        return None
    due = timezone.localtime(job.quarantine_next_attempt)
    return f"skipped: quarantined ({job.quarantine_reason}) until {due:%Y-%m-%d %H:%M}"
