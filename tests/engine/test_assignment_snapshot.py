"""Cycles and the stored assignment snapshot: a cycle reads the assignments in full, stores them for the Users and
groups page and provisions from that very read; a read that fails ends the cycle, keeps the snapshot and
deprovisions nobody."""

from __future__ import annotations

import pytest

from mappings.directory.models import AssignmentSnapshot, SnapshotAssignment, SnapshotSource
from mappings.directory.snapshot import StoredAssignments
from provisioning.models import CycleStatus, ProvisionedLink
from provisioning.tasks import run_cycle

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cycle_stores_the_assignments_it_provisions_from(configured_app, emu):
    cycle = run_cycle(configured_app.job.pk)
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), cycle.error_message
    snapshot = AssignmentSnapshot.objects.get(application=configured_app)
    assert snapshot.refreshed_by == SnapshotSource.CYCLE and snapshot.refreshed_at >= cycle.started_at
    provisioned = set(ProvisionedLink.objects.filter(job=configured_app.job).values_list("source_id", flat=True))
    assert set(StoredAssignments(configured_app).roles_by_user()) <= provisioned
    emu.control.unassign("Sales Team")
    run_cycle(configured_app.job.pk)
    assert not SnapshotAssignment.objects.filter(application=configured_app, display_name="Sales Team").exists()


def test_a_cycle_whose_assignment_read_fails_keeps_the_snapshot_and_deprovisions_nobody(configured_app, emu):
    run_cycle(configured_app.job.pk)
    before = SnapshotAssignment.objects.filter(application=configured_app).count()
    active = ProvisionedLink.objects.filter(job=configured_app.job, active=True).count()
    configured_app.job.retry_budget_minutes = 0  # no retries: Graph keeps failing, the test need not wait for it
    configured_app.job.save(update_fields=["retry_budget_minutes"])
    emu.control.set_fault_rates("entra", rate_500=1.0)
    failed = run_cycle(configured_app.job.pk)
    emu.control.set_fault_rates("entra")
    assert failed.status == CycleStatus.FAILED
    assert SnapshotAssignment.objects.filter(application=configured_app).count() == before
    assert AssignmentSnapshot.objects.get(application=configured_app).error
    assert ProvisionedLink.objects.filter(job=configured_app.job, active=True).count() == active
