"""/healthz reports the database, the broker and the workers' heartbeat; /metrics serves Prometheus figures to a
scraper holding METRICS_TOKEN, read here with prometheus_client's own parser after a real cycle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule
from prometheus_client.parser import text_string_to_metric_families

from console import health
from console.models import WorkerHeartbeat
from provisioning.applications import point_at_emulators
from provisioning.tasks import run_cycle

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-5d1c9e0b7a"


def test_health_without_any_worker_is_degraded_but_serving(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert body["checks"]["broker"]["type"] == "orm" and body["checks"]["broker"]["queued"] == 0
    assert "qcluster" in body["checks"]["worker"]["error"]


def test_a_recent_heartbeat_makes_health_ok_and_an_old_one_does_not(client):
    health.record_worker_heartbeat()
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["checks"]["worker"]["live_workers"] == 1
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=10))
    body = client.get("/healthz").json()
    assert body["status"] == "degraded" and body["checks"]["worker"]["age_seconds"] >= 600


def test_a_broker_that_does_not_answer_makes_health_503(client, monkeypatch):
    def down():
        raise ConnectionRefusedError

    monkeypatch.setattr(health, "get_broker", down)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "down"
    assert response.json()["checks"]["broker"] == {"ok": False, "error": "ConnectionRefusedError"}


def test_the_heartbeat_schedule_exists_once_after_migrate():
    health.ensure_heartbeat_schedule()
    schedule = Schedule.objects.get(name=health.HEARTBEAT_SCHEDULE)
    assert schedule.func == health.HEARTBEAT_FUNC and schedule.minutes == 1


def test_metrics_need_the_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token-of-some-length").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def _scrape(client) -> dict[str, dict[tuple, float]]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def test_a_finished_cycle_shows_in_the_metrics(client, settings, application, emulator_state_reset):
    settings.METRICS_TOKEN = TOKEN
    emu = emulator_state_reset
    point_at_emulators(application, emu.info)
    emu.control.throttle("entra", 2)  # two 429s from Graph, retried after Retry-After
    cycle = run_cycle(application.job.pk)
    cycle.refresh_from_db()
    assert cycle.created > 0 and cycle.graph_throttles == 2

    samples = _scrape(client)
    app = ("application", application.slug)
    status = ("status", cycle.status)
    assert samples["console_cycles_total"][(app, ("kind", "initial"), status)] == 1
    assert samples["console_cycle_users_total"][(app, ("outcome", "created"))] == cycle.created
    assert samples["console_cycle_users_total"][(app, ("outcome", "failed"))] == cycle.failed
    assert samples["console_cycle_duration_seconds_count"][(app,)] == 1
    assert samples["console_cycle_duration_seconds_sum"][(app,)] == pytest.approx(cycle.duration.total_seconds())
    assert samples["console_remote_calls_total"][(app, ("remote", "graph"))] == cycle.graph_calls
    assert samples["console_remote_calls_total"][(app, ("remote", "salesforce"))] == cycle.salesforce_calls
    assert samples["console_remote_throttles_total"][(app, ("remote", "graph"))] == 2
    created = application.job.log_entries.filter(action="create", status="success").count()
    assert samples["console_log_entries"][(("action", "create"), app, ("status", "success"))] == created
    assert samples["console_escrows"][(app,)] == application.job.escrows.count()
    assert samples["console_job_quarantined"][(app, ("reason", ""))] == 0
    assert samples["console_queue_depth"][()] == 0
