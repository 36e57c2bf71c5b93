"""Prometheus metrics at /metrics, for a scraper holding METRICS_TOKEN.

Every figure is read from the database at scrape time (one collector, a few grouped queries), so the web server,
the workers and any number of processes report the same numbers without shared memory. Counters are sums over
the cycles, which are kept forever (only log entries expire), so they only ever grow.
"""

from __future__ import annotations

import hmac
from collections import defaultdict
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from console import health
from provisioning.models import (
    COUNTER_FIELDS,
    TERMINAL_CYCLE_STATUSES,
    Escrow,
    ProvisioningCycle,
    ProvisioningJob,
    ProvisioningLogEntry,
)

DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
REMOTES = (("salesforce", "salesforce_calls", "salesforce_throttles"), ("graph", "graph_calls", "graph_throttles"))


class ConsoleCollector:
    """Collects the console's metrics from the database (prometheus_client's custom-collector interface)."""

    def collect(self) -> Iterator[Metric]:
        slugs = dict(ProvisioningJob.objects.values_list("pk", "application__slug"))
        finished = ProvisioningCycle.objects.filter(status__in=TERMINAL_CYCLE_STATUSES)
        yield from self._cycles(finished, slugs)
        yield from self._durations(finished, slugs)
        yield from self._remote_calls(finished, slugs)
        yield from self._jobs(slugs)
        yield from self._log_entries(slugs)
        yield from self._queue()

    def _cycles(self, finished, slugs: dict[int, str]) -> Iterator[Metric]:
        cycles = CounterMetricFamily(
            "console_cycles",
            "Finished provisioning cycles by kind and final status.",
            labels=["application", "kind", "status"],
        )
        for row in finished.values("job_id", "kind", "status").annotate(n=Count("id")).order_by():
            cycles.add_metric([slugs.get(row["job_id"], ""), row["kind"], row["status"]], row["n"])
        yield cycles
        users = CounterMetricFamily(
            "console_cycle_users",
            "Users evaluated by finished cycles, by outcome (created, updated, disabled, enabled, skipped, failed, "
            "unchanged, staged), dry runs excluded.",
            labels=["application", "outcome"],
        )
        sums = finished.filter(dry_run=False).values("job_id").annotate(**{f: Sum(f) for f in COUNTER_FIELDS})
        for row in sums.order_by():
            for field in COUNTER_FIELDS:
                users.add_metric([slugs.get(row["job_id"], ""), field], row[field] or 0)
        yield users

    def _durations(self, finished, slugs: dict[int, str]) -> Iterator[Metric]:
        per_job: dict[int, list[float]] = defaultdict(list)
        for job_id, started, ended in finished.filter(started_at__isnull=False).values_list(
            "job_id", "started_at", "finished_at"
        ):
            per_job[job_id].append(max(0.0, (ended - started).total_seconds()))
        histogram = HistogramMetricFamily(
            "console_cycle_duration_seconds", "How long finished cycles ran.", labels=["application"]
        )
        for job_id, durations in per_job.items():
            buckets = [(str(bound), sum(1 for d in durations if d <= bound)) for bound in DURATION_BUCKETS]
            buckets.append(("+Inf", len(durations)))
            histogram.add_metric([slugs.get(job_id, "")], buckets, sum_value=sum(durations))
        yield histogram

    def _remote_calls(self, finished, slugs: dict[int, str]) -> Iterator[Metric]:
        calls = CounterMetricFamily(
            "console_remote_calls", "API calls cycles made to each remote system.", labels=["application", "remote"]
        )
        throttles = CounterMetricFamily(
            "console_remote_throttles",
            "Answers of a remote system saying 'too many requests' (retried after its delay).",
            labels=["application", "remote"],
        )
        fields = [name for _, *pair in REMOTES for name in pair]
        for row in finished.values("job_id").annotate(**{f: Sum(f) for f in fields}).order_by():
            for remote, calls_field, throttles_field in REMOTES:
                calls.add_metric([slugs.get(row["job_id"], ""), remote], row[calls_field] or 0)
                throttles.add_metric([slugs.get(row["job_id"], ""), remote], row[throttles_field] or 0)
        yield calls
        yield throttles

    def _jobs(self, slugs: dict[int, str]) -> Iterator[Metric]:
        enabled = GaugeMetricFamily("console_job_enabled", "1 while Provisioning Status is On.", labels=["application"])
        quarantined = GaugeMetricFamily(
            "console_job_quarantined",
            "1 while the job is in quarantine, with its reason.",
            labels=["application", "reason"],
        )
        for job_id, on, reason in ProvisioningJob.objects.values_list("pk", "enabled", "quarantine_reason"):
            enabled.add_metric([slugs[job_id]], int(on))
            quarantined.add_metric([slugs[job_id], reason], int(bool(reason)))
        yield enabled
        yield quarantined
        escrows = GaugeMetricFamily(
            "console_escrows", "Users whose last change failed and wait for a retry (escrow).", labels=["application"]
        )
        counts = dict(Escrow.objects.values("job_id").annotate(n=Count("id")).order_by().values_list("job_id", "n"))
        for job_id, slug in slugs.items():
            escrows.add_metric([slug], counts.get(job_id, 0))
        yield escrows

    def _log_entries(self, slugs: dict[int, str]) -> Iterator[Metric]:
        entries = GaugeMetricFamily(
            "console_log_entries",
            "Entries in the provisioning log by action and status (within LOG_RETENTION_DAYS).",
            labels=["application", "action", "status"],
        )
        grouped = ProvisioningLogEntry.objects.values("job_id", "action", "status").annotate(n=Count("id")).order_by()
        for row in grouped:
            entries.add_metric([slugs.get(row["job_id"], ""), row["action"], row["status"]], row["n"])
        yield entries

    def _queue(self) -> Iterator[Metric]:
        broker = health.check_broker()
        depth = GaugeMetricFamily("console_queue_depth", "Tasks waiting in the django-q2 queue (-1: broker down).")
        depth.add_metric([], broker.get("queued", -1) if broker["ok"] else -1)
        yield depth
        latest = health.last_worker_sign_of_life()
        heartbeat = GaugeMetricFamily(
            "console_worker_heartbeat_timestamp_seconds", "When a worker last showed it is alive (Unix time; 0: never)."
        )
        heartbeat.add_metric([], latest.timestamp() if latest else 0)
        yield heartbeat


def render_metrics() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ConsoleCollector())
    return generate_latest(registry)


def _authorised(request: HttpRequest) -> bool:
    expected = getattr(settings, "METRICS_TOKEN", "")
    given = request.headers.get("Authorization", "")
    if not expected or not given.startswith("Bearer "):
        return False
    return hmac.compare_digest(given[len("Bearer ") :].strip().encode(), expected.encode())


@login_not_required
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not getattr(settings, "METRICS_TOKEN", ""):
        return HttpResponse(
            "Metrics are off: set METRICS_TOKEN on the server.\n", status=404, content_type="text/plain"
        )
    if not _authorised(request):
        response = HttpResponse("A valid 'Authorization: Bearer <METRICS_TOKEN>' header is required.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        response["Content-Type"] = "text/plain"
        return response
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)
