"""Workers killed mid-cycle and workers racing, on real qcluster processes against emulators seeded for the test.

- A qcluster SIGKILLed (sentinel, monitor and workers alike) at three random points of an initial cycle: the watchdog
  schedule of a second running qcluster marks the cycle crashed and that qcluster takes the job over, within two
  minutes of the kill; in the end no Salesforce user exists twice and every assigned user is there with the right
  attributes. TAKEOVER_TEST_USERS sets the tenant size (default 2,000, so that CI stays quick: each kill waits for
  the watchdog, up to two minutes); `TAKEOVER_TEST_USERS=20000` is the full-size run.
- Two qclusters on Redis and PostgreSQL (CI_REDIS_URL, a postgres DATABASE_URL) given a burst of cycles of one
  application never run two of them at once.
"""

from __future__ import annotations

import os
import random
import time
from datetime import timedelta

import pytest
from django.db import connection
from django_q.conf import Conf
from django_q.models import Schedule, Task

from emulators import running_emulators
from provisioning import scheduling, watchdog
from provisioning.applications import point_at_emulators
from provisioning.models import CycleStatus, CycleTrigger, ProvisionedLink, ProvisioningCycle, ProvisioningJob
from tests.engine.cluster import Cluster, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

USERS = int(os.environ.get("TAKEOVER_TEST_USERS", "2000"))
KILLS = 3
TAKEOVER_BOUND = timedelta(minutes=2)


@pytest.fixture(scope="module")
def big_emu():
    with running_emulators(seed=USERS) as emu:
        yield emu


@pytest.fixture
def app(application, big_emu):
    big_emu.control.reset()
    point_at_emulators(application, big_emu.info)
    job = application.job
    job.enabled = True
    job.interval_minutes = 24 * 60  # only the cycles this test asks for, and the takeovers
    job.save(update_fields=["enabled", "interval_minutes"])
    watchdog.ensure_watchdog_schedule()  # transactional tests flush the one migrate created
    yield application
    big_emu.control.reset()


def two_clusters(monkeypatch, broker: str, workers: int = 1) -> tuple[Cluster, Cluster]:
    name = f"takeover-test-{os.getpid()}"
    redis_url = os.environ["CI_REDIS_URL"] if broker == "redis" else ""
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    if redis_url:
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", redis_url)
    # A cluster with a name of its own runs only the schedules named for it (production's runs those of no name).
    Schedule.objects.filter(name=watchdog.SCHEDULE_NAME).update(cluster=name)
    return (
        Cluster(cluster_name=name, redis_url=redis_url, workers=workers),
        Cluster(cluster_name=name, redis_url=redis_url, workers=workers),
    )


def running_cycle_of(job) -> ProvisioningCycle | None:
    return ProvisioningCycle.objects.filter(job=job, status=CycleStatus.RUNNING).order_by("-pk").first()


def cluster_running(cycle: ProvisioningCycle, clusters: list[Cluster]) -> Cluster:
    """The cluster whose worker process runs `cycle` (its worker field is host:pid:nonce)."""
    pid = int(cycle.worker.split(":")[1])
    for cluster in clusters:
        if cluster.process and cluster.process.poll() is None and os.getpgid(pid) == cluster.process.pid:
            return cluster
    raise AssertionError(f"no running cluster owns worker {cycle.worker}")


@pytest.mark.parametrize("broker", ["orm"])
def test_a_cluster_killed_three_times_mid_cycle_is_taken_over_by_the_other_without_duplicates_or_lost_users(
    app, big_emu, monkeypatch, broker
):
    job = app.job
    first, second = two_clusters(monkeypatch, broker)
    clusters = [first.start(), second.start()]
    big_emu.control.set_latency(300, "salesforce")  # a cycle long enough to be killed in
    rng = random.Random(int(os.environ.get("TAKEOVER_TEST_SEED", "0")) or None)
    kills = []
    try:
        scheduling.enqueue_cycle(job, trigger=CycleTrigger.SYNC_NOW)
        for _ in range(KILLS):
            cycle = wait_for(lambda: running_cycle_of(job), 180, 0.05, message="a running cycle")
            # A random point: after the cycle's k-th Salesforce call (each answered 0.3 s late), i.e. inside a page.
            calls = sum(big_emu.control.counters()["salesforce"].values())
            point = calls + rng.randint(1, 4)
            wait_for(
                lambda: sum(big_emu.control.counters()["salesforce"].values()) >= point,
                600,
                0.02,
                message=f"Salesforce call {point}",
            )
            cycle.refresh_from_db()
            assert cycle.status == CycleStatus.RUNNING, f"the cycle ended before the kill point: {cycle.status}"
            victim = cluster_running(cycle, clusters)
            victim.kill()
            killed_at = time.time()
            # The other cluster's watchdog marks it crashed and takes the job over.
            takeover = wait_for(
                lambda cycle=cycle: ProvisioningCycle.objects.filter(
                    job=job, pk__gt=cycle.pk, trigger=CycleTrigger.TAKEOVER, started_at__isnull=False
                ).first(),
                TAKEOVER_BOUND.total_seconds() + 60,
                0.2,
                message="the takeover cycle",
            )
            cycle.refresh_from_db()
            kills.append(
                {
                    "at_user": cycle.objects_done,
                    "crashed_after_s": round(cycle.finished_at.timestamp() - killed_at, 1),
                    "taken_over_after_s": round(takeover.started_at.timestamp() - killed_at, 1),
                }
            )
            assert cycle.status == CycleStatus.CRASHED and cycle.error_code == "WorkerLost"
            assert cycle.finished_at.timestamp() - killed_at <= TAKEOVER_BOUND.total_seconds(), kills
            assert takeover.started_at.timestamp() - killed_at <= TAKEOVER_BOUND.total_seconds(), kills
            victim.start()  # back as a spare, for the next kill
        big_emu.control.set_latency(0)
        final = wait_for(
            lambda: ProvisioningCycle.objects.filter(job=job, status__in=[
                CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS]).first(),
            900,
            0.5,
            message="the last takeover cycle to complete",
        )  # fmt: skip
    finally:
        for cluster in clusters:
            cluster.stop()
    print(f"\n{USERS} users, kills: {kills}")  # noqa: T201 - the figures, with -s

    assert final.trigger == CycleTrigger.TAKEOVER, final.error_message
    usernames = [u["Username"].lower() for u in big_emu.control.salesforce_users()]
    assert len(usernames) == len(set(usernames)), "a Salesforce user was created twice"
    links = ProvisionedLink.objects.filter(job=job).exclude(target_id="")
    assert links.values("target_id").distinct().count() == links.count()
    # Nothing lost: every user the final cycle judged in scope is in Salesforce, with Entra's names.
    assert links.count() == final.created + final.updated + final.unchanged + final.enabled
    for link in links.iterator():
        entra = big_emu.control.get_entra_user(link.source_id)
        record = big_emu.control.get_salesforce_user(id=link.target_id)
        assert record is not None and record["Username"] == f"{entra['userPrincipalName']}.uat"
        assert (record.get("FirstName"), record["LastName"]) == (entra.get("givenName"), entra["surname"])
    assert ProvisioningCycle.objects.filter(job=job, status=CycleStatus.RUNNING).count() == 0
    assert not ProvisioningJob.objects.get(pk=job.pk).lock_owner


@pytest.mark.skipif(not os.environ.get("CI_REDIS_URL"), reason="needs Redis: set CI_REDIS_URL")
def test_two_clusters_on_redis_and_postgresql_never_run_two_cycles_of_one_application_at_once(
    app, big_emu, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")
    job = app.job
    first, second = two_clusters(monkeypatch, "redis", workers=2)
    clusters = [first.start(), second.start()]
    big_emu.control.set_latency(5)
    try:
        for _ in range(8):
            scheduling.sync_now(job)
        wait_for(lambda: Task.objects.filter(func="provisioning.tasks.run_cycle_task").count() >= 8, 900, 0.5,
                 message="every cycle asked for to be run or skipped")  # fmt: skip
    finally:
        for cluster in clusters:
            cluster.stop()
    ran = list(ProvisioningCycle.objects.filter(job=job).order_by("started_at"))
    assert ran, "no cycle ran"
    for earlier, later in zip(ran, ran[1:], strict=False):
        assert earlier.finished_at is not None and earlier.finished_at <= later.started_at, (earlier, later)
    skipped = sum(1 for task in Task.objects.all() if "another cycle of this job is running" in str(task.result))
    assert len(ran) + skipped == 8
