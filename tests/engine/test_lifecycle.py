"""A cycle row has a lifecycle: start(), then finish() with a terminal status only."""

import pytest

from provisioning.models import CycleKind, CycleStatus, ProvisioningCycle, ProvisioningLogEntry


@pytest.fixture
def cycle(application):
    return ProvisioningCycle.objects.create(job=application.job, kind=CycleKind.INITIAL)


def test_start_then_finish_records_times_and_status(cycle):
    cycle.start(worker="host:1:x")
    assert cycle.status == CycleStatus.RUNNING and cycle.started_at is not None
    cycle.created = 3
    cycle.finish(CycleStatus.COMPLETED_WITH_ERRORS)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.COMPLETED_WITH_ERRORS
    assert cycle.finished_at >= cycle.started_at
    assert cycle.created == 3


@pytest.mark.parametrize("status", [CycleStatus.PENDING, CycleStatus.RUNNING])
def test_finish_refuses_a_non_terminal_status(cycle, status):
    cycle.start()
    with pytest.raises(ValueError, match="not a terminal"):
        cycle.finish(status)


def test_a_finished_cycle_cannot_finish_again_or_restart(cycle):
    cycle.start()
    cycle.finish(CycleStatus.CRASHED, error_message="worker lost")
    with pytest.raises(ValueError):
        cycle.finish(CycleStatus.SUCCEEDED)
    with pytest.raises(ValueError):
        cycle.start()


def test_completed_with_errors_and_crashed_are_distinct_with_their_own_badges():
    assert CycleStatus.COMPLETED_WITH_ERRORS.colour == "amber"
    assert CycleStatus.CRASHED.colour == "red"
    assert CycleStatus.COMPLETED_WITH_ERRORS.label != CycleStatus.CRASHED.label
    assert set(CycleStatus.colours()) == set(CycleStatus.values)


def test_log_entries_cannot_be_edited(cycle):
    entry = ProvisioningLogEntry.objects.create(job=cycle.job, cycle=cycle, action="create", status="success")
    entry.error_reason = "changed"
    with pytest.raises(ValueError, match="never edited"):
        entry.save()
