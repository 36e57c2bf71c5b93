"""A cycle row has a lifecycle: start(), then finish() with a terminal status only; running_cycle() ends every kind
of cycle the same way, by one table from exception to status, code and message."""

import pytest

from connections.clients.errors import StopError, TransientError
from mappings.compiled import InvalidMappingError
from provisioning.engine.lifecycle import ClaimLost, CyclePaused, running_cycle
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


def test_finish_cuts_the_error_fields_to_their_columns(cycle):
    cycle.start()
    cycle.finish(CycleStatus.FAILED, error_code="X" * 150, error_message="m" * 5000, error_request="GET " + "p" * 900)
    cycle.refresh_from_db()
    assert cycle.error_code == "X" * 100
    assert len(cycle.error_request) == 500 and cycle.error_request.startswith("GET ppp")
    assert cycle.error_message == "m" * 5000  # a text column keeps it all


def _run(job, exc=None, **kwargs):
    with running_cycle(job, kind=CycleKind.ON_DEMAND, trigger="on_demand", worker="test", mapping_version=1) as run:
        if exc is not None:
            raise exc
    run.cycle.refresh_from_db()
    return run


def test_a_stop_error_fails_the_cycle_with_what_to_do_and_is_in_the_outcome(application):
    error = StopError("Salesforce refused the sign-in.", code="INVALID_LOGIN", recommendation="Check the token.",
                      request="POST https://test.salesforce.com/services/Soap/u/59.0")  # fmt: skip
    run = _run(application.job, error)
    assert run.cycle.status == CycleStatus.FAILED and run.cycle.error_code == "INVALID_LOGIN"
    assert run.cycle.error_message == "Salesforce refused the sign-in. Check the token."
    assert run.cycle.error_request == "POST https://test.salesforce.com/services/Soap/u/59.0"
    assert run.outcome.status == CycleStatus.FAILED and run.outcome.stop_error is error


@pytest.mark.parametrize(
    ("exc", "status", "code", "message"),
    [
        (CyclePaused(), CycleStatus.PAUSED, "", "Provisioning was turned off; the cycle stopped after a page."),
        (
            InvalidMappingError("ProfileName", "unknown function Foo"),
            CycleStatus.FAILED,
            "InvalidAttributeMapping",
            "The attribute mapping of ProfileName cannot be used: unknown function Foo. Fix it under Mappings.",
        ),
        (
            TransientError("Graph did not answer.", code="HTTP_503"),
            CycleStatus.FAILED,
            "HTTP_503",
            "Graph did not answer. The next cycle starts again from the last watermark.",
        ),
        (ClaimLost(), CycleStatus.CRASHED, "ClaimLost", "Another worker took over the job."),
        (KeyError("boom"), CycleStatus.CRASHED, "KeyError", "KeyError: 'boom'"),
    ],
)
def test_each_way_a_cycle_ends_has_its_status_code_and_message(application, exc, status, code, message):
    run = _run(application.job, exc)
    assert (run.cycle.status, run.cycle.error_code, run.cycle.error_message) == (status, code, message)
    assert run.outcome.status == status and run.outcome.stop_error is None


def test_a_block_that_ends_normally_completes_and_says_its_message(application):
    with running_cycle(
        application.job, kind=CycleKind.ON_DEMAND, trigger="on_demand", worker="t", mapping_version=1
    ) as run:
        run.message = "The user mapping is disabled: nothing to do."
    assert run.cycle.status == CycleStatus.SUCCEEDED and run.cycle.error_message == run.message
    assert run.outcome.held_deletions is None and not run.outcome.failures_worth_mailing
