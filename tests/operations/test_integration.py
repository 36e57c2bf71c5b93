"""Operations on a real qcluster process against the emulators, mail to a real SMTP server."""

from __future__ import annotations

import os

import pytest
from django_q.conf import Conf

from provisioning import scheduling
from provisioning.models import CycleStatus, ProvisioningCycle, ProvisioningJob
from provisioning.operations import quarantine
from tests.engine.cluster import Cluster, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
BROKERS = ["orm"] + (["redis"] if os.environ.get("CI_REDIS_URL") else [])


@pytest.fixture(params=BROKERS)
def cluster(request, notifying_app, smtp_server, monkeypatch):
    name = f"operations-test-{os.getpid()}"
    redis_url = os.environ["CI_REDIS_URL"] if request.param == "redis" else ""
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    if redis_url:
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", redis_url)
    running = Cluster(cluster_name=name, redis_url=redis_url)
    running.env.update(
        DJANGO_SETTINGS_MODULE="tests.operations.cluster_settings",
        EMAIL_HOST=smtp_server.host,
        EMAIL_PORT=str(smtp_server.port),
    )
    running.start()
    yield running
    running.stop()


def finished_after(job, after: int, cluster) -> ProvisioningCycle:
    try:
        return wait_for(
            lambda: ProvisioningCycle.objects.filter(job=job, pk__gt=after, finished_at__isnull=False).first(),
            60,
            message="a finished cycle",
        )
    except AssertionError:
        raise AssertionError(f"No cycle finished. qcluster said:\n{cluster.output()}") from None


def test_on_a_real_cluster_bad_credentials_quarantine_mail_once_and_a_good_cycle_ends_it(
    notifying_app, emu, smtp_server, cluster
):
    job = notifying_app.job
    emu.control.reject_logins("INVALID_LOGIN")
    scheduling.sync_now(job)
    first = finished_after(job, 0, cluster)
    assert first.status == CycleStatus.FAILED
    wait_for(lambda: ProvisioningJob.objects.get(pk=job.pk).is_quarantined, 10, message="quarantine")
    wait_for(lambda: smtp_server.messages, 10, message="the quarantine mail")
    job.refresh_from_db()
    assert job.quarantine_reason == quarantine.CREDENTIALS and "/services/Soap/" in job.quarantine_request

    scheduling.sync_now(job)
    second = finished_after(job, first.pk, cluster)
    assert second.status == CycleStatus.FAILED
    wait_for(lambda: ProvisioningJob.objects.get(pk=job.pk).quarantine_series_count == 2, 10, message="2nd attempt")

    emu.control.reject_logins(None)
    scheduling.sync_now(job)
    third = finished_after(job, second.pk, cluster)
    assert third.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS)
    wait_for(lambda: not ProvisioningJob.objects.get(pk=job.pk).is_quarantined, 10, message="quarantine to end")
    subjects = [m.message["Subject"] for m in smtp_server.messages]
    assert sum("quarantined" in s for s in subjects) == 1, subjects


def test_on_a_real_cluster_a_dry_run_sends_no_write(notifying_app, emu, cluster):
    job = notifying_app.job
    emu.control.reset_counters()
    scheduling.enqueue_cycle(job, dry_run=True)
    cycle = finished_after(job, 0, cluster)
    assert cycle.dry_run and cycle.created > 0
    assert emu.control.counters()["writes"]["salesforce"] == 0
    assert cycle.log_entries.filter(dry_run=True, action="create").count() == cycle.created


def test_on_a_real_cluster_deletions_over_the_threshold_are_held_mailed_once_and_allowed(
    notifying_app, emu, smtp_server, cluster
):
    from provisioning.models import ProvisionedLink
    from provisioning.operations import deletions

    job = notifying_app.job
    ProvisioningJob.objects.filter(pk=job.pk).update(prevent_accidental_deletions=True, deletion_threshold=3)
    scheduling.sync_now(job)
    first = finished_after(job, 0, cluster)
    victims = []
    for link in ProvisionedLink.objects.filter(job=job, active=True).exclude(target_id="").order_by("pk"):
        user = emu.control.get_entra_user(link.source_id)
        if [a["principalId"] for a in user["appRoleAssignments"]] == [user["id"]]:
            victims.append(link.target_id)
            emu.control.unassign(user["id"])
        if len(victims) == 5:
            break

    scheduling.sync_now(job)
    holding = finished_after(job, first.pk, cluster)
    assert holding.staged == 5 and holding.disabled == 0
    wait_for(lambda: held_mails(smtp_server), 10, message="the held-deletions mail")
    job.refresh_from_db()
    assert job.quarantine_reason == quarantine.TOO_MANY_DELETES and job.held_deletions_cycle_id == holding.pk
    assert all(emu.control.get_salesforce_user(id=v)["IsActive"] for v in victims)

    assert deletions.allow_deletes(job) == 5  # queues the cycle that deactivates them
    allowed = finished_after(job, holding.pk, cluster)
    assert allowed.disabled == 5 and allowed.staged == 0
    assert not any(emu.control.get_salesforce_user(id=v)["IsActive"] for v in victims)
    wait_for(lambda: not ProvisioningJob.objects.get(pk=job.pk).is_quarantined, 10, message="quarantine to end")
    assert len(held_mails(smtp_server)) == 1


def held_mails(mailbox):
    return [m for m in mailbox.messages if "deactivations held" in m.message["Subject"]]
