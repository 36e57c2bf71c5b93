"""python manage.py bench_fleet --apps K --users N --workers W [--latency-ms L] [--json FILE]: a fleet of worker
processes on Redis and PostgreSQL running the initial cycles of K applications at once.

W real `manage.py qcluster` processes (each one host's worth: `--processes` worker processes, 1 by default) take
their tasks from a queue of their own on the configured Redis and share the configured PostgreSQL database with
this process, which starts the emulators (own process, N assigned users), creates K applications (each with a
sandbox suffix of its own, so each creates its N users in the one emulated org), queues an initial cycle of each
and waits for them. It prints users per second across the fleet, the wall time from queueing to the last cycle's
end, the cycles each worker ran, and the largest number of cycles of one application that ran at the same time,
counted from the cycle rows' start and finish times (it must be 1; with --twice every cycle is queued twice at
once, as a double-clicked Sync now would, so that the rule is put to the test).

Use a database of its own: the applications are created there (and deleted afterwards unless --keep).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Task
from django_q.signing import SignedPackage

from provisioning.applications import create_application, point_at_emulators
from provisioning.management.commands.bench_cycle import EmulatorProcess
from provisioning.models import CycleKind, CycleTrigger, ProvisioningCycle
from provisioning.scheduling import CYCLE_TASK, enqueue_cycle

MAX_APPS = 200  # django-q2 keeps the last 500 task results (save_limit): the wait counts them


def database_url() -> str:
    """The URL of the database this process uses (the test database under pytest), for the worker processes."""
    db = connection.settings_dict
    auth = db["USER"] or "postgres"
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    """The largest number of intervals open at one moment; one that ends as another starts does not overlap it."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, step in events:  # at a tie the end (-1) sorts first
        running += step
        peak = max(peak, running)
    return peak


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of the live processes of a process group (Linux /proc; 0 elsewhere)."""
    ticks = 0
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ..., utime (12), stime (13)
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class Worker:
    """One `manage.py qcluster` process group: a worker host of the fleet."""

    def __init__(self, number: int, queue: str, redis_url: str, processes: int, log_dir: Path) -> None:
        self.number = number
        self.log_path = log_dir / f"worker-{number}.log"
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url,
            "Q_QUEUE": queue,
            "Q_WORKERS": str(processes),
            "Q_SYNC": "false",
            "LOG_LEVEL": "WARNING",
        }
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
                [sys.executable, "manage.py", "qcluster"],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: its workers stop with it
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if not self.alive():
            return
        os.killpg(self.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(10)


@contextmanager
def queue_of(name: str, redis_url: str):
    """This process queues to `name` on Redis for the duration (django-q2 reads its settings once, at import)."""
    saved = {key: getattr(Conf, key) for key in ("CLUSTER_NAME", "REDIS", "ORM", "SYNC")}
    Conf.CLUSTER_NAME, Conf.REDIS, Conf.ORM, Conf.SYNC = name, redis_url, None, False
    try:
        yield
    finally:
        for key, value in saved.items():
            setattr(Conf, key, value)


class Command(BaseCommand):
    help = "Run the initial cycles of K applications on W qcluster processes (Redis, PostgreSQL); print users/s."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--apps", type=int, default=10, help="Applications, each with its own initial cycle.")
        parser.add_argument("--users", type=int, default=5000, help="Assigned users (each application syncs all).")
        parser.add_argument("--workers", type=int, default=2, help="qcluster processes (worker hosts).")
        parser.add_argument("--processes", type=int, default=1, help="Worker processes in each qcluster (Q_WORKERS).")
        parser.add_argument("--latency-ms", type=int, default=30, help="Latency of every emulated remote call.")
        parser.add_argument("--redis", default="", help="Redis URL of the queue (default: REDIS_URL).")
        parser.add_argument("--twice", action="store_true", help="Queue every cycle twice at once.")
        parser.add_argument("--timeout", type=float, default=1800, help="Seconds to wait for the cycles.")
        parser.add_argument("--json", default="", help="Also write the results to this file.")
        parser.add_argument("--keep", action="store_true", help="Keep the applications and their logs.")

    def handle(self, *args, **options) -> None:
        apps, users, workers = options["apps"], options["users"], options["workers"]
        redis_url = options["redis"] or settings.REDIS_URL
        self.refuse_without_services(redis_url)
        if not 1 <= apps <= MAX_APPS or users < 1 or not 1 <= workers <= 32 or options["processes"] < 1:
            raise CommandError(f"--apps takes 1 to {MAX_APPS}, --workers 1 to 32, --users and --processes 1 or more.")
        settings.DEBUG = False  # DEBUG keeps every SQL statement's text in memory
        queue = f"bench-fleet-{os.getpid()}-{int(time.time())}"
        log_dir = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
        emulators = EmulatorProcess(users, options["latency_ms"])
        fleet: list[Worker] = []
        applications = []
        try:
            for number in range(apps):
                name = f"{queue}-{number}"
                application = create_application(name, suffix=f"fleet{number}", slug=name)
                point_at_emulators(application, emulators.info)
                applications.append(application)
            fleet = [Worker(n, queue, redis_url, options["processes"], log_dir) for n in range(workers)]
            self.wait_until_ready(fleet, queue, redis_url)
            with queue_of(queue, redis_url):
                cpu_before = self.cpu(fleet, emulators)
                started = timezone.now()
                for application in applications:
                    for _ in range(2 if options["twice"] else 1):
                        enqueue_cycle(application.job, kind=CycleKind.INITIAL, trigger=CycleTrigger.SYNC_NOW)
                queued = len(applications) * (2 if options["twice"] else 1)
                self.wait_for_tasks(fleet, queue, queued, options["timeout"])
                cpu = {key: round(value - cpu_before[key], 1) for key, value in self.cpu(fleet, emulators).items()}
            result = self.results(applications, started, options, queued)
            result["cpu_s"] = cpu
            # How busy the machine's cores were with the fleet and the emulators alone (other load not counted).
            result["cpu_share_of_machine"] = round(sum(cpu.values()) / (result["wall_s"] * (os.cpu_count() or 1)), 2)
        finally:
            for worker in fleet:
                worker.stop()
            emulators.stop()
            redis.from_url(redis_url).delete(f"django_q:{queue}:q")
            Task.objects.filter(cluster=queue).delete()
            for application in applications if not options["keep"] else ():
                application.delete()
        result["worker_logs"] = str(log_dir)
        text = json.dumps(result, indent=2)
        self.stdout.write(text)
        if options["json"]:
            Path(options["json"]).write_text(text + "\n")
        if result["max_concurrent_cycles_per_application"] > 1:
            raise CommandError("Two cycles of one application ran at the same time.")

    def refuse_without_services(self, redis_url: str) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_fleet needs PostgreSQL: a fleet of workers shares one database, and SQLite takes one writer "
                "at a time. Set DATABASE_URL=postgres://user:password@host:5432/dbname (a database of its own)."
            )
        if not redis_url:
            raise CommandError("bench_fleet needs Redis for the workers' queue: set REDIS_URL or pass --redis URL.")
        try:
            redis.from_url(redis_url, socket_connect_timeout=3).ping()
        except (redis.RedisError, ValueError) as exc:
            raise CommandError(f"Redis at the given URL does not answer ({type(exc).__name__}): start it, or "
                               "pass --redis with another URL.") from None  # fmt: skip

    def wait_until_ready(self, fleet: list[Worker], queue: str, redis_url: str, timeout: float = 120) -> None:
        """Until every qcluster reports itself idle on Redis (django-q2's cluster statistics, keyed by its pid)."""
        connection_ = redis.from_url(redis_url)
        wanted = {worker.pid for worker in fleet}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive(fleet)
            ready = set()
            for key in connection_.keys(f"{Conf.Q_STAT}:*"):
                pack = connection_.get(key)
                try:
                    stat = SignedPackage.loads(pack) if pack else None
                except Exception:  # noqa: S112 - another console's cluster (another key): not ours
                    continue
                if stat is not None and stat.pid in wanted and stat.status in (Conf.IDLE, Conf.WORKING):
                    ready.add(stat.pid)
            if ready == wanted:
                return
            time.sleep(0.2)
        raise CommandError(f"The workers did not start in {timeout:.0f} s:\n{fleet[0].output()}")

    def cpu(self, fleet: list[Worker], emulators: EmulatorProcess) -> dict[str, float]:
        return {
            "workers": sum(group_cpu_seconds(worker.pid) for worker in fleet),
            "emulators": group_cpu_seconds(emulators.process.pid),
            "this_process": time.process_time(),
        }

    def check_alive(self, fleet: list[Worker]) -> None:
        for worker in fleet:
            if not worker.alive():
                raise CommandError(f"Worker {worker.number} stopped:\n{worker.output()}")

    def wait_for_tasks(self, fleet: list[Worker], queue: str, queued: int, timeout: float) -> None:
        """Until every queued cycle task has a result (a cycle, or "skipped" when its application's was running)."""
        deadline = time.monotonic() + timeout
        while Task.objects.filter(cluster=queue, func=CYCLE_TASK).count() < queued:
            self.check_alive(fleet)
            if time.monotonic() > deadline:
                raise CommandError(f"The cycles did not finish in {timeout:.0f} s.")
            time.sleep(0.2)
        failed = list(Task.objects.filter(cluster=queue, success=False).values_list("result", flat=True)[:3])
        if failed:
            raise CommandError(f"A cycle task failed: {failed[0]}")

    def results(self, applications: list, started: datetime, options: dict, queued: int) -> dict[str, Any]:
        cycles = list(
            ProvisioningCycle.objects.filter(job__application__in=applications).values(
                "job_id", "status", "started_at", "finished_at", "worker", "objects_done", "created", "failed"
            )
        )
        unfinished = [c for c in cycles if c["started_at"] is None or c["finished_at"] is None]
        if unfinished:
            raise CommandError(f"{len(unfinished)} cycles have no start or finish time.")
        per_app: dict[int, list] = {}
        for cycle in cycles:
            per_app.setdefault(cycle["job_id"], []).append((cycle["started_at"], cycle["finished_at"]))
        ended = max(c["finished_at"] for c in cycles)
        wall = (ended - started).total_seconds()
        objects = sum(c["objects_done"] for c in cycles)
        by_worker = Counter(":".join(c["worker"].split(":")[:2]) for c in cycles)  # host:pid (without the nonce)
        return {
            "database": connection.vendor,
            "applications": len(applications),
            "users_per_application": options["users"],
            "workers": options["workers"],
            "processes_per_worker": options["processes"],
            "latency_ms": options["latency_ms"],
            "cycle_tasks_queued": queued,
            "cycles_run": len(cycles),
            "cycle_statuses": dict(Counter(c["status"] for c in cycles)),
            "users_processed": objects,
            "users_created": sum(c["created"] for c in cycles),
            "users_failed": sum(c["failed"] for c in cycles),
            "wall_s": round(wall, 2),
            "users_per_s": round(objects / wall, 1) if wall > 0 else None,
            "cycle_s_median": round(
                sorted((f - s).total_seconds() for c in per_app.values() for s, f in c)[len(cycles) // 2], 2
            ),  # fmt: skip
            "max_concurrent_cycles_per_application": max(max_overlap(spans) for spans in per_app.values()),
            "max_concurrent_cycles": max_overlap([span for spans in per_app.values() for span in spans]),
            "cycles_per_worker_process": dict(sorted(by_worker.items())),
            "load_average": os.getloadavg(),
        }
