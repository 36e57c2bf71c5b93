"""A cycle paused by Salesforce's daily API allowance (REQUEST_LIMIT_EXCEEDED, "TotalRequests Limit exceeded.").

The allowance is the org's rolling 24 hours, shared with every other integration: retrying within the cycle only
spends what comes back, and the job itself is fine, so it is not quarantined. The cycle ends Paused with what it
exported kept (links, escrows; the watermark stays where it was, so the next cycle covers the rest), the scheduled
cycles wait, and a django-q2 schedule of one run, provisioning-api-limit-<pk>, reads the org's Limits resource
(`DailyApiRequests`) every API_LIMIT_CHECK_MINUTES. Once Remaining is at least RESUME_SHARE of Max, that task runs the
cycle again; any cycle of the job that ends other than by the limit ends the pause. The Overview says it is paused
for the API limit and when the Limits resource is read next.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from connections.clients.errors import RemoteError, RequestLimitExceeded
from connections.clients.salesforce import SalesforceClient
from provisioning.models import ProvisioningJob

logger = logging.getLogger(__name__)

CHECK_FUNC = "provisioning.tasks.check_api_limit"
RESUME_SHARE = 0.05  # resume once 5 % of the daily allowance is free again: other integrations of the org keep theirs


def schedule_name(job_pk: int) -> str:
    return f"provisioning-api-limit-{job_pk}"


def check_interval() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "API_LIMIT_CHECK_MINUTES", 15)))


def pause(job: ProvisioningJob, error: RequestLimitExceeded, now: datetime | None = None) -> datetime:
    """Record the pause and schedule the next read of the Limits resource; returns when that is."""
    now = now or timezone.now()
    usage = f" ({error.usage[0]:,} of {error.usage[1]:,} requests used)" if error.usage else ""
    message = f"Salesforce's daily API allowance of this org is used up{usage}."
    next_check = now + check_interval()
    ProvisioningJob.objects.filter(pk=job.pk).update(
        api_limit_paused_at=job.api_limit_paused_at or now, api_limit_next_check=next_check, api_limit_message=message
    )
    _schedule(job.pk, next_check)
    logger.warning("Job %s paused for Salesforce's daily API limit; next check at %s", job.pk, next_check.isoformat())
    return next_check


def clear(job: ProvisioningJob) -> bool:
    """End the pause (a cycle ended other than by the limit, or provisioning was turned off); True if there was one."""
    Schedule.objects.filter(name=schedule_name(job.pk)).delete()
    return (
        ProvisioningJob.objects.filter(pk=job.pk, api_limit_paused_at__isnull=False).update(
            api_limit_paused_at=None, api_limit_next_check=None, api_limit_message=""
        )
        == 1
    )


def wait_reason(job: ProvisioningJob) -> str | None:
    """Why a scheduled cycle does not run now (the pause), or None."""
    if job.api_limit_paused_at is None:
        return None
    when = job.api_limit_next_check.isoformat() if job.api_limit_next_check else "soon"
    return f"skipped: paused for Salesforce's daily API limit; the Limits resource is read next at {when}"


def _schedule(job_pk: int, when: datetime) -> None:
    Schedule.objects.update_or_create(
        name=schedule_name(job_pk),
        defaults={
            "func": CHECK_FUNC,
            "args": repr((job_pk,)),
            "schedule_type": Schedule.ONCE,
            "repeats": -1,
            "next_run": when,
        },
    )


def allowance_back(job: ProvisioningJob) -> tuple[bool, str]:
    """Read DailyApiRequests from the org's Limits resource: (may resume, what it said)."""
    client = SalesforceClient(job.application.salesforce, max_retries=2)
    try:
        maximum, remaining = client.daily_api_requests()
    except RequestLimitExceeded:
        return False, "The Limits resource itself is refused: the allowance is still used up."
    except RemoteError as exc:
        return False, f"The Limits resource could not be read ({exc.code}): {exc.message}"
    said = f"DailyApiRequests: {remaining:,} of {maximum:,} remaining."
    return remaining >= max(1, RESUME_SHARE * maximum), said


def check(job_pk: int, now: datetime | None = None) -> tuple[bool, str]:
    """The scheduled read: True when the cycle may resume now; otherwise the next read is scheduled."""
    job = ProvisioningJob.objects.select_related("application__salesforce").filter(pk=job_pk).first()
    if job is None or job.api_limit_paused_at is None:
        return False, "not paused"
    if not job.enabled:
        clear(job)
        return False, "provisioning is off: the pause ends"
    ok, said = allowance_back(job)
    if ok:
        ProvisioningJob.objects.filter(pk=job_pk).update(api_limit_next_check=None, api_limit_message=said)
        return True, said
    next_check = (now or timezone.now()) + check_interval()
    ProvisioningJob.objects.filter(pk=job_pk).update(api_limit_next_check=next_check, api_limit_message=said[:500])
    _schedule(job_pk, next_check)
    return False, said
