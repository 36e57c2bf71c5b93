"""python manage.py bench_cycle --users N --latency-ms L [--scenario plain|access] [--json FILE]: time real cycles
against the emulators.

The emulators run in a child process (`manage.py emulators`), so the figures are those of the engine alone:
wall time, remote calls, peak memory of this process and log rows.

- `plain` (the default): an initial cycle that creates everyone, an initial cycle with nothing to change, an
  incremental cycle with nothing to change and an incremental cycle after 1% of the users changed.
- `initial`: the first two only (the full-read cycles, e.g. peak memory at two tenant sizes).

Each run's counters are checked against what it must have done (nobody created twice, an unchanged run writes
nothing, the 1% are updated and nobody else is touched): the command prints the figures and then fails, naming the
run and the counter, when one of them is wrong.
- `access`: Salesforce access beyond the profile. A plain all-create and unchanged run, then the emulated org back at
  its seed and a second application whose every app role gives 2 permission sets and 1 public group: its all-create
  and unchanged runs. The summary compares them: wall time against the plain all-create, grants per Salesforce call
  of the access writes, and the calls an unchanged cycle spends reading current grants against N/2,000 + 10.

The applications are created for the run on the configured database and deleted afterwards (unless --keep).
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connections.clients.graph import GraphClient
from connections.clients.salesforce import SalesforceClient
from mappings.access.catalogue import store_catalogue
from mappings.access.models import AppRoleAccess, OrgAccessItem
from mappings.directory.assignments import AssignmentReader, is_default_access, role_value
from provisioning.applications import create_application, point_at_emulators
from provisioning.models import CycleKind, ProvisioningLogEntry
from provisioning.tasks import run_cycle

BENCH_ITEMS = ("Sales_Console", "Reports_Builder", "EMEA_Sales")  # 2 permission sets and 1 public group a user


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def check(run: dict) -> list[str]:
    """What is wrong with a run's counters, given what the run must have done."""
    problems = []
    if run["status"] not in ("succeeded", "completed_with_errors"):
        problems.append(f"status {run['status']}")
    if run["name"].endswith("initial_create") and run["created"] <= 0:
        problems.append("nobody created")
    if run["name"].endswith("unchanged"):
        moved = {k: run[k] for k in ("created", "updated", "disabled", "enabled", "granted", "revoked") if run[k]}
        if moved or run["salesforce_writes"]:
            problems.append(f"an unchanged run changed {moved or ''} with {run['salesforce_writes']} writes")
    if run["name"] == "incremental_1pct":
        if run["created"] or run["disabled"] or run["enabled"]:
            problems.append("users created, disabled or enabled by a change of given names")
        if not run["entra_users_changed"] * 0.8 <= run["updated"] <= run["entra_users_changed"]:
            problems.append(f"{run['updated']} updated for {run['entra_users_changed']} users changed")
    return problems


def summary_table(result: dict) -> str:
    """The runs as a table: time, calls and peak memory, with the machine's load beside them."""
    lines = [
        f"bench_cycle: {result['users']:,} users, {result['latency_ms']} ms latency, {result['database']}",
        f"{'run':<24}{'wall s':>9}{'calls':>7}{'SF':>6}{'Graph':>7}{'writes':>8}{'peak RSS MB':>13}{'load':>7}",
    ]
    for run in result["runs"]:
        lines.append(
            f"{run['name']:<24}{run['wall_s']:>9.1f}{run['api_calls']:>7}{run['salesforce_calls']:>6}"
            f"{run['graph_calls']:>7}{run['salesforce_writes']:>8}{run['peak_rss_mb']:>13.0f}{run['load_average']:>7.2f}"
        )
    lines.extend(
        f"{run['name']:<24}assignments {run['assignments_read']}"
        for run in result["runs"]
        if run.get("assignments_read")
    )
    return "\n".join(lines)


class PeakMemory:
    """Samples this process's resident memory every 20 ms while a run is going."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            self._stop.wait(0.02)

    def __enter__(self) -> PeakMemory:
        self.peak = rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


class EmulatorProcess:
    """`manage.py emulators` in a child process, driven through its HTTPS control API."""

    def __init__(self, users: int, latency_ms: int) -> None:
        self.info_file = Path(tempfile.mkdtemp(prefix="bench-cycle-")) / "emulators.json"
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", "emulators", "--seed", str(users), "--latency-ms", str(latency_ms),
             "--info-file", str(self.info_file)],
            cwd=settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 600
        while not self.info_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise CommandError("The emulators did not start (see `manage.py emulators --seed N`).")
            time.sleep(0.2)
        self.info = json.loads(self.info_file.read_text())
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = self.info["ca_bundle"]

    def control(self, method: str, **kwargs: Any) -> Any:
        response = self.session.post(f"{self.info['control_url']}/{method}", json=kwargs, timeout=300)
        response.raise_for_status()
        return response.json()["result"]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        # This run's own folder (mkdtemp: unique to the run), so nobody needs to clear bench-cycle-* folders by a
        # pattern that also takes those of a run going on beside this one.
        shutil.rmtree(self.info_file.parent, ignore_errors=True)


class Command(BaseCommand):
    help = "Time an all-create initial cycle, an unchanged initial cycle and a 1% incremental cycle."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--users", type=int, default=10_000, help="Assigned users the emulators are seeded with.")
        parser.add_argument("--latency-ms", type=int, default=0, help="Latency of every emulated remote call.")
        parser.add_argument("--json", default="", help="Also write the results to this file.")
        parser.add_argument(
            "--scenario",
            choices=("plain", "initial", "access"),
            default="plain",
            help="plain: create, unchanged, 1%% incremental; initial: create and unchanged only (the full-read "
            "runs, e.g. to compare peak memory at two tenant sizes); access: create and unchanged with 2 permission "
            "sets and 1 public group a user, against a plain run of the same invocation.",
        )
        parser.add_argument("--keep", action="store_true", help="Keep the benchmark application and its log.")
        parser.add_argument(
            "--profile", default="", help="Write a cProfile of each run to this folder and print its top functions."
        )

    def handle(
        self, *args, users: int, latency_ms: int, json: str, keep: bool, profile: str, scenario: str, **options
    ) -> None:
        self.profile_dir = Path(profile) if profile else None
        # DEBUG keeps the text of every SQL statement in memory: workers run without it, and so does the benchmark.
        settings.DEBUG = False
        emulators = EmulatorProcess(users, latency_ms)
        applications = []
        summary = None
        try:
            application = self.application(emulators, "plain")
            applications.append(application)
            job = application.job
            runs = [self.measure("initial_create", job, emulators, CycleKind.INITIAL)]
            runs.append(self.measure("initial_unchanged", job, emulators, CycleKind.INITIAL))
            if scenario == "initial":
                pass
            elif scenario == "plain":
                runs.append(self.measure("incremental_unchanged", job, emulators, CycleKind.INCREMENTAL))
                changed = self.change_one_percent(emulators)
                runs.append(self.measure("incremental_1pct", job, emulators, CycleKind.INCREMENTAL))
                runs[-1]["entra_users_changed"] = changed
            else:
                emulators.control("reset")  # the emulated org back at its seed: everyone is created again
                application = self.application(emulators, "access")
                applications.append(application)
                grants_per_user = self.give_every_role_access(application)
                runs.append(self.measure("access_initial_create", application.job, emulators, CycleKind.INITIAL))
                runs.append(self.measure("access_initial_unchanged", application.job, emulators, CycleKind.INITIAL))
                summary = self.access_summary(runs, users, grants_per_user)
        finally:
            emulators.stop()
            for application in applications if not keep else ():
                application.delete()
        result = {
            "users": users,
            "latency_ms": latency_ms,
            "scenario": scenario,
            "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            "runs": runs,
        }
        if summary is not None:
            result["access"] = summary
        problems = [f"{run['name']}: {problem}" for run in runs for problem in check(run)]
        result["problems"] = problems
        text = __import__("json").dumps(result, indent=2)
        self.stdout.write(text)
        self.stderr.write(summary_table(result))
        if json:
            Path(json).write_text(text + "\n")
        if problems:
            raise CommandError("Counters out of line: " + "; ".join(problems))

    def application(self, emulators: EmulatorProcess, kind: str):
        name = f"bench-cycle-{kind}-{int(time.time())}"
        application = create_application(name, suffix="uat", slug=name)
        point_at_emulators(application, emulators.info)
        return application

    def give_every_role_access(self, application) -> int:
        """Every app role gives 2 permission sets and 1 public group; returns the grants a user gets."""
        store_catalogue(application, SalesforceClient(application.salesforce).access_catalogue())
        items = list(OrgAccessItem.objects.filter(application=application, name__in=BENCH_ITEMS))
        if len(items) != len(BENCH_ITEMS):
            raise CommandError(f"The emulated org lacks one of {', '.join(BENCH_ITEMS)}.")
        roles = AssignmentReader(GraphClient(application.entra)).app_roles()
        for role in roles:
            if is_default_access(role):
                continue
            access = AppRoleAccess.objects.create(application=application, role_value=role_value(role))
            access.items.set(items)
        return len(items)

    def access_summary(self, runs: list[dict], users: int, grants_per_user: int) -> dict:
        """The access runs against the plain ones of this invocation, with the issue's bounds."""
        plain_create, plain_unchanged, create, unchanged = runs
        access_calls = create["salesforce_calls"] - plain_create["salesforce_calls"]
        read_calls = unchanged["salesforce_calls"] - plain_unchanged["salesforce_calls"]
        return {
            "grants_written": create["granted"],
            "grants_per_user": grants_per_user,
            "wall_ratio_vs_plain_create": round(create["wall_s"] / plain_create["wall_s"], 2),
            "wall_ratio_bound": 1.5,
            "extra_salesforce_calls_create": access_calls,
            "grants_per_extra_call": round(create["granted"] / access_calls, 1) if access_calls else None,
            "grants_per_call_bound": 150,
            "unchanged_writes": unchanged["salesforce_writes"],
            "unchanged_extra_calls_reading_grants": read_calls,
            "unchanged_read_bound": users // 2000 + 10,
        }

    def change_one_percent(self, emulators: EmulatorProcess) -> int:
        ids = emulators.control("assigned_user_ids")
        chosen = random.Random(7).sample(ids, max(1, len(ids) // 100))
        for n, user_id in enumerate(chosen):
            emulators.control("update_entra_user", id_or_upn=user_id, givenName=f"Changed{n}")
        return len(chosen)

    def measure(self, name: str, job, emulators: EmulatorProcess, kind: str) -> dict:
        emulators.control("reset_counters")
        self.stderr.write(f"{name} ...")
        profiler = cProfile.Profile() if self.profile_dir else None
        with PeakMemory() as memory:
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            cycle = run_cycle(job.pk, kind)
            if profiler:
                profiler.disable()
            wall = time.perf_counter() - start
        if profiler:
            self.profile_dir.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(self.profile_dir / f"{name}.prof")
            report = io.StringIO()
            pstats.Stats(profiler, stream=report).sort_stats("cumulative").print_stats(25)
            self.stderr.write(report.getvalue())
        if cycle is None:
            raise CommandError("Another cycle of the benchmark job was running.")
        cycle.refresh_from_db()
        counters = emulators.control("counters")
        row = {
            "name": name,
            "status": cycle.status,
            "wall_s": round(wall, 2),
            "users_per_s": round(cycle.objects_done / wall, 1) if wall else None,
            "salesforce_calls": counters["totals"]["salesforce"],
            "graph_calls": counters["totals"]["entra"],
            "salesforce_writes": counters["writes"]["salesforce"],
            "api_calls": counters["totals"]["salesforce"] + counters["totals"]["entra"],
            "peak_rss_mb": round(memory.peak, 1),
            "load_average": round(os.getloadavg()[0], 2),  # of the machine, at the end of the run
            "log_rows": ProvisioningLogEntry.objects.filter(cycle=cycle).count(),
            "created": cycle.created,
            "updated": cycle.updated,
            "disabled": cycle.disabled,
            "enabled": cycle.enabled,
            "failed": cycle.failed,
            "unchanged": cycle.unchanged,
            "skipped": cycle.skipped,
            "granted": cycle.granted,
            "revoked": cycle.revoked,
            "objects": cycle.objects_done,
            "assignments_read": cycle.assignments_read,
        }
        self.stderr.write(f"  {row}")
        return row
