"""Leavers: a deactivation Salesforce refuses freezes the user instead (a warning, retried next cycle); Freeze leavers
before or instead of deactivating; a user back in scope is unfrozen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mappings.access.models import AccessSettings, FreezeLeavers
from provisioning.models import AccessGrant, CycleStatus, Escrow, LogStatus, ProvisioningLogEntry
from tests.access.test_reconcile import run, sales_users

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provisioned(configured_app, emu):
    run(configured_app.job)
    return configured_app


def leaver(emu):
    (source_id, target_id), *_ = sales_users(emu)
    emu.control.disable_entra_user(source_id)
    return source_id, target_id


def test_a_refused_deactivation_freezes_the_user_and_is_retried_next_cycle(provisioned, emu):
    source_id, target_id = leaver(emu)
    emu.control.block_deactivation(target_id, "You cannot deactivate a user who is the default lead owner.")
    cycle = run(provisioned.job)
    assert cycle.status == CycleStatus.SUCCEEDED  # a warning, not a failed user
    record = emu.control.get_salesforce_user(id=target_id)
    assert record["IsActive"] is True and emu.control.access_of(target_id)["frozen"] is True
    entry = ProvisioningLogEntry.objects.get(cycle=cycle, source_id=source_id)
    assert entry.status == LogStatus.WARNING and entry.error_code == "SalesforceDeactivationRefused"
    assert "default lead owner" in entry.error_reason and "frozen instead" in entry.error_recommendation
    assert {"displayName": "UserLogin.IsFrozen", "oldValue": "False", "newValue": "True"} in entry.modified_properties
    escrow = Escrow.objects.get(source_id=source_id)
    assert escrow.next_attempt_at <= cycle.started_at + timedelta(minutes=provisioned.job.interval_minutes)
    # the blocker is gone by the next cycle: the deactivation goes through, the user stays frozen
    emu.control.unblock_deactivation(target_id)
    Escrow.objects.update(next_attempt_at=timezone.now())
    again = run(provisioned.job)
    assert emu.control.get_salesforce_user(id=target_id)["IsActive"] is False
    assert ProvisioningLogEntry.objects.get(cycle=again, source_id=source_id).status == LogStatus.SUCCESS


def test_freeze_instead_of_deactivating_and_unfreeze_on_return(provisioned, emu):
    AccessSettings.objects.filter(application=provisioned).update(freeze_leavers=FreezeLeavers.INSTEAD)
    source_id, target_id = leaver(emu)
    cycle = run(provisioned.job)
    assert emu.control.get_salesforce_user(id=target_id)["IsActive"] is True
    assert emu.control.access_of(target_id)["frozen"] is True
    entry = ProvisioningLogEntry.objects.get(cycle=cycle, source_id=source_id)
    assert any(s["name"] == "EntryExportAccess" and "was frozen" in s["description"] for s in entry.steps)
    assert AccessGrant.objects.filter(source_id=source_id, kind="frozen").exists()
    emu.control.reset_counters()
    quiet = run(provisioned.job, kind="initial")  # still out of scope: nothing more to do
    assert emu.control.counters()["writes"]["salesforce"] == 0 and quiet.failed == 0
    emu.control.enable_entra_user(source_id)
    back = run(provisioned.job, kind="initial")
    assert emu.control.access_of(target_id)["frozen"] is False
    steps = ProvisioningLogEntry.objects.get(cycle=back, source_id=source_id).steps
    assert any(s["name"] == "EntryExportAccess" and "was unfrozen" in s["description"] for s in steps)


def test_freeze_before_deactivating(provisioned, emu):
    AccessSettings.objects.filter(application=provisioned).update(freeze_leavers=FreezeLeavers.BEFORE)
    _, target_id = leaver(emu)
    run(provisioned.job)
    assert emu.control.get_salesforce_user(id=target_id)["IsActive"] is False
    assert emu.control.access_of(target_id)["frozen"] is True


def test_dry_run_shows_the_freeze_and_sends_nothing(provisioned, emu):
    AccessSettings.objects.filter(application=provisioned).update(freeze_leavers=FreezeLeavers.BEFORE)
    source_id, target_id = leaver(emu)
    cycle = run(provisioned.job, dry_run=True)
    assert emu.control.access_of(target_id)["frozen"] is False
    entry = ProvisioningLogEntry.objects.get(cycle=cycle, source_id=source_id)
    assert any("would be frozen" in s["description"] for s in entry.steps)
