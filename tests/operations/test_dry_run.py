"""Dry run: the cycle reads both systems, sends no write to Salesforce, and logs what would have happened."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from provisioning.models import CycleKind, CycleStatus, Escrow, LogAction, ProvisionedLink, ProvisioningLogEntry
from provisioning.operations.dry_run import run_dry_run, would_happen
from provisioning.tasks import run_cycle
from tests.operations.conftest import plain_assigned_users, sf_user

pytestmark = pytest.mark.django_db(transaction=True)


def salesforce_writes(emu) -> dict[str, int]:
    """Requests that change Salesforce, by endpoint (logins are not writes)."""
    counts = emu.control.counters()["salesforce"]
    return {
        label: n
        for label, n in counts.items()
        if label.split()[0] in ("POST", "PATCH", "DELETE") and ("/composite" in label or "/sobjects" in label)
    }


def test_a_dry_run_sends_no_write_and_its_log_lists_what_would_have_happened(configured_app, emu):
    job = configured_app.job
    emu.control.reset_counters()
    cycle = run_dry_run(job)
    assert cycle.kind == CycleKind.DRY_RUN and cycle.dry_run
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS)
    assert cycle.created > 0

    counters = emu.control.counters()
    assert counters["writes"]["salesforce"] == 0
    assert salesforce_writes(emu) == {}
    assert counters["totals"]["salesforce"] > 0  # it did read (login, profiles, matching)
    user = plain_assigned_users(emu)[0]
    assert sf_user(emu, user["userPrincipalName"]) is None

    creates = ProvisioningLogEntry.objects.filter(cycle=cycle, action=LogAction.CREATE)
    assert creates.count() == cycle.created and all(entry.dry_run for entry in creates)
    entry = creates.get(source_id=user["id"])
    assert "would be created" in entry.steps[-1]["description"]
    assert {p["displayName"]: p["newValue"] for p in entry.modified_properties}["Username"].endswith(".uat")
    lines = list(would_happen(cycle))
    assert any(line.user == user["userPrincipalName"] and line.action == "Create" for line in lines)

    job.refresh_from_db()
    assert job.watermark == "" and job.needs_initial_cycle
    assert not ProvisionedLink.objects.filter(job=job).exists()
    assert not Escrow.objects.filter(job=job).exists()
    assert not job.is_quarantined


def test_a_dry_run_after_a_real_cycle_shows_only_the_change(configured_app, emu):
    job = configured_app.job
    first = run_cycle(job.pk)
    assert first is not None
    user = next(
        u
        for u in (emu.control.get_entra_user(i) for i in emu.control.assigned_user_ids())
        if ProvisionedLink.objects.filter(job=job, source_id=u["id"]).exclude(target_id="").exists()
    )
    emu.control.update_entra_user(user["id"], givenName="Dryrun")
    links_before = list(ProvisionedLink.objects.filter(job=job).values_list("source_id", "exported"))
    escrows_before = list(Escrow.objects.filter(job=job).values_list("source_id", "attempts", "next_attempt_at"))
    job.refresh_from_db()
    watermark = job.watermark
    emu.control.reset_counters()

    cycle = run_dry_run(job)
    assert salesforce_writes(emu) == {}
    update = ProvisioningLogEntry.objects.get(cycle=cycle, action=LogAction.UPDATE, source_id=user["id"])
    assert [(p["displayName"], p["newValue"]) for p in update.modified_properties] == [("FirstName", "Dryrun")]
    assert "would be updated" in update.steps[-1]["description"]
    assert sf_user(emu, user["userPrincipalName"])["FirstName"] == user["givenName"]
    job.refresh_from_db()
    assert job.watermark == watermark
    assert list(ProvisionedLink.objects.filter(job=job).values_list("source_id", "exported")) == links_before
    assert (
        list(Escrow.objects.filter(job=job).values_list("source_id", "attempts", "next_attempt_at")) == escrows_before
    )


def test_dry_run_command_prints_what_would_happen_and_the_counters(configured_app, emu, capsys):
    user = plain_assigned_users(emu)[0]
    call_command("provisioning", "dry-run", configured_app.slug)
    out = capsys.readouterr().out
    assert "nothing was written to Salesforce" in out
    assert f"Create        Success  {user['userPrincipalName']}" in out
    assert "Would be: created=" in out and "Calls: salesforce=" in out
    assert emu.control.counters()["writes"]["salesforce"] == 0
