"""python manage.py bench_logs --rows N [--json FILE]: fill the provisioning log of a benchmark application with
N realistic rows on the configured database, then time the list page (no filter, each filter, page 1 and a deep
page), the detail page and both full downloads (time, rows per second of wall clock and of this process's CPU
time, and peak memory).

Views are called in-process with RequestFactory, so the times are server time: query, template, response.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import threading
import time
import tracemalloc
import uuid
from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries
from django.test import RequestFactory
from django.utils import timezone

from connections.models import Application
from console.bulk import insert_objects
from console.permissions import REPORTS_READER
from provisioning import logahead
from provisioning.applications import create_application
from provisioning.logquery import encode_cursor, filtered_entries, parse_filters
from provisioning.models import CycleStatus, ProvisioningCycle, ProvisioningLogEntry
from provisioning.retention import refresh_planner_statistics
from provisioning.views.downloads import download_csv, download_json
from provisioning.views.provisioning_logs import log_detail, provisioning_logs

SLUG = "bench-logs"
ROWS_PER_CYCLE = 2000
BATCH = 5000
SPAN_DAYS = 29  # inside the default retention
# Downloads are measured for growing subsets of the same table: memory must not grow with the row count.
DOWNLOAD_SETS = (("last 24 h", {"date": "24h"}), ("last 7 days", {"date": "7d"}), ("all", {}))
FIRST = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory", "Niaj"]
LAST = ["Wu", "Marsh", "Ng", "Oak", "Smith", "Garcia", "Müller", "Rossi", "Dubois", "Kowalski", "Sato", "Silva"]
ACTIONS = [("update", 60), ("create", 20), ("disable", 8), ("other", 12)]
STATUSES = [("success", 85), ("failure", 7), ("skipped", 5), ("warning", 3)]
ERRORS = [
    ("SalesforceDuplicateUserName", "Username already exists in another Salesforce org.", "Change the suffix."),
    ("SalesforceLicenseLimitExceeded", "No Salesforce licence left for the profile.", "Free or buy licences."),
    ("SalesforceRequiredFieldMissing", "Required field missing: Alias.", "Check the Alias mapping."),
]


FORMATS = (("json", download_json), ("csv zip", download_csv))


class RssSampler(threading.Thread):
    """Peak resident memory of this process while a download streams (Linux /proc; 0 elsewhere)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.start_rss = self.peak = rss_bytes()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, rss_bytes())

    def stop(self) -> None:
        self.done.set()
        self.join()
        self.peak = max(self.peak, rss_bytes())


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * resource.getpagesize()
    except OSError:
        return 0


def weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


class Command(BaseCommand):
    help = "Fill the provisioning log with N realistic rows and time the log pages and downloads."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rows", type=int, required=True, help="Rows the benchmark application's log holds.")
        parser.add_argument("--json", dest="json_file", help="Also write the results to this file.")
        parser.add_argument("--repeat", type=int, default=5, help="Timed runs per page (median reported).")
        parser.add_argument("--no-download", action="store_true", help="Skip the (long) full downloads.")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--trace-memory", action="store_true", help="Also measure downloads with tracemalloc.")
        parser.add_argument(
            "--serial",
            action="store_true",
            help="Also download all rows with the overlap off (each query, format and deflate one after another in "
            "one thread), to show what reading ahead and deflating behind gain at the same load.",
        )

    def handle(self, *args, rows: int, json_file: str | None, repeat: int, no_download: bool, seed: int, **options):
        if rows < 1000:
            raise CommandError("--rows must be at least 1000.")
        application = Application.objects.filter(slug=SLUG).first() or create_application(
            "Bench logs", suffix="bench", slug=SLUG
        )
        job = application.job
        present = ProvisioningLogEntry.objects.filter(job=job).count()
        if present != rows:
            self.stdout.write(f"Filling the log: {present} rows present, {rows} wanted…")
            ProvisioningLogEntry.objects.filter(job=job).delete()
            ProvisioningCycle.objects.filter(job=job).delete()
            took = self.fill(job, rows, random.Random(seed))
            self.stdout.write(f"  {rows} rows written in {took:.1f} s")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE provisioning_provisioninglogentry")
        refresh_planner_statistics()  # SQLite: what the daily purge does
        results = {"rows": rows, "database": connection.vendor, "pages": {}, "downloads": {},
                   "load_average_at_start": round(os.getloadavg()[0], 1)}  # fmt: skip
        user = self.reader()
        self.time_pages(application, job, user, repeat, results)
        if not no_download:
            self.time_downloads(application, user, results, options["trace_memory"], options["serial"])
        results["load_average_at_end"] = round(os.getloadavg()[0], 1)
        self.report(results)
        if json_file:
            with open(json_file, "w") as handle:
                json.dump(results, handle, indent=2)

    # Fill ------------------------------------------------------------------------------------------------------
    def fill(self, job, rows: int, rng: random.Random) -> float:
        # Rows go in as a cycle writes its log (COPY on PostgreSQL): bulk_create took 39 minutes for 1,000,000 rows.
        started = time.perf_counter()
        now = timezone.now()
        cycles_needed = max(1, rows // ROWS_PER_CYCLE)
        step = timedelta(days=SPAN_DAYS) / cycles_needed
        users = max(1000, rows // 20)
        pending: list[ProvisioningLogEntry] = []
        written = 0
        for index in range(cycles_needed):
            start = now - (cycles_needed - index) * step  # the last cycle is minutes old: every date range has rows
            count = ROWS_PER_CYCLE if index < cycles_needed - 1 else rows - written - len(pending)
            cycle = ProvisioningCycle.objects.create(
                job=job, kind="incremental", status=CycleStatus.SUCCEEDED, started_at=start, finished_at=start
            )
            counters = dict.fromkeys(("created", "updated", "disabled", "skipped", "failed"), 0)
            for n in range(count):
                pending.append(self.entry(job, cycle, start + timedelta(milliseconds=40 * n), rng, users, counters))
                if len(pending) >= BATCH:
                    insert_objects(pending)
                    written += len(pending)
                    pending = []
                    # With DEBUG on, Django keeps the text of recent queries: these INSERTs would hold gigabytes.
                    reset_queries()
            cycle.finished_at = start + timedelta(milliseconds=40 * count)
            for name, value in counters.items():
                setattr(cycle, name, value)
            cycle.save()
        if pending:
            insert_objects(pending)
        return time.perf_counter() - started

    def entry(self, job, cycle, when, rng: random.Random, users: int, counters: dict) -> ProvisioningLogEntry:
        number = rng.randrange(users)
        first, last = FIRST[number % len(FIRST)], LAST[(number // len(FIRST)) % len(LAST)]
        upn = f"{first.lower()}.{last.lower()}{number}@contoso.com"
        action, status = weighted(rng, ACTIONS), weighted(rng, STATUSES)
        if status == "skipped":
            action = "other"
        key = {"create": "created", "update": "updated", "disable": "disabled", "other": "skipped"}[action]
        counters["failed" if status == "failure" else key] += 1
        error = rng.choice(ERRORS) if status == "failure" else ("", "", "")
        export = "EntryExportAdd" if action == "create" else "EntryExportUpdate"
        steps = [
            {"name": "EntryImport", "type": "import", "status": "success",
             "description": f"Received User '{upn}' change of type (Update) from Microsoft Entra ID",
             "details": {"ReportableIdentifier": upn}},
            {"name": "EntrySynchronizationScoping", "type": "scoping", "status": "success",
             "description": f"User '{upn}' is in scope: assigned to the application", "details": {}},
            {"name": "EntryMatching", "type": "matching", "status": "success",
             "description": f"Matched on Username = {upn}.bench", "details": {"TargetId": f"005{number:012d}"}},
            {"name": export, "type": "export", "status": "failure" if status == "failure" else "success",
             "description": error[1] or f"User '{upn}' was {action}d in Salesforce Sandbox", "details": {}},
        ]  # fmt: skip
        props = [
            {"displayName": "Title", "oldValue": "Analyst", "newValue": "Senior Analyst"},
            {"displayName": "Department", "oldValue": "Sales", "newValue": "Marketing"},
        ][: rng.randrange(3)]
        return ProvisioningLogEntry(
            job=job,
            cycle=cycle,
            change_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            activity_at=when,
            action=action,
            status=status,
            source_id=str(uuid.UUID(int=number + 1, version=4)),
            source_display_name=f"{first} {last}",
            source_upn=upn,
            target_id=f"005{number:012d}AAA",
            target_display_name=f"{upn}.bench",
            steps=steps,
            modified_properties=props,
            error_code=error[0],
            error_reason=error[1],
            error_recommendation=error[2],
            error_category="failure" if error[0] else "",
            duration_ms=rng.randrange(20, 900),
        )

    # Timing ----------------------------------------------------------------------------------------------------
    def reader(self) -> User:
        user, _ = User.objects.get_or_create(username="bench.reader")
        user.groups.add(Group.objects.get_or_create(name=REPORTS_READER)[0])
        return User.objects.get(pk=user.pk)

    def call(self, view, user, path: str, params: dict, **kwargs):
        request = RequestFactory().get(path, params)
        request.user = user
        return view(request, **kwargs)

    def timed(self, view, user, params: dict, repeat: int, **kwargs) -> dict:
        times = []
        for _ in range(repeat + 1):  # one warm-up
            started = time.perf_counter()
            response = self.call(view, user, "/", params, **kwargs)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        shown = response.content.count(b"<tr>") - 1 if b"<table" in response.content else 0
        times = times[1:]
        return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1), "rows": shown}

    def time_pages(self, application, job, user, repeat: int, results: dict) -> None:
        entries = ProvisioningLogEntry.objects.filter(job=job).order_by("-activity_at", "-id")
        total = entries.count()
        # The cursor of page 1,000: the last row of page 999 (found once with OFFSET, outside the timing).
        deep_cursor = encode_cursor(entries[min(total - 1, 50 * 999 - 1)])
        sample = entries[total // 2]
        cycle = ProvisioningCycle.objects.filter(job=job).order_by("pk")[
            ProvisioningCycle.objects.filter(job=job).count() // 2
        ]
        day = (timezone.now() - timedelta(days=10)).date().isoformat()
        cases = {
            "no filter, page 1": {},
            "no filter, page 1000": {"after": deep_cursor},
            "identity: UPN prefix": {"identity": sample.source_upn.split("@")[0]},
            "identity: display name prefix": {"identity": "Grace Sm"},
            "identity: one-letter prefix": {"identity": "g"},
            "identity: source id": {"identity": sample.source_id},
            "identity: Salesforce id": {"identity": sample.target_id},
            "date: 24 hours": {"date": "24h"},
            "date: 7 days": {"date": "7d"},
            "date: 30 days, page 1000": {"date": "30d", "after": deep_cursor},
            "date: custom day": {"date": "custom", "start": day, "end": day},
            "status: failure": {"status": "failure"},
            "status: warning, deep": {"status": "warning", "after": deep_cursor},
            "action: disable": {"action": "disable"},
            "status failure + 7 days": {"status": "failure", "date": "7d"},
            "cycle id": {"cycle": cycle.cycle_id},
            "change id": {"change": sample.change_id},
            "no match (identity)": {"identity": "zz-nobody"},
        }
        for name, params in cases.items():
            results["pages"][name] = self.timed(provisioning_logs, user, params, repeat, slug=application.slug)
        results["pages"]["detail"] = self.timed(
            log_detail, user, {"tab": "steps"}, repeat, slug=application.slug, change_id=sample.change_id
        )

    def time_downloads(self, application, user, results: dict, trace: bool, serial: bool = False) -> None:
        """Time each full download; memory is the peak resident size while streaming, sampled by a thread
        (tracemalloc, with --trace-memory, counts Python allocations exactly but slows the run several times)."""
        downloads = [(f"{fmt} {label}", view, params) for label, params in DOWNLOAD_SETS for fmt, view in FORMATS]
        if serial:
            downloads += [(f"{fmt} all, serial", view, {}) for fmt, view in FORMATS]
        for name, view, params in downloads:
            logahead.OVERLAP = not name.endswith(", serial")
            reset_queries()
            sampler = RssSampler()
            if trace:
                tracemalloc.start()
            sampler.start()
            started, cpu_started = time.perf_counter(), time.process_time()
            response = self.call(view, user, "/", params, slug=application.slug)
            size = sum(len(piece) for piece in response.streaming_content)
            took, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            sampler.stop()
            count = self.count(application, params)
            row = {
                "rows": count,
                "seconds": round(took, 1),
                "rows_per_s": round(count / took) if took else None,
                # CPU time of this process alone (the database's is not in it): other jobs on the machine slow the
                # wall clock, hardly this.
                "cpu_seconds": round(cpu, 2),
                "rows_per_cpu_s": round(count / cpu) if cpu else None,
                "megabytes": round(size / 1e6, 1),
                "rss_start_mb": round(sampler.start_rss / 1e6, 1),
                "rss_peak_growth_mb": round((sampler.peak - sampler.start_rss) / 1e6, 1),
            }
            if trace:
                row["peak_traced_mb"] = round(tracemalloc.get_traced_memory()[1] / 1e6, 1)
                tracemalloc.stop()
            results["downloads"][name] = row
        logahead.OVERLAP = True

    def count(self, application, params: dict) -> int:
        return filtered_entries(application.job, parse_filters(params)).count()

    def report(self, results: dict) -> None:
        self.stdout.write(
            f"\n{results['rows']} rows on {results['database']}; load average "
            f"{results['load_average_at_start']} at the start, {results['load_average_at_end']} at the end "
            f"({os.cpu_count()} CPUs: the wall clock of a loaded machine says little, CPU-seconds more)"
        )
        for name, row in results["pages"].items():
            self.stdout.write(
                f"  {name:34} median {row['median_ms']:8.1f} ms  max {row['max_ms']:8.1f} ms  rows {row['rows']}"
            )
        for name, row in results["downloads"].items():
            self.stdout.write(
                f"  download {name:12} {row['rows']:8} rows {row['seconds']:7.1f} s  "
                f"{row['rows_per_s'] or 0:7} rows/s  {row['rows_per_cpu_s'] or 0:7} rows/CPU-s  "
                f"{row['megabytes']:8.1f} MB  "
                f"RSS {row['rss_start_mb']} MB + peak growth {row['rss_peak_growth_mb']} MB"
                + (f"  peak traced {row['peak_traced_mb']} MB" if "peak_traced_mb" in row else "")
            )
        downloads = results["downloads"]
        full = [(name, row) for name, row in downloads.items() if name.endswith(" all")]
        for name, row in full:
            self.stdout.write(
                f"Download {name[: -len(' all')]} of all {row['rows']:,} rows: {row['rows_per_s'] or 0:,} rows/s "
                f"(wall clock), {row['rows_per_cpu_s'] or 0:,} rows per CPU-second of this process"
            )
            serial = downloads.get(f"{name}, serial")
            if serial and serial["rows_per_s"] and row["rows_per_s"]:
                self.stdout.write(
                    f"  the same one after another in one thread: {serial['rows_per_s']:,} rows/s, "
                    f"{serial['rows_per_cpu_s'] or 0:,} rows per CPU-second: the overlap makes it "
                    f"{row['rows_per_s'] / serial['rows_per_s']:.2f}x as fast on the wall clock"
                )
