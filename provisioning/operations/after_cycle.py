"""What reacts to a finished cycle: one step, `after_cycle(outcome)`, run by provisioning/tasks.py while it still
holds the job's claim, never by the engine itself.

From the CycleOutcome (engine/lifecycle.py) alone it decides:
- held deletions: the job points at the holding cycle, an Allow deletes answer is used up (deletions.py);
- the pause for Salesforce's daily API limit: started by a cycle it stopped, ended by any other (api_limit.py);
- quarantine: entered after a stop-class error (bad credentials, API limit), a cycle over the accidental deletion
  threshold, more than 40 % failures or 40,000 escrowed users; left after a good cycle (quarantine.py), and the
  schedule switched off after four weeks of it;
- the emails: on entering quarantine (or a change of its reason), on held deletions, and a digest when a cycle
  has failures not reported before (emails.py).
Escrow back-off is decided per user by the engine as it records the failure (engine/escrow.py), so the log entry
can say when the next attempt is; the total escrow threshold is quarantine's.

The emails are returned, not sent: the caller sends them (`send()`) once the claim is released, so a slow mail
server (up to EMAIL_TIMEOUT per message) never keeps the next cycle waiting. Dry runs and provision on demand
change nothing here. A failure here is logged and never raised: the cycle has already been recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial

from provisioning.engine.lifecycle import CycleOutcome
from provisioning.engine.organization import ORG_CHANGED
from provisioning.models import CycleKind, CycleStatus, ProvisioningJob
from provisioning.operations import api_limit, deletions, emails, quarantine

logger = logging.getLogger(__name__)
Mail = Callable[[], object]


def after_cycle(outcome: CycleOutcome) -> list[Mail]:
    """React to a finished cycle; returns the emails to send once the job's claim is released."""
    mails: list[Mail] = []
    try:
        _react(outcome, mails)
    except Exception:
        logger.exception("Operations after cycle %s failed", outcome.cycle.cycle_id)
    return mails


def send(mails: Sequence[Mail]) -> None:
    """Send what after_cycle() returned; one failing email neither stops the others nor raises."""
    for mail in mails:
        try:
            mail()
        except Exception:
            logger.exception("A provisioning notification could not be sent")


def _react(outcome: CycleOutcome, mails: list[Mail]) -> None:
    cycle = outcome.cycle
    if cycle.dry_run or cycle.kind == CycleKind.ON_DEMAND:
        return
    job = ProvisioningJob.objects.select_related("application__salesforce").get(pk=cycle.job_id)
    if outcome.stop_error is not None and outcome.stop_error.code == ORG_CHANGED:
        # Not a quarantine: nothing is retried until an administrator chooses Re-match after refresh. Mailed once,
        # by the cycle that found the new org.
        changed_at = job.application.salesforce.organization_changed_at
        if changed_at is not None and cycle.started_at is not None and changed_at >= cycle.started_at:
            mails.append(partial(emails.notify_org_changed, job, cycle))
        return
    if outcome.api_limit is not None:  # paused, not failed: no quarantine, resumed by api_limit's schedule
        api_limit.pause(job, outcome.api_limit)
        return
    if job.api_limit_paused_at is not None and outcome.status != CycleStatus.CRASHED:
        api_limit.clear(job)
    if outcome.status == CycleStatus.FAILED and outcome.stop_error is not None:
        error = outcome.stop_error
        trouble = quarantine.Trouble(quarantine.CREDENTIALS, error.full_message, error.request)
    elif outcome.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS):
        deletions.record_outcome(job, outcome)
        held = outcome.held_deletions
        if held is not None:
            trouble = quarantine.Trouble(
                quarantine.TOO_MANY_DELETES,
                f"{held.count} deactivations held: more than the accidental deletion threshold ({held.threshold}). "
                "Allow deletes or Reject deletes on the Overview.",
            )
        else:
            trouble = quarantine.failure_ratio_trouble(job, cycle)
        if trouble is None:
            quarantine.leave(job)
            if outcome.failures_worth_mailing:
                mails.append(partial(emails.notify_failures, job, cycle))
            return
    else:
        return  # paused, crashed, or stopped by something quarantine does not fix (a broken mapping)
    if quarantine.enter(job, trouble):
        job.refresh_from_db()
        if outcome.held_deletions is not None and trouble.reason == quarantine.TOO_MANY_DELETES:
            mails.append(partial(emails.notify_deletions_held, job, cycle, outcome.held_deletions.count))
        else:
            mails.append(partial(emails.notify_quarantine, job, cycle))
