"""Running cycles: the django-q2 task functions, and `run_cycle()`, which every way of running a cycle in a process
goes through (the worker's tasks, `manage.py provisioning sync-now --foreground` and dry-run, the benchmark).

run_cycle claims the job (engine/lock.py: at most one cycle per job, however many workers), runs the engine
(engine/cycle.py), hands the CycleOutcome to after_cycle (quarantine, held deletions, emails) while it still
holds the claim, releases it, and only then sends the emails. Queueing cycles is provisioning/scheduling.py's.
Arguments are primary keys only (django-q2 pickles and stores task arguments).
"""

from __future__ import annotations

import logging

from connections.clients.graph import GraphClient
from provisioning.engine import lock
from provisioning.engine.cycle import run_claimed_cycle
from provisioning.engine.writer import SalesforceWriter
from provisioning.models import CycleTrigger, ProvisioningCycle, ProvisioningJob
from provisioning.operations import after_cycle, api_limit, quarantine

logger = logging.getLogger(__name__)


def run_cycle(
    job_pk: int,
    kind: str | None = None,
    *,
    trigger: str = CycleTrigger.SCHEDULE,
    dry_run: bool = False,
    salesforce_client: SalesforceWriter | None = None,
    graph_client: GraphClient | None = None,
) -> ProvisioningCycle | None:
    """Run one cycle of the job now, in this process, and react to it. None when another cycle holds the job."""
    owner = lock.worker_identity()
    if not lock.claim(job_pk, owner):
        logger.info("Job %s: a cycle is already running; this one is skipped", job_pk)
        return None
    mails: list[after_cycle.Mail] = []
    keeper = lock.ClaimKeeper(job_pk, owner).start()  # renews the claim and the heartbeat during long pages
    try:
        outcome = run_claimed_cycle(
            job_pk,
            owner,
            kind,
            trigger=trigger,
            dry_run=dry_run,
            salesforce_client=salesforce_client,
            graph_client=graph_client,
            keeper=keeper,
        )
        if not keeper.lost.is_set():  # a worker that lost the job to another reacts to nothing
            mails = after_cycle.after_cycle(outcome)
    finally:
        keeper.stop()
        lock.release(job_pk, owner)
    after_cycle.send(mails)  # after the release: a slow mail server holds up no cycle
    return outcome.cycle


def run_scheduled_cycle(job_pk: int) -> str:
    """The schedule's task: an initial or incremental cycle, only while Provisioning Status is On."""
    job = (
        ProvisioningJob.objects.filter(pk=job_pk).only("enabled", "api_limit_paused_at", "api_limit_next_check").first()
    )
    if job is None or not job.enabled:
        return "skipped: provisioning is off"
    waiting = quarantine.wait_reason(job_pk) or api_limit.wait_reason(job)
    if waiting:
        return waiting
    return _summary(run_cycle(job_pk, trigger=CycleTrigger.SCHEDULE))


def run_cycle_task(
    job_pk: int, kind: str | None = None, trigger: str = CycleTrigger.SYNC_NOW, dry_run: bool = False
) -> str:
    """Sync now / Restart / dry run: one cycle at once, whatever the schedule."""
    return _summary(run_cycle(job_pk, kind, trigger=trigger, dry_run=dry_run))


def check_api_limit(job_pk: int) -> str:
    """The schedule of a job paused by Salesforce's daily API limit: read the Limits resource, resume when it allows."""
    resume, said = api_limit.check(job_pk)
    if not resume:
        return f"still paused: {said}"
    return _summary(run_cycle(job_pk, trigger=CycleTrigger.API_LIMIT))


def _summary(cycle: ProvisioningCycle | None) -> str:
    if cycle is None:
        return "skipped: another cycle of this job is running"
    counts = ", ".join(f"{name} {value}" for name, value in cycle.counters().items())
    return f"{cycle.get_kind_display()} cycle {cycle.cycle_id}: {cycle.get_status_display()} ({counts})"
