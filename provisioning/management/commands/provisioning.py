"""python manage.py provisioning start|stop|sync-now|restart|status APP: provisioning from scripts.

Operations (provisioning/operations/cli.py): on-demand APP USER, dry-run APP,
allow-deletes APP, reject-deletes APP."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q

from connections.models import Application
from console.concurrency import save_changes, snapshot
from console.models import AuditActivity, record_audit
from provisioning import scheduling
from provisioning.engine import lock
from provisioning.engine.cycle import choose_kind
from provisioning.models import CycleTrigger, ProvisioningJob
from provisioning.operations import deletions
from provisioning.operations.cli import OPERATIONS
from provisioning.scheduling import apply_schedule
from provisioning.tasks import run_cycle


def find_job(name: str) -> ProvisioningJob:
    application = Application.objects.filter(Q(slug=name) | Q(name=name)).first()
    if application is None:
        known = ", ".join(Application.objects.values_list("slug", flat=True)) or "none"
        raise CommandError(f"No application {name!r} (known: {known}).")
    try:
        return application.job
    except ProvisioningJob.DoesNotExist:
        raise CommandError(f"Application {name!r} has no provisioning job.")


class Command(BaseCommand):
    help = "Start, stop, sync now, restart or show the status of an application's provisioning."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["start", "stop", "sync-now", "restart", "status", *OPERATIONS])
        parser.add_argument("app", help="Application slug or name.")
        parser.add_argument("user", nargs="?", help="on-demand only: name, user principal name, mail or object id.")
        parser.add_argument(
            "--foreground",
            action="store_true",
            help="sync-now only: run the cycle in this process (no worker needed) and print its counters.",
        )
        parser.add_argument("--json", action="store_true", help="status only: print JSON.")

    def handle(self, *args, action: str, app: str, foreground: bool, json: bool, **options) -> None:
        job = find_job(app)
        if action in OPERATIONS:
            OPERATIONS[action](self, job, options.get("user"))
            return
        handler = getattr(self, "do_" + action.replace("-", "_"))
        if action == "sync-now":
            handler(job, foreground)
        elif action == "status":
            handler(job, json)
        else:
            handler(job)

    @transaction.atomic
    def _toggle(self, job: ProvisioningJob, enabled: bool) -> None:
        before = snapshot(job, ["enabled"])
        job.enabled = enabled
        detail = f"Provisioning Status {'On' if enabled else 'Off'} (management command)"
        save_changes(job, ["enabled"], before=before, actor="manage.py provisioning", summary=detail)
        apply_schedule(job)
        record_audit(
            AuditActivity.START if enabled else AuditActivity.STOP,
            application=job.application,
            changed_fields=["enabled"],
            detail=detail,
        )

    def do_start(self, job: ProvisioningJob) -> None:
        self._toggle(job, True)
        self.stdout.write(f"Provisioning is On for {job.application}; the first cycle is due now.")

    def do_stop(self, job: ProvisioningJob) -> None:
        self._toggle(job, False)
        self.stdout.write(f"Provisioning is Off for {job.application}; a running cycle stops after its page.")

    def do_sync_now(self, job: ProvisioningJob, foreground: bool) -> None:
        if not foreground:
            with transaction.atomic():
                scheduling.enqueue_cycle(job, trigger=CycleTrigger.COMMAND)
            self.stdout.write(f"A cycle of {job.application} is queued.")
            return
        cycle = run_cycle(job.pk, trigger=CycleTrigger.COMMAND)
        if cycle is None:
            raise CommandError("Another cycle of this application is running; try again when it ends.")
        cycle.refresh_from_db()
        counts = "  ".join(f"{name}={value}" for name, value in cycle.counters().items())
        self.stdout.write(f"{cycle.get_kind_display()} cycle {cycle.cycle_id}: {cycle.get_status_display()}")
        self.stdout.write(counts)
        if cycle.error_message:
            self.stdout.write(f"{cycle.error_code}: {cycle.error_message}")

    def do_restart(self, job: ProvisioningJob) -> None:
        scheduling.restart(job)
        record_audit(AuditActivity.RESTART, application=job.application, detail="Restart (management command)")
        self.stdout.write(f"Provisioning of {job.application} restarts with an initial cycle (links kept).")

    def do_status(self, job: ProvisioningJob, as_json: bool) -> None:
        last = job.cycles.order_by("-created_at", "-id").first()
        status = {
            "application": job.application.slug,
            "job_id": job.job_id,
            "provisioning_status": "On" if job.enabled else "Off",
            "interval_minutes": job.interval_minutes,
            "running": lock.is_held(job),
            "quarantine": job.quarantine_reason or None,
            "quarantine_next_attempt": job.quarantine_next_attempt.isoformat() if job.quarantine_next_attempt else None,
            "held_deletions": deletions.held_deletions(job).count() if deletions.has_held_deletions(job) else 0,
            "links": job.links.count(),
            "escrows": job.escrows.count(),
            "next_cycle": choose_kind(job, job.application.user_mapping.version),
            "last_cycle": None
            if last is None
            else {
                "cycle_id": last.cycle_id,
                "kind": last.kind,
                "status": last.status,
                "started_at": last.started_at.isoformat() if last.started_at else None,
                "finished_at": last.finished_at.isoformat() if last.finished_at else None,
                "progress": {"objects_done": last.objects_done, "objects_total": last.objects_total},
                "counters": last.counters(),
                "error": last.error_message or None,
            },
        }
        if as_json:
            self.stdout.write(json.dumps(status, indent=2))
            return
        for key, value in status.items():
            if key != "last_cycle":
                self.stdout.write(f"{key.replace('_', ' ').capitalize()}: {value}")
        if last is not None:
            self.stdout.write(
                f"Last cycle: {last.get_kind_display()} {last.cycle_id} {last.get_status_display()} "
                + " ".join(f"{n}={v}" for n, v in last.counters().items())
            )
