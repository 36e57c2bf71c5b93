"""The health endpoint (/healthz) and the workers' heartbeat it reads.

/healthz answers 200 while the web process can do its work (the database and the task broker answer) and 503 when
either does not; the body says how each part is, the workers included. A worker that has gone quiet makes the
status "degraded" but not 503: restarting web servers would not bring it back.

Workers show they are alive three ways: when a worker process starts (django-q2's post_spawn signal), every
minute through a schedule, and through the heartbeat a running cycle writes after every page (a worker busy with
a long cycle cannot take the scheduled heartbeat task).
"""

from __future__ import annotations

import os
import socket
import time
from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Max
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_q.brokers import get_broker
from django_q.models import Schedule

from console.models import WorkerHeartbeat
from provisioning.models import CycleStatus, ProvisioningCycle

HEARTBEAT_SCHEDULE = "console-worker-heartbeat"
HEARTBEAT_FUNC = "console.health.record_worker_heartbeat"
# Twice the schedule's interval plus the scheduler's own 30-second tick: one late heartbeat is not an alarm.
WORKER_STALE_AFTER = timedelta(minutes=3)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def record_worker_heartbeat(**signal_kwargs: Any) -> str:
    """The scheduled task and the post_spawn receiver: this worker process is alive now."""
    WorkerHeartbeat.objects.update_or_create(worker=worker_identity(), defaults={"seen_at": timezone.now()})
    # Rows of processes gone for a day are of no use to anyone.
    WorkerHeartbeat.objects.filter(seen_at__lt=timezone.now() - timedelta(days=1)).delete()
    return "alive"


def ensure_heartbeat_schedule(sender=None, **kwargs: Any) -> None:
    """post_migrate receiver: the every-minute heartbeat schedule exists on every install, once."""
    keep = Schedule.objects.filter(name=HEARTBEAT_SCHEDULE).order_by("pk").values_list("pk", flat=True).first()
    if keep is not None:
        Schedule.objects.filter(name=HEARTBEAT_SCHEDULE).exclude(pk=keep).delete()
    Schedule.objects.update_or_create(
        name=HEARTBEAT_SCHEDULE,
        defaults={"func": HEARTBEAT_FUNC, "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1},
    )


def last_worker_sign_of_life():
    """When a worker was last seen: its own heartbeat or a running cycle's, whichever is later (None: never)."""
    seen = WorkerHeartbeat.objects.aggregate(latest=Max("seen_at"))["latest"]
    cycle = ProvisioningCycle.objects.filter(status=CycleStatus.RUNNING).aggregate(latest=Max("heartbeat_at"))
    candidates = [moment for moment in (seen, cycle["latest"]) if moment is not None]
    return max(candidates) if candidates else None


def check_database() -> dict[str, Any]:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure of the database is the answer here, not a crash of the endpoint
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_broker() -> dict[str, Any]:
    try:
        broker = get_broker()
        reachable = broker.ping()
        depth = broker.queue_size()
    except Exception as exc:  # Redis down, a refused connection: report it
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": bool(reachable), "type": "redis" if "Redis" in type(broker).__name__ else "orm", "queued": depth}


def check_workers(database_ok: bool) -> dict[str, Any]:
    if not database_ok:
        return {"ok": False, "error": "unknown while the database is down"}
    latest = last_worker_sign_of_life()
    if latest is None:
        return {"ok": False, "last_heartbeat": None, "error": "no worker has ever reported; is qcluster running?"}
    age = (timezone.now() - latest).total_seconds()
    return {
        "ok": age <= WORKER_STALE_AFTER.total_seconds(),
        "last_heartbeat": latest.isoformat(),
        "age_seconds": round(age),
        "live_workers": WorkerHeartbeat.objects.filter(seen_at__gte=timezone.now() - WORKER_STALE_AFTER).count(),
    }


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = check_database()
    broker = check_broker()
    workers = check_workers(database["ok"])
    serving = database["ok"] and broker["ok"]
    status = ("ok" if workers["ok"] else "degraded") if serving else "down"
    body = {"status": status, "checks": {"database": database, "broker": broker, "worker": workers}}
    return JsonResponse(body, status=200 if serving else 503)
