"""An application's Overview: current status, live progress, statistics to date, cycle history, and the
administrator's buttons (Start/Stop, Sync now, Restart, Dry run, Allow/Reject deletes: overview_actions)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from connections.models import Application
from console.permissions import reader_required
from provisioning.charts import cycle_chart
from provisioning.models import (
    COUNTER_FIELDS,
    TERMINAL_CYCLE_STATUSES,
    CycleStatus,
    ProvisioningCycle,
    ProvisioningJob,
)
from provisioning.operations import deletions
from provisioning.views.base import blade_context, get_application
from provisioning.views.overview_actions import buttons

HISTORY_LENGTH = 20
POLL_SECONDS = 2


@dataclass(frozen=True)
class CurrentStatus:
    """Graph's synchronizationStatus.code, as the Overview shows it."""

    code: str  # NotConfigured / NotRun / Active / Paused / Quarantine
    label: str
    colour: str
    text: str


def current_status(application: Application, job: ProvisioningJob, has_finished_cycle: bool) -> CurrentStatus:
    if not application.is_automatic or not _connections_configured(application):
        return CurrentStatus(
            "NotConfigured",
            "Not configured",
            "grey",
            "Set Provisioning Mode to Automatic and enter both connections on the Provisioning page.",
        )
    if job.is_quarantined:
        return CurrentStatus("Quarantine", "Quarantined", "red", f"Quarantined: {job.quarantine_reason}.")
    if job.api_limit_paused_at is not None and job.enabled:
        return CurrentStatus(
            "Paused", "Paused: API limit", "amber", "Paused until Salesforce's daily API allowance frees up."
        )
    if not has_finished_cycle:
        if job.enabled:
            return CurrentStatus("NotRun", "Not run", "blue", "The first cycle has not finished yet.")
        return CurrentStatus("NotRun", "Not run", "grey", "Provisioning Status is Off and no cycle has run.")
    if not job.enabled:
        return CurrentStatus(
            "Paused", "Paused", "grey", "Provisioning Status is Off: no cycle runs; links and state are kept."
        )
    return CurrentStatus("Active", "Active", "green", f"Cycles run every {job.interval_minutes} minutes.")


def _connections_configured(application: Application) -> bool:
    parts = [getattr(application, "entra", None), getattr(application, "salesforce", None)]
    return all(part is not None and getattr(part, "is_configured", True) for part in parts)


def running_cycle(job: ProvisioningJob) -> ProvisioningCycle | None:
    return job.cycles.filter(status__in=[CycleStatus.RUNNING, CycleStatus.PENDING]).order_by("-created_at").first()


def held_deletions_count(job: ProvisioningJob) -> int:
    """Deactivations held by Prevent accidental deletions and not yet answered (0 when none)."""
    if not deletions.has_held_deletions(job):
        return 0
    return deletions.held_deletions(job).count()


def progress_context(job: ProvisioningJob) -> dict:
    cycle = running_cycle(job)
    context: dict = {"cycle": cycle, "poll_seconds": POLL_SECONDS, "percent": None}
    # Just turned On: keep polling until the scheduler starts the first cycle, so the page shows it by itself.
    context["waiting"] = (
        cycle is None and job.enabled and not job.cycles.filter(status__in=TERMINAL_CYCLE_STATUSES).exists()
    )
    if cycle is not None:
        # Entra's bar counts pages; objects are finer-grained when the engine has an estimate.
        if cycle.objects_total:
            context["percent"] = cycle.progress_percent
        elif cycle.pages_total:
            context["percent"] = min(100, round(100 * cycle.pages_done / cycle.pages_total))
    return context


def log_url(application: Application, **filters: str) -> str:
    url = reverse("provisioning_logs", args=[application.slug])
    return f"{url}?{urlencode(filters)}" if filters else url


@require_GET
@reader_required
def application_overview(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    job = application.job
    history = list(job.cycles.order_by("-created_at", "-id")[:HISTORY_LENGTH])
    finished = job.cycles.filter(status__in=TERMINAL_CYCLE_STATUSES)
    last = finished.order_by("-finished_at", "-id").first()
    totals = finished.filter(dry_run=False).aggregate(**{name: Sum(name) for name in COUNTER_FIELDS})
    context = blade_context(
        application,
        "application_overview",
        job=job,
        status=current_status(application, job, last is not None),
        last_cycle=last,
        last_cycle_log_url=log_url(application, cycle=last.cycle_id) if last else None,
        users_in_link_table=job.links.count(),
        escrows=job.escrows.count(),
        totals={name: value or 0 for name, value in totals.items()},
        history=history,
        chart=cycle_chart([c for c in history if c.is_finished]),
        held_deletions=held_deletions_count(job),
        held_deletions_url=log_url(application, cycle=job.held_deletions_cycle.cycle_id, action="stageddelete")
        if job.held_deletions_cycle_id
        else None,
        cycle_actions=buttons(job, request.user, held_deletions=False),
        deletion_actions=buttons(job, request.user, held_deletions=True),
        refresh_actions=buttons(job, request.user, held_deletions=False, refresh=True),
        org_changed=application.salesforce if application.salesforce.new_organization_id else None,
        **progress_context(job),
    )
    return render(request, "provisioning/overview.html", context)


@require_GET
@reader_required
def overview_progress(request: HttpRequest, slug: str) -> HttpResponse:
    """The current-cycle partial, polled by htmx every POLL_SECONDS while a cycle runs."""
    application = get_application(slug)
    context = {"application": application, "job": application.job, **progress_context(application.job)}
    return render(request, "provisioning/partials/progress.html", context)
