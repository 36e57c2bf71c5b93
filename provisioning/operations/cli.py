"""The operations subcommands of `manage.py provisioning`: on-demand, dry-run, allow-deletes, reject-deletes.

Each prints what happened and raises CommandError (exit status 1) when it did not succeed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from provisioning.models import CycleStatus, ProvisioningJob
from provisioning.operations import deletions
from provisioning.operations.dry_run import run_dry_run, would_happen
from provisioning.operations.on_demand import provision_on_demand


def on_demand(command: BaseCommand, job: ProvisioningJob, user: str | None) -> None:
    if not user:
        raise CommandError("on-demand needs the user: provisioning on-demand APP USER")
    result = provision_on_demand(job.application, user)
    out = command.stdout
    if result.candidates:
        out.write(result.message)
        for candidate in result.candidates:
            out.write(f"  {candidate.get('id')}  {candidate.get('userPrincipalName')}  {candidate.get('displayName')}")
        raise CommandError("Several users match: give the user principal name or the object id.")
    if not result.steps:
        raise CommandError(result.message)
    for number, step in enumerate(result.steps, start=1):
        out.write(f"{number}. {step.name}: {step.status.upper()}")
        out.write(f"   {step.description}")
        for label, value in step.details:
            out.write(f"     {label}: {value}")
        for prop in step.properties:
            out.write(f"     {prop['displayName']}: {prop['oldValue'] or '(empty)'} -> {prop['newValue']}")
    cycle = result.cycle
    out.write(f"Done in {result.duration_ms} ms" + (f" (cycle {cycle.cycle_id})" if cycle else ""))
    if not result.ok:
        raise CommandError(result.message or "Provision on demand failed.")


def dry_run(command: BaseCommand, job: ProvisioningJob, user: str | None) -> None:
    cycle = run_dry_run(job)
    if cycle is None:
        raise CommandError("Another cycle of this application is running; try again when it ends.")
    out = command.stdout
    out.write(f"Dry run {cycle.cycle_id}: {cycle.get_status_display()} (nothing was written to Salesforce)")
    for line in would_happen(cycle):
        text = f"{line.action:<13} {line.status:<8} {line.user}"
        if line.target:
            text += f" -> {line.target}"
        out.write(text)
        out.write(f"    {line.description}")
        if line.changes:
            out.write(f"    {line.changes}")
    out.write("Would be: " + "  ".join(f"{name}={value}" for name, value in cycle.counters().items()))
    out.write(f"Calls: salesforce={cycle.salesforce_calls} graph={cycle.graph_calls}")
    if cycle.status not in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS):
        raise CommandError(f"{cycle.error_code}: {cycle.error_message}".strip(": "))


def allow_deletes(command: BaseCommand, job: ProvisioningJob, user: str | None) -> None:
    if not deletions.has_held_deletions(job):
        raise CommandError("No deactivations are held for this application.")
    count = deletions.allow_deletes(job, actor="manage.py provisioning")
    command.stdout.write(f"{count} held deactivation(s) allowed; a cycle is queued to export them.")


def reject_deletes(command: BaseCommand, job: ProvisioningJob, user: str | None) -> None:
    if not deletions.has_held_deletions(job):
        raise CommandError("No deactivations are held for this application.")
    count = deletions.reject_deletes(job, actor="manage.py provisioning")
    command.stdout.write(f"{count} held deactivation(s) rejected; those Salesforce users stay active.")


OPERATIONS = {
    "on-demand": on_demand,
    "dry-run": dry_run,
    "allow-deletes": allow_deletes,
    "reject-deletes": reject_deletes,
}
