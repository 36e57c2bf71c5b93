"""The administrator's buttons on the Overview, one row each in OVERVIEW_ACTIONS: who may press it, what it does,
what the browser asks before, and what the audit log records. The view that runs them and the page that shows
the buttons both read the table, so a new action is one row and one operation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from connections.models import Application
from console.concurrency import save_changes, snapshot
from console.models import AuditActivity, record_audit
from console.permissions import is_administrator
from provisioning import scheduling
from provisioning.models import CycleTrigger, ProvisioningJob
from provisioning.operations import deletions, refresh
from provisioning.views.base import get_application

User = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class Done:
    """What an operation tells the administrator, and the fields it changed (None: nothing to audit)."""

    message: str
    changed_fields: list[str] | None = None


@dataclass(frozen=True)
class OverviewAction:
    slug: str  # in the URL: /apps/<app>/overview/<slug>/
    label: str
    operation: Callable[[ProvisioningJob, User], Done]  # runs with the job's row locked
    audit: str | None = None  # recorded when the operation reports changed fields (None: it audits itself or is
    # not a configuration change)
    confirm: str = ""  # asked in the browser before the POST
    permission: Callable[[User], bool] = is_administrator
    shown: Callable[[ProvisioningJob], bool] = lambda job: True
    held_deletions: bool = False  # answers held deactivations: shown beside them, refused when none is held
    refresh: bool = False  # answers a Salesforce org that changed: shown in its notice, refused when none did
    style: str = ""  # button class
    hint: str = ""  # button title

    def url(self, slug: str) -> str:
        return reverse("overview_action", args=[slug, self.slug])


def _set_enabled(enabled: bool) -> Callable[[ProvisioningJob, User], Done]:
    def operation(job: ProvisioningJob, user: User) -> Done:
        changed = job.enabled != enabled
        if changed:
            before = snapshot(job, ["enabled"])
            job.enabled = enabled
            # Versioned, so a Provisioning Status form opened before this is refused rather than undoing it.
            summary = f"{'Start' if enabled else 'Stop'} (Overview)"
            save_changes(job, ["enabled"], before=before, actor=user, summary=summary)
            scheduling.apply_schedule(job)
        if enabled:
            message = "Provisioning started: the first cycle is due now."
        else:
            message = "Provisioning stopped: a running cycle stops after its current page."
        return Done(message, ["enabled"] if changed else None)

    return operation


def _sync_now(job: ProvisioningJob, user: User) -> Done:
    scheduling.sync_now(job)
    return Done("A cycle is queued; its progress shows below.")


def _dry_run(job: ProvisioningJob, user: User) -> Done:
    scheduling.enqueue_cycle(job, trigger=CycleTrigger.SYNC_NOW, dry_run=True)
    return Done("A dry-run cycle is queued: it reads both systems and logs what it would do, writing nothing.")


def _restart(job: ProvisioningJob, user: User) -> Done:
    scheduling.restart(job)
    return Done(
        "Provisioning restarts with an initial cycle: watermark, escrows and quarantine were cleared; every user and "
        "every assignment is read again.",
        [],
    )


def _rematch(repair_emails: bool) -> Callable[[ProvisioningJob, User], Done]:
    def operation(job: ProvisioningJob, user: User) -> Done:
        dropped = refresh.rematch_after_refresh(job, repair_emails=repair_emails)
        what = ", ".join(f"{count} {name}" for name, count in dropped.items())
        repaired = " and removes .invalid from the e-mails of the users it matches" if repair_emails else ""
        return Done(
            f"Re-match after refresh: dropped what pointed into the old org ({what}). An initial cycle is queued: it "
            f"matches every user again in the new org{repaired}.",
            ["organization_id", "links", "escrows", "watermark", *(["repair_invalid_emails"] if repair_emails else [])],
        )

    return operation


def _org_changed(job: ProvisioningJob) -> bool:
    return bool(job.application.salesforce.new_organization_id)


def _deactivations(count: int) -> str:
    return f"{count} held deactivation{'s' if count != 1 else ''}"


def _allow_deletes(job: ProvisioningJob, user: User) -> Done:
    count = deletions.allow_deletes(job, actor=user)
    return Done(f"{_deactivations(count)} will be exported by the next cycle (queued).")


def _reject_deletes(job: ProvisioningJob, user: User) -> Done:
    count = deletions.reject_deletes(job, actor=user)
    return Done(f"{_deactivations(count)} rejected: the Salesforce users stay active.")


OVERVIEW_ACTIONS: dict[str, OverviewAction] = {
    action.slug: action
    for action in (
        OverviewAction(
            "start",
            "Start provisioning",
            _set_enabled(True),
            audit=AuditActivity.START,
            shown=lambda job: not job.enabled,
            style="primary",
        ),
        OverviewAction(
            "stop", "Stop provisioning", _set_enabled(False), audit=AuditActivity.STOP, shown=lambda job: job.enabled
        ),
        OverviewAction("sync", "Sync now", _sync_now),
        OverviewAction(
            "dry-run",
            "Dry run",
            _dry_run,
            hint="Reads both systems and logs what would change; writes nothing to Salesforce",
        ),
        OverviewAction(
            "restart",
            "Restart provisioning",
            _restart,
            audit=AuditActivity.RESTART,
            confirm="Restart provisioning? The watermark, escrows and quarantine are cleared and the next cycle is "
            "an initial cycle that reads every user and every assignment again. Links are kept.",
            style="danger",
        ),
        # deletions.allow_deletes and reject_deletes write their audit entries (manage.py provisioning shares them).
        OverviewAction(
            "allow-deletes",
            "Allow deletes",
            _allow_deletes,
            confirm="Allow deletes? The next cycle deactivates the held users in Salesforce.",
            held_deletions=True,
            style="danger",
        ),
        OverviewAction("reject-deletes", "Reject deletes", _reject_deletes, held_deletions=True),
        OverviewAction(
            "rematch-repair",
            "Re-match after refresh and repair e-mails",
            _rematch(repair_emails=True),
            audit=AuditActivity.REMATCH,
            confirm="Re-match after refresh? The links, escrows and watermark of the old org are dropped and the next "
            "cycle matches every user again in the new org, removing .invalid from their e-mails.",
            refresh=True,
            style="primary",
        ),
        OverviewAction(
            "rematch",
            "Re-match after refresh",
            _rematch(repair_emails=False),
            audit=AuditActivity.REMATCH,
            confirm="Re-match after refresh? The links, escrows and watermark of the old org are dropped and the next "
            "cycle matches every user again in the new org; e-mails stay as Salesforce has them.",
            refresh=True,
        ),
    )
}


def buttons(job: ProvisioningJob, user: User, *, held_deletions: bool, refresh: bool = False) -> list[OverviewAction]:
    """The actions this user may press now: the cycle's, the held deactivations' or the changed org's."""
    return [
        action
        for action in OVERVIEW_ACTIONS.values()
        if action.held_deletions == held_deletions
        and action.refresh == refresh
        and action.shown(job)
        and action.permission(user)
    ]


@require_POST
def overview_action(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    chosen = OVERVIEW_ACTIONS.get(action)
    # Someone who may not act learns nothing, not even which actions exist.
    if not (chosen.permission if chosen else is_administrator)(request.user):
        raise PermissionDenied("Only an Application Administrator can do this.")
    if chosen is None:
        raise Http404("Unknown action")
    application = get_application(slug)
    done = perform(application, chosen, request.user)
    messages.success(request, done.message)
    return redirect("application_overview", application.slug)


def perform(application: Application, chosen: OverviewAction, user: User, *, detail: str = "") -> Done:
    """Run an action with the job's row locked and audit it: the Overview's button and the REST API alike (the
    caller has checked `chosen.permission`). `detail` goes into the audit entry (the API names its token)."""
    with transaction.atomic():
        job = ProvisioningJob.objects.select_for_update().get(pk=application.job.pk)
        if chosen.held_deletions and not deletions.has_held_deletions(job):
            done = Done("No deactivation is held: nothing to allow or reject.")
        elif chosen.refresh and not _org_changed(job):
            done = Done("The Salesforce org has not changed: nothing to re-match.")
        else:
            done = chosen.operation(job, user)
        if chosen.audit and done.changed_fields is not None:
            record_audit(
                chosen.audit, actor=user, application=application, changed_fields=done.changed_fields, detail=detail
            )
    return done
