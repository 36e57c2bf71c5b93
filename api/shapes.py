"""Graph's synchronization resources made from the console's rows: an application, its job with the job's status,
last executions and quarantine. The status code is the Overview's (provisioning.views.overview.current_status)."""

from __future__ import annotations

import uuid

from django.db.models import F, Q
from django.utils import timezone

from connections.models import Application
from provisioning.models import TERMINAL_CYCLE_STATUSES, CycleStatus, ProvisioningCycle, ProvisioningJob
from provisioning.operations.quarantine import reason_text
from provisioning.views.overview import current_status, running_cycle

TEMPLATE_ID = "salesforceSandbox"
EXPORT_COUNTERS = ("created", "updated", "disabled", "enabled")
FAILED_STATUSES = (CycleStatus.FAILED, CycleStatus.CRASHED)
EXECUTION_STATE = {
    CycleStatus.SUCCEEDED: "Succeeded",
    CycleStatus.COMPLETED_WITH_ERRORS: "EntryLevelErrors",
    CycleStatus.FAILED: "Failed",
    CycleStatus.CRASHED: "Failed",
}
SUCCESSIVE_FAILURES_LOOKED_AT = 100


def application_shape(application: Application) -> dict:
    return {
        "id": str(application.object_id),
        "slug": application.slug,
        "displayName": application.name,
        "description": application.description,
        "provisioningMode": application.provisioning_mode,
        "synchronizationJobId": application.job.job_id,
    }


def find_application(key: str) -> Application | None:
    """By slug, or by object id (the GUID scripts written for Graph hold)."""
    applications = Application.objects.select_related("entra", "salesforce", "job")
    try:
        return applications.filter(Q(slug=key) | Q(object_id=uuid.UUID(key))).first()
    except ValueError:
        return applications.filter(slug=key).first()


def task_execution(cycle: ProvisioningCycle | None) -> dict | None:
    if cycle is None:
        return None
    exported = sum(getattr(cycle, name) for name in EXPORT_COUNTERS)
    error = None
    if cycle.error_code or cycle.error_message:
        error = {"code": cycle.error_code, "message": cycle.error_message, "tenantActionable": True}
    state = EXECUTION_STATE.get(cycle.status) or ("EntryLevelErrors" if cycle.failed else "Succeeded")
    return {
        "activityIdentifier": cycle.cycle_id,
        "countEntitled": cycle.objects_done,
        "countEntitledForProvisioning": cycle.objects_done - cycle.skipped,
        "countEscrowed": cycle.failed,
        "countEscrowedRaw": cycle.failed,
        "countExported": exported,
        "countExports": exported + cycle.failed,
        "countImported": cycle.objects_done,
        "countImportedDeltas": cycle.objects_done if cycle.kind == "incremental" else 0,
        "countImportedReferenceDeltas": 0,
        "error": error,
        "state": state,
        "timeBegan": cycle.started_at,
        "timeEnded": cycle.finished_at,
    }


def _successive_failures(finished) -> int:
    count = 0
    for status in finished.values_list("status", flat=True)[:SUCCESSIVE_FAILURES_LOOKED_AT]:
        if status not in FAILED_STATUSES:
            break
        count += 1
    return count


def quarantine_shape(job: ProvisioningJob) -> dict | None:
    if not job.is_quarantined:
        return None
    return {
        "currentBegan": job.quarantine_began,
        "nextAttempt": job.quarantine_next_attempt,
        "reason": job.quarantine_reason,
        "seriesBegan": job.quarantine_series_began,
        "seriesCount": job.quarantine_series_count,
        "error": {
            "code": job.quarantine_reason,
            "message": job.quarantine_error or reason_text(job.quarantine_reason),
            "tenantActionable": True,
        },
    }


def progress_shape(job: ProvisioningJob) -> list[dict]:
    cycle = running_cycle(job)
    if cycle is None or cycle.status != CycleStatus.RUNNING:
        return []
    if cycle.objects_total:
        done, total, units = cycle.objects_done, cycle.objects_total, "Objects"
    elif cycle.pages_total:
        done, total, units = cycle.pages_done, cycle.pages_total, "Pages"
    else:
        return []
    observed = cycle.heartbeat_at or timezone.now()
    return [{"completedUnits": done, "progressObservationDateTime": observed, "totalUnits": total, "units": units}]


def job_shape(application: Application) -> dict:
    job = application.job
    finished = job.cycles.filter(status__in=TERMINAL_CYCLE_STATUSES).order_by("-finished_at", "-id")
    last = finished.first()
    real = finished.filter(dry_run=False)
    succeeded = real.filter(status=CycleStatus.SUCCEEDED)
    exports = sum((F(name) for name in EXPORT_COUNTERS[1:]), F(EXPORT_COUNTERS[0]))
    with_exports = succeeded.alias(exports=exports).filter(exports__gt=0).first()
    status = current_status(application, job, last is not None)
    if status.code == "NotConfigured":
        state = "Disabled"
    else:
        state = "Active" if job.enabled else "Paused"
    return {
        "id": job.job_id,
        "templateId": TEMPLATE_ID,
        "schedule": {"expiration": None, "interval": f"PT{job.interval_minutes}M", "state": state},
        "status": {
            "code": status.code,
            "countSuccessiveCompleteFailures": _successive_failures(real),
            "escrowsPruned": False,
            "lastExecution": task_execution(last),
            "lastSuccessfulExecution": task_execution(succeeded.first()),
            "lastSuccessfulExecutionWithExports": task_execution(with_exports),
            "progress": progress_shape(job),
            "quarantine": quarantine_shape(job),
            "steadyStateFirstAchievedTime": None,
            "steadyStateLastAchievedTime": None,
            "synchronizedEntryCountByType": [{"key": "User", "value": job.links.count()}],
            "troubleshootingUrl": None,
        },
    }
