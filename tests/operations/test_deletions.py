"""Prevent accidental deletions: over the threshold nothing is deactivated, one email, Allow or Reject decides."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from console.models import AuditActivity, AuditEntry
from provisioning.models import CycleKind, LogAction, ProvisionedLink, ProvisioningLogEntry
from provisioning.operations import deletions, quarantine
from provisioning.tasks import run_cycle
from tests.operations.conftest import RECIPIENT, run

pytestmark = pytest.mark.django_db(transaction=True)
THRESHOLD = 3


def provisioned(job, emu, count: int) -> list[dict]:
    """Run the initial cycle, then pick `count` users it created that are assigned directly."""
    run(job)
    chosen = []
    for link in ProvisionedLink.objects.filter(job=job, active=True).exclude(target_id="").order_by("pk"):
        user = emu.control.get_entra_user(link.source_id)
        if [a["principalId"] for a in user["appRoleAssignments"]] == [user["id"]]:
            chosen.append({"id": user["id"], "upn": user["userPrincipalName"], "target_id": link.target_id})
        if len(chosen) == count:
            return chosen
    raise AssertionError("not enough directly assigned users")


def active_in_salesforce(emu, users) -> list[bool]:
    return [emu.control.get_salesforce_user(id=u["target_id"])["IsActive"] for u in users]


def held_mails(mailbox):
    return [m for m in mailbox.messages if "deactivations held" in m.message["Subject"]]


@pytest.fixture
def guarded_app(notifying_app):
    job = notifying_app.job
    job.prevent_accidental_deletions = True
    job.deletion_threshold = THRESHOLD
    job.save()
    return notifying_app


def unassign_over_threshold(app, emu, count=THRESHOLD + 2):
    job = app.job
    users = provisioned(job, emu, count)
    for user in users:
        emu.control.unassign(user["id"])
    return job, users


def test_a_cycle_over_the_threshold_holds_the_disables_quarantines_and_mails_once(guarded_app, emu, smtp_server):
    job, users = unassign_over_threshold(guarded_app, emu)
    writes = emu.control.counters()["writes"]["salesforce"]
    cycle = run(job)
    assert cycle.kind == CycleKind.INCREMENTAL
    assert emu.control.counters()["writes"]["salesforce"] == writes
    assert active_in_salesforce(emu, users) == [True] * len(users)
    assert cycle.staged == len(users) and cycle.disabled == 0
    staged = ProvisioningLogEntry.objects.filter(cycle=cycle, action=LogAction.STAGED_DELETE)
    assert sorted(staged.values_list("source_id", flat=True)) == sorted(u["id"] for u in users)
    entry = staged.first()
    assert entry.status == "skipped" and "accidental deletion threshold" in entry.steps[-1]["description"]

    job.refresh_from_db()
    assert job.quarantine_reason == quarantine.TOO_MANY_DELETES
    assert job.held_deletions_cycle_id == cycle.pk and deletions.has_held_deletions(job)
    assert deletions.held_deletions(job).count() == len(users)
    [mail] = held_mails(smtp_server)
    assert mail.rcpt_tos == [RECIPIENT] and f"{len(users)} deactivations held" in mail.message["Subject"]
    assert users[0]["upn"] in mail.part("text/plain") and "Allow deletes" in mail.part("text/html")

    # The next cycle finds them again (Graph reports nothing new): held again, no second mail.
    again = run(job)
    assert again.staged == len(users)
    assert active_in_salesforce(emu, users) == [True] * len(users)
    assert len(held_mails(smtp_server)) == 1
    job.refresh_from_db()
    assert job.held_deletions_cycle_id == again.pk and job.quarantine_series_count == 2


def test_allow_deletes_lets_the_next_cycle_deactivate_them_and_ends_the_quarantine(guarded_app, emu, admin_user):
    job, users = unassign_over_threshold(guarded_app, emu)
    run(job)
    job.refresh_from_db()
    # Queues a cycle; the tests' django-q runs it at once.
    assert deletions.allow_deletes(job, actor=admin_user) == len(users)
    assert active_in_salesforce(emu, users) == [False] * len(users)
    job.refresh_from_db()
    assert not job.is_quarantined and not job.deletions_allowed and job.held_deletions_cycle_id is None
    last = job.cycles.order_by("-id").first()
    assert last.disabled == len(users) and last.staged == 0
    entry = AuditEntry.objects.get(activity=AuditActivity.ALLOW_DELETES)
    assert entry.actor == admin_user and str(len(users)) in entry.detail


def test_reject_deletes_keeps_the_users_active_and_later_cycles_leave_them(guarded_app, emu, admin_user):
    job, users = unassign_over_threshold(guarded_app, emu)
    run(job)
    job.refresh_from_db()
    assert deletions.reject_deletes(job, actor=admin_user) == len(users)
    job.refresh_from_db()
    assert not job.is_quarantined and not deletions.has_held_deletions(job)
    writes = emu.control.counters()["writes"]["salesforce"]
    later = run(job)
    assert later.staged == 0 and later.disabled == 0
    assert emu.control.counters()["writes"]["salesforce"] == writes
    assert active_in_salesforce(emu, users) == [True] * len(users)
    assert AuditEntry.objects.get(activity=AuditActivity.REJECT_DELETES).actor == admin_user


def test_disables_up_to_the_threshold_run_in_the_same_cycle(guarded_app, emu, smtp_server):
    job = guarded_app.job
    users = provisioned(job, emu, THRESHOLD)
    for user in users:
        emu.control.unassign(user["id"])
    cycle = run(job)
    assert cycle.disabled == THRESHOLD and cycle.staged == 0
    assert active_in_salesforce(emu, users) == [False] * THRESHOLD
    job.refresh_from_db()
    assert not job.is_quarantined and not held_mails(smtp_server)


def test_with_the_setting_off_every_disable_runs(guarded_app, emu):
    job = guarded_app.job
    job.prevent_accidental_deletions = False
    job.save()
    job, users = unassign_over_threshold(guarded_app, emu)
    cycle = run(job)
    assert cycle.disabled == len(users) and cycle.staged == 0


def test_commands_allow_and_reject_held_deletions(guarded_app, emu, capsys):
    job, users = unassign_over_threshold(guarded_app, emu)
    with pytest.raises(CommandError):
        call_command("provisioning", "allow-deletes", guarded_app.slug)
    run(job)
    call_command("provisioning", "reject-deletes", guarded_app.slug)
    assert f"{len(users)} held deactivation(s) rejected" in capsys.readouterr().out
    assert AuditEntry.objects.get(activity=AuditActivity.REJECT_DELETES).actor_name == "manage.py provisioning"
    with pytest.raises(CommandError):
        call_command("provisioning", "reject-deletes", guarded_app.slug)


def test_a_dry_run_over_the_threshold_logs_what_would_be_held_and_changes_nothing(guarded_app, emu, smtp_server):
    job, users = unassign_over_threshold(guarded_app, emu)
    cycle = run_cycle(job.pk, dry_run=True)
    cycle.refresh_from_db()
    staged = ProvisioningLogEntry.objects.filter(cycle=cycle, action=LogAction.STAGED_DELETE)
    assert staged.count() == len(users) == cycle.staged and all(e.dry_run for e in staged)
    assert "Held (dry run)" in staged.first().steps[-1]["description"]
    job.refresh_from_db()
    assert not job.is_quarantined and job.held_deletions_cycle_id is None and not held_mails(smtp_server)


def test_status_command_reports_the_quarantine_and_held_deletions(guarded_app, emu, capsys):
    import json

    job, users = unassign_over_threshold(guarded_app, emu)
    run(job)
    call_command("provisioning", "status", guarded_app.slug, "--json")
    status = json.loads(capsys.readouterr().out)
    assert status["quarantine"] == "TooManyDeletes" and status["quarantine_next_attempt"]
    assert status["held_deletions"] == len(users)
