"""A cycle's lifecycle: the one context manager that runs a cycle, the one table that says how an exception ends
it, and the CycleOutcome it hands to whatever reacts to the cycle.

Scheduled cycles, Sync now, Restart, dry runs (engine/cycle.py) and provision on demand
(operations/on_demand.py) all run inside `running_cycle()`: it creates the ProvisioningCycle row, starts it, and
finishes it when the block ends: in a terminal state chosen by ENDINGS when an exception escaped (the exception is
then swallowed: the cycle row says what happened), else Completed, or Completed with errors when users failed.
`run.outcome` then holds the CycleOutcome; provisioning/operations/after_cycle.py reacts to it (quarantine,
held-deletion bookkeeping, emails, the schedule). The engine never calls that itself.

A new way for a cycle to end is one row in ENDINGS: an exception class with its status, code, message and
recommendation (the most specific class first).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from connections.clients.errors import RemoteError, RequestLimitExceeded, StopError, TransientError
from mappings.compiled import InvalidMappingError
from provisioning.engine.context import FailureTally
from provisioning.engine.deletion_hold import DeletionHold
from provisioning.engine.lock import ClaimLost
from provisioning.models import CycleStatus, ProvisioningCycle, ProvisioningJob

logger = logging.getLogger(__name__)


class CyclePaused(Exception):
    """Provisioning Status was switched Off: stop after the current page."""


class WorkerLost(Exception):
    """The worker running a cycle died; the next claim of the job finds the cycle still "running"."""


Text = str | Callable[[BaseException], str]


@dataclass(frozen=True)
class Ending:
    """How an exception ends a cycle. `code`, `message` and `recommendation` are text or read the exception."""

    status: CycleStatus
    code: Text = ""
    message: Text = ""
    recommendation: Text = ""
    unexpected: bool = False  # logged with its traceback: a bug or an outage nothing else names

    def fields(self, exc: BaseException) -> dict[str, str]:
        """The error fields of ProvisioningCycle.finish() for `exc`."""

        def text(value: Text) -> str:
            return value(exc) if callable(value) else value

        message = " ".join(part for part in (text(self.message), text(self.recommendation)) if part)
        request = exc.request if isinstance(exc, RemoteError) else ""
        return {"error_code": text(self.code), "error_message": message, "error_request": request}


def _type_name(exc: BaseException) -> str:
    return type(exc).__name__


def _code(exc: RemoteError) -> str:
    return exc.code


def _message(exc: RemoteError) -> str:
    return exc.message


def _recommendation(exc: RemoteError) -> str:
    return exc.recommendation


def _api_limit_message(exc: RequestLimitExceeded) -> str:
    usage = f" ({exc.usage[0]:,} of {exc.usage[1]:,} requests used)" if exc.usage else ""
    return f"Paused: Salesforce's daily API allowance of this org is used up{usage}."


ENDINGS: tuple[tuple[type[BaseException], Ending], ...] = (
    (CyclePaused, Ending(CycleStatus.PAUSED, message="Provisioning was turned off; the cycle stopped after a page.")),
    # The org's rolling 24-hour allowance: nothing is wrong with the job, so no quarantine; what was exported stays,
    # and the cycle resumes once the Limits resource shows the allowance back (operations/api_limit.py).
    (
        RequestLimitExceeded,
        Ending(
            CycleStatus.PAUSED,
            "REQUEST_LIMIT_EXCEEDED",
            _api_limit_message,
            "It resumes by itself when Salesforce's Limits resource shows requests available again.",
        ),
    ),
    (
        InvalidMappingError,
        Ending(
            CycleStatus.FAILED,
            "InvalidAttributeMapping",
            lambda exc: f"The attribute mapping of {exc.target_attribute} cannot be used: {exc.message}.",
            "Fix it under Mappings.",
        ),
    ),
    # A read outside any page (Graph paging) kept failing: the next cycle starts over.
    (
        TransientError,
        Ending(CycleStatus.FAILED, _code, _message, "The next cycle starts again from the last watermark."),
    ),
    # Credentials, permissions, API limit: quarantine reacts to these (CycleOutcome.stop_error).
    (StopError, Ending(CycleStatus.FAILED, _code, _message, _recommendation)),
    (ClaimLost, Ending(CycleStatus.CRASHED, "ClaimLost", "Another worker took over the job.")),
    (
        WorkerLost,
        Ending(
            CycleStatus.CRASHED,
            "WorkerLost",
            "The worker running this cycle stopped before finishing;",
            "the next cycle picks up where it left off (nothing exported was lost, nothing is created twice).",
        ),
    ),
    # Any other remote error that reached this far (a service principal not found, a request refused): the
    # cycle cannot go on, and the error says what to check.
    (RemoteError, Ending(CycleStatus.FAILED, _code, _message, _recommendation, unexpected=True)),
    (Exception, Ending(CycleStatus.CRASHED, _type_name, lambda exc: f"{_type_name(exc)}: {exc}", unexpected=True)),
)


def ending_for(exc: BaseException) -> Ending:
    return next(ending for kind, ending in ENDINGS if isinstance(exc, kind))


@dataclass(frozen=True)
class HeldDeletions:
    """Deactivations Prevent accidental deletions held back: more than the threshold in one cycle."""

    count: int
    threshold: int


@dataclass(frozen=True)
class CycleOutcome:
    """What a finished cycle tells whatever reacts to it (provisioning/operations/after_cycle.py)."""

    cycle: ProvisioningCycle
    status: CycleStatus
    counters: dict[str, int]
    stop_error: StopError | None  # why a Failed cycle stopped, when it was a stop-class error
    api_limit: RequestLimitExceeded | None  # the org's daily API allowance paused the cycle
    held_deletions: HeldDeletions | None  # deactivations held back over the threshold, None when none were
    deletion_hold_applied: bool  # False when deactivations ran unchecked (setting off, or Allow deletes)
    failures_worth_mailing: bool  # failures not reported before (not only escrowed users failing again)


@dataclass
class CycleRun:
    """A cycle while its block runs: the row, plus what the code running it reports for the outcome."""

    cycle: ProvisioningCycle
    message: str = ""  # said by a cycle that completes (e.g. "the user mapping is disabled")
    code: str = ""  # the code of what a cycle that completes says (IMPORT_INCOMPLETE: Completed with errors)
    deletion_hold: DeletionHold | None = None
    failures: FailureTally = field(default_factory=FailureTally)
    stop_error: StopError | None = None
    api_limit: RequestLimitExceeded | None = None
    outcome: CycleOutcome | None = None

    def finish(self, exc: BaseException | None) -> CycleOutcome:
        cycle = self.cycle
        if exc is None:
            cycle.finish(
                CycleStatus.COMPLETED_WITH_ERRORS if cycle.failed or self.code else CycleStatus.SUCCEEDED,
                error_code=self.code,
                error_message=self.message,
            )
        else:
            ending = ending_for(exc)
            if ending.unexpected:
                logger.error("Job %s: cycle %s stopped unexpectedly", cycle.job_id, cycle.cycle_id, exc_info=exc)
            self.stop_error = exc if isinstance(exc, StopError) else None
            self.api_limit = exc if isinstance(exc, RequestLimitExceeded) else None
            cycle.finish(ending.status, **ending.fields(exc))
        hold = self.deletion_hold
        self.outcome = CycleOutcome(
            cycle=cycle,
            status=CycleStatus(cycle.status),
            counters=cycle.counters(),
            stop_error=self.stop_error,
            api_limit=self.api_limit,
            held_deletions=HeldDeletions(hold.count, hold.threshold) if hold is not None and hold.exceeded else None,
            deletion_hold_applied=hold is not None and hold.threshold is not None,
            failures_worth_mailing=bool(cycle.failed) and (self.failures.new > 0 or self.failures.retried == 0),
        )
        return self.outcome


@contextmanager
def running_cycle(
    job: ProvisioningJob, *, kind: str, trigger: str, worker: str, mapping_version: int, dry_run: bool = False
) -> Iterator[CycleRun]:
    """Create and start a cycle of `job`, run the block, finish the cycle; `run.outcome` says how it ended."""
    cycle = ProvisioningCycle.objects.create(
        job=job, kind=kind, trigger=trigger, dry_run=dry_run, mapping_version=mapping_version
    )
    cycle.start(worker=worker)
    run = CycleRun(cycle)
    try:
        yield run
    except Exception as exc:
        run.finish(exc)
    else:
        run.finish(None)


def recover_crashed_cycles(
    job_pk: int, keep: int | None = None, *, worker: str | None = None
) -> list[ProvisioningCycle]:
    """Cycles left "running" by a dead worker end as crashed (called while holding the job's claim, or by the
    watchdog for the cycles of one lapsed claim's `worker`); returns those it ended."""
    stale = ProvisioningCycle.objects.filter(job_id=job_pk, status=CycleStatus.RUNNING).exclude(pk=keep)
    if worker is not None:
        stale = stale.filter(worker=worker)
    lost = WorkerLost()
    ending = ending_for(lost)
    ended = []
    for cycle in stale:
        if cycle.finish(ending.status, **ending.fields(lost)):
            ended.append(cycle)
    return ended
