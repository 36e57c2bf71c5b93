"""bench_fleet: real qcluster processes on Redis and PostgreSQL run the initial cycles of several applications, and
no application ever has two cycles running at once, even with every cycle queued twice."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.core.management import CommandError, call_command
from django.db import connection
from django_q.models import Task

from connections.models import Application
from provisioning.management.commands.bench_fleet import max_overlap


def at(seconds: float) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def test_overlap_counts_cycles_running_at_one_moment():
    assert max_overlap([(at(0), at(10)), (at(10), at(20)), (at(20), at(30))]) == 1  # back to back
    assert max_overlap([(at(0), at(10)), (at(9), at(20))]) == 2
    assert max_overlap([(at(0), at(30)), (at(5), at(6)), (at(7), at(8)), (at(7.5), at(9))]) == 3


@pytest.mark.django_db
def test_bench_fleet_refuses_sqlite_and_says_what_to_set():
    if connection.vendor != "sqlite":
        pytest.skip("the refusal on SQLite")
    with pytest.raises(CommandError, match="needs PostgreSQL.*DATABASE_URL=postgres://"):
        call_command("bench_fleet", apps=1, users=10, workers=1, redis="redis://127.0.0.1:6379/0")
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_bench_fleet_refuses_a_redis_that_does_not_answer(settings):
    if connection.vendor != "postgresql":
        pytest.skip("on SQLite the database is refused first")
    settings.REDIS_URL = ""
    with pytest.raises(CommandError, match="needs Redis.*REDIS_URL"):
        call_command("bench_fleet", apps=1, users=10, workers=1)
    with pytest.raises(CommandError, match="does not answer"):
        call_command("bench_fleet", apps=1, users=10, workers=1, redis="redis://127.0.0.1:1/0")
    assert not Application.objects.exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_fleet_of_two_workers_runs_every_application_once_at_a_time(tmp_path):
    redis_url = os.environ.get("CI_REDIS_URL", "")
    if connection.vendor != "postgresql" or not redis_url:
        pytest.skip("needs PostgreSQL (DATABASE_URL) and Redis (CI_REDIS_URL)")
    out = tmp_path / "fleet.json"
    call_command(
        "bench_fleet", apps=3, users=60, workers=2, latency_ms=20, redis=redis_url, twice=True, json=str(out),
        stdout=open(tmp_path / "stdout", "w"),  # noqa: SIM115
    )  # fmt: skip
    result = json.loads(out.read_text())
    assert result["cycle_tasks_queued"] == 6
    # A duplicate either found its application's cycle running (skipped) or ran after it: never beside it.
    assert 3 <= result["cycles_run"] <= 6
    assert result["max_concurrent_cycles_per_application"] == 1
    assert result["users_processed"] >= 3 * 60
    assert result["users_created"] + result["users_failed"] >= 3 * 50  # the first cycle of each created its users
    workers = result["cycles_per_worker_process"]
    assert sum(workers.values()) == result["cycles_run"]
    # Run by the qclusters, not by this process.
    assert all(worker.split(":")[1] != str(os.getpid()) for worker in workers)
    assert result["users_per_s"] > 0 and result["cpu_s"]["workers"] > 0
    # Nothing is left behind: applications, task results, the queue.
    assert not Application.objects.exists()
    assert not Task.objects.filter(cluster__startswith="bench-fleet-").exists()
    assert not redis.from_url(redis_url).keys("django_q:bench-fleet-*:q")
