"""Manager: ManagerId from Entra's manager, resolved to the Salesforce user the console linked for that manager;
a manager created in the same cycle is found; one not provisioned is a warning, retried, never a failure."""

from __future__ import annotations

import pytest

from mappings.access.models import AccessSettings
from provisioning.models import AccessGrant, CycleStatus, LogStatus, ProvisionedLink, ProvisioningLogEntry
from tests.access.test_reconcile import run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def with_manager(configured_app):
    AccessSettings.objects.filter(application=configured_app).update(sync_manager=True)
    return configured_app


def linked(source_id):
    link = ProvisionedLink.objects.filter(source_id=source_id).exclude(target_id="").first()
    return link.target_id if link else None


def reports(emu):
    """(user, manager) Entra ids where both are provisioned by the initial cycle."""
    state = emu.control._entra.state
    return [(u, m) for u, m in state.managers.items() if linked(u) and linked(m)]


def test_the_initial_cycle_sets_each_managers_salesforce_user(with_manager, emu):
    cycle = run(with_manager.job)
    pairs = reports(emu)
    assert pairs, "the seed gives most users a manager"
    for user, manager in pairs:
        record = emu.control.get_salesforce_user(id=linked(user))
        assert record["ManagerId"] == linked(manager), user
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS)
    emu.control.reset_counters()
    again = run(with_manager.job, kind="initial")
    assert emu.control.counters()["writes"]["salesforce"] == 0 and again.updated == 0


def test_a_manager_not_provisioned_is_a_warning_and_is_picked_up_later(with_manager, emu):
    run(with_manager.job)
    (user, _), *_ = reports(emu)
    outsider = emu.control.create_entra_user(
        userPrincipalName="new.boss@contoso.onmicrosoft.com",
        displayName="New Boss",
        givenName="New",
        surname="Boss",
        mail="new.boss@contoso.com",
    )["id"]
    emu.control.update_entra_user(user, jobTitle="Moved", manager=outsider)  # not assigned to the application
    cycle = run(with_manager.job)
    entry = ProvisioningLogEntry.objects.get(cycle=cycle, source_id=user)
    assert entry.status == LogStatus.WARNING and "manager" in entry.error_reason and cycle.failed == 0
    assert AccessGrant.objects.filter(source_id=user, kind="manager_pending").exists()
    before = emu.control.get_salesforce_user(id=linked(user))["ManagerId"]
    assert before != linked(outsider)  # left as it was
    # the manager is assigned: the next (incremental) cycle creates them and sets the report's ManagerId
    emu.control.assign(outsider, "Standard User")
    run(with_manager.job)
    assert linked(outsider) and emu.control.get_salesforce_user(id=linked(user))["ManagerId"] == linked(outsider)
    assert not AccessGrant.objects.filter(source_id=user, kind="manager_pending").exists()


def test_a_manager_created_later_in_the_same_cycle_is_found(with_manager, emu):
    run(with_manager.job)
    (user, manager), *_ = reports(emu)
    ProvisionedLink.objects.filter(source_id=manager).delete()  # the manager is matched again in the next cycle
    emu.control.update_entra_user(user, jobTitle="Moved")
    emu.control.update_entra_user(manager, jobTitle="Lead")  # in the delta after the report, on a page of its own
    emu.entra_app.users.delta_page_size = 1
    try:
        cycle = run(with_manager.job)
    finally:
        emu.entra_app.users.delta_page_size = 200
    assert emu.control.get_salesforce_user(id=linked(user))["ManagerId"] == linked(manager)
    updates = ProvisioningLogEntry.objects.filter(cycle=cycle, source_id=user, status=LogStatus.SUCCESS)
    assert any(p["displayName"] == "ManagerId" for e in updates for p in e.modified_properties)


def test_no_manager_in_entra_clears_only_a_manager_the_console_set(with_manager, emu):
    state = emu.control._entra.state
    run(with_manager.job)
    (user, _), *_ = reports(emu)
    state.managers.pop(user)
    emu.control.update_entra_user(user, jobTitle="Independent")
    run(with_manager.job)
    assert emu.control.get_salesforce_user(id=linked(user))["ManagerId"] is None
