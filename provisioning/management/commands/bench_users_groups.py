"""python manage.py bench_users_groups --assignments N --latency-ms L [--json FILE]: the Users and groups page at
tenant scale, on the configured database.

The Entra emulator runs in a child process (`manage.py emulators`), seeded so that the enterprise application has
N assignments, users and groups mixed: the seed's users assigned directly, plus groups of `--group-size` members
(a tenth of them nesting the group made before them, a few on Default Access, a few empty) until N is reached.
Then, at L ms of latency on every Graph call:

- Refresh from Entra into an empty snapshot (every row written) and again with nothing changed: seconds, Graph calls;
- the page as a reader opens it, called in-process with RequestFactory (server time: queries, template, response):
  page 1, a deep page, each filter, several searches, a group's members; median and max of `--repeat` runs;
- the Graph calls the emulator counted during all those page views (a plain page view must make none).

The benchmark application is deleted afterwards unless --keep.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import random
import statistics
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import RequestFactory

from connections.clients.graph import GraphClient
from connections.models import Application
from console.permissions import REPORTS_READER
from mappings.assignment_list import PAGES, AssignmentFilters, filtered_assignments
from mappings.directory import warnings
from mappings.directory.assignments import AppRoles, AssignmentReader, is_default_access
from mappings.directory.models import PrincipalType, SnapshotAssignment, SnapshotGrant, SnapshotSource
from mappings.directory.snapshot import refresh
from mappings.views.assignments import assignment_members, users_and_groups
from provisioning.applications import create_application, point_at_emulators
from provisioning.management.commands.bench_cycle import EmulatorProcess

DIRECT_SHARE = 0.85  # of the seed's users, those assigned directly (emulators/seed.py)
PAGE_BOUND_MS = 150
REFRESH_BOUND_S = 20
TABLES = ("mappings_snapshotassignment", "mappings_snapshotgrant", "mappings_snapshotuser")


class Command(BaseCommand):
    help = "Time the Users and groups page (each filter and search) and Refresh from Entra at tenant scale."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--assignments", type=int, default=100_000, help="Assignments, users and groups mixed.")
        parser.add_argument("--groups", type=int, default=5_000, help="Of those, assignments of groups.")
        parser.add_argument("--group-size", type=int, default=20, help="Users in each benchmark group.")
        parser.add_argument("--latency-ms", type=int, default=30, help="Latency of every emulated Graph call.")
        parser.add_argument("--repeat", type=int, default=5, help="Timed runs per page (median reported).")
        parser.add_argument("--json", default="", help="Also write the results to this file.")
        parser.add_argument("--keep", action="store_true", help="Keep the benchmark application (prints its slug).")
        parser.add_argument(
            "--profile", default="", help="Write a cProfile of each refresh to this folder and print its top functions."
        )
        parser.add_argument(
            "--pages-of", default="", help="Only time the pages of an application kept by an earlier --keep run."
        )

    def handle(self, *args, assignments: int, groups: int, group_size: int, latency_ms: int, repeat: int, **options):
        if assignments < 1000 or not 0 < groups < assignments // 2:
            raise CommandError("--assignments must be at least 1000 and --groups between 1 and half of them.")
        settings.DEBUG = False  # DEBUG keeps every SQL statement in memory
        self.profile_dir = Path(options["profile"]) if options["profile"] else None
        if options["pages_of"]:
            application = Application.objects.filter(slug=options["pages_of"]).first()
            if application is None:
                raise CommandError(f"No application {options['pages_of']!r}.")
            self.analyze()
            pages = self.time_pages(application, repeat)
            for name, row in pages.items():
                self.stdout.write(_page_line(name, row))
            if options["json"]:
                Path(options["json"]).write_text(json.dumps({"database": connection.vendor, "pages": pages}, indent=2))
            return
        direct = assignments - groups
        seed = int(direct / DIRECT_SHARE) + 1
        self.stderr.write(f"Seeding the Entra emulator with {seed} users …")
        emulators = EmulatorProcess(seed, 0)
        application = None
        try:
            application = create_application(f"bench-users-groups-{int(time.time())}", suffix="uat")
            point_at_emulators(application, emulators.info)
            book = AssignmentReader(GraphClient(application.entra)).book()
            roles = [role["value"] for role in book.roles if role.get("value") and not is_default_access(role)]
            tenant = self.add_groups(emulators, roles, assignments, group_size)
            emulators.control("set_latency", ms=latency_ms, system="entra")
            refreshes = [self.refresh(application, emulators, "into an empty snapshot")]
            refreshes.append(self.refresh(application, emulators, "unchanged"))
            self.analyze()
            emulators.control("reset_counters")
            pages = self.time_pages(application, repeat)
            page_graph_calls = emulators.control("counters")["totals"]["entra"]
        finally:
            emulators.stop()
            if application is not None and not options["keep"]:
                application.delete()
            elif application is not None:
                self.stderr.write(f"Kept: --pages-of {application.slug}")
        worst = max(row["median_ms"] for row in pages.values())
        result = {
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "database": connection.vendor,
            "latency_ms": latency_ms,
            "tenant": tenant,
            "refresh": refreshes,
            "pages": pages,
            "graph_calls_during_page_views": page_graph_calls,
            "slowest_page_median_ms": worst,
            "page_bound_ms": PAGE_BOUND_MS,
            "refresh_bound_s": REFRESH_BOUND_S,
        }
        self.report(result)
        if options["json"]:
            Path(options["json"]).write_text(json.dumps(result, indent=2) + "\n")

    def analyze(self) -> None:
        """Statistics for the planner, and on PostgreSQL the visibility map that lets a page's ids come from an index
        alone (what autovacuum does within a minute or so of a refresh's writes)."""
        command = "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"{command} {table}")  # noqa: S608 - our own table names

    # The tenant --------------------------------------------------------------------------------------------------
    def add_groups(self, emulators: EmulatorProcess, roles: list[str], assignments: int, size: int) -> dict[str, int]:
        """Groups until the application has `assignments` assignments: members drawn mostly from users the seed
        gives no assignment of their own, a fifth from users assigned directly (so that some are direct beside a
        group of another role); every tenth group nests the one made before it, one in fifty is on Default Access,
        one in 500 is empty."""
        existing = emulators.control("create_assigned_groups", groups=[])["assignments"]
        assigned = emulators.control("assigned_user_ids")
        rng = random.Random(17)
        cut = len(assigned) - int(len(assigned) * DIRECT_SHARE)
        grouped, direct = assigned[:cut], assigned[cut:]
        created: list[str] = []
        total = existing
        wanted = assignments - existing
        for start in range(0, wanted, 500):
            batch = []
            for n in range(start, min(wanted, start + 500)):
                members = (
                    [] if n % 500 == 499 else [*rng.sample(grouped, size - size // 5), *rng.sample(direct, size // 5)]
                )
                if n % 10 == 9 and n > start:
                    members.append(f"@{n - 1 - start}")  # the group before it, resolved below
                batch.append(
                    {
                        "name": f"Bench group {n:05d} {rng.choice(('Sales', 'Support', 'Finance', 'Ops', 'Legal'))}",
                        "members": members,
                        "role": None if n % 50 == 49 else rng.choice(roles),
                    }
                )
            # A nested group must exist first: the batch goes in two halves, the nested ones after their inner ones.
            inner = [spec for spec in batch if not any(m.startswith("@") for m in spec["members"])]
            answer = emulators.control("create_assigned_groups", groups=inner)
            made = {id(spec): group for spec, group in zip(inner, answer["created"], strict=True)}
            outer = []
            for spec in batch:
                if id(spec) in made:
                    continue
                spec["members"] = [
                    made[id(batch[int(m[1:])])]["id"] if m.startswith("@") else m for m in spec["members"]
                ]
                outer.append(spec)
            answer = emulators.control("create_assigned_groups", groups=outer)
            created.extend(g["id"] for g in made.values())
            created.extend(g["id"] for g in answer["created"])
            total = answer["assignments"]
        return {"assignments": total, "groups_added": len(created), "seed_users": len(assigned)}

    # Refresh -----------------------------------------------------------------------------------------------------
    def refresh(self, application, emulators: EmulatorProcess, label: str) -> dict[str, Any]:
        emulators.control("reset_counters")
        self.stderr.write(f"Refresh from Entra, {label} …")
        profiler = cProfile.Profile() if self.profile_dir else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        done = refresh(application, AssignmentReader(GraphClient(application.entra)), source=SnapshotSource.REFRESH)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        if profiler:
            self.profile_dir.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(self.profile_dir / f"refresh-{label.replace(' ', '-')}.prof")
            report = io.StringIO()
            pstats.Stats(profiler, stream=report).sort_stats("cumulative").print_stats(30)
            self.stderr.write(report.getvalue())
        counters = emulators.control("counters")
        if not done.stored:
            raise CommandError("The refresh was not stored.")
        row = {
            "run": label,
            "seconds": round(seconds, 2),
            "graph_calls": counters["totals"]["entra"],
            "http_requests": done.graph_calls,
            "graph_calls_by_endpoint": {k: v for k, v in counters["entra"].items() if v},
            "assignments": done.assignments,
            "users_reached": done.reached,
            "grants": SnapshotGrant.objects.filter(application=application).count(),
            "steps_s": done.steps,
        }
        self.stderr.write(f"  {row}")
        return row

    # Pages -------------------------------------------------------------------------------------------------------
    def reader(self) -> User:
        user, _ = User.objects.get_or_create(username="bench.reader")
        user.groups.add(Group.objects.get_or_create(name=REPORTS_READER)[0])
        return User.objects.get(pk=user.pk)

    def timed(self, view, user, params: dict, repeat: int, **kwargs) -> dict[str, Any]:
        times, sql = [], []
        for _ in range(repeat + 1):  # one warm-up
            request = RequestFactory().get("/", params)
            request.user = user
            request.session = {}
            request._messages = _Messages()
            queries = _QueryClock()
            started = time.perf_counter()
            with connection.execute_wrapper(queries):
                response = view(request, **kwargs)
            times.append((time.perf_counter() - started) * 1000)
            sql.append(queries)
            if response.status_code != 200:
                raise CommandError(f"{view.__name__} {params}: {response.status_code}")
        rows = response.content.count(b"<tr>") - response.content.count(b"<thead>")
        times, sql = times[1:], sql[1:]
        return {
            "median_ms": round(statistics.median(times), 1),
            "max_ms": round(max(times), 1),
            "rows": rows,
            "queries": sql[-1].count,
            "sql_median_ms": round(statistics.median(q.ms for q in sql), 1),
        }

    def time_pages(self, application, repeat: int) -> dict[str, dict[str, Any]]:
        user = self.reader()
        rows = SnapshotAssignment.objects.filter(application=application)
        ordered = PAGES.order(rows)
        total = rows.count()
        deep = PAGES.encode(ordered[min(total - 1, 50 * 999 - 1)])  # the boundary of page 1,000
        user_row = rows.filter(principal_type=PrincipalType.USER).order_by("id")[total // 3]
        group_row = rows.filter(principal_type=PrincipalType.GROUP, members__gt=0).order_by("-members", "id").first()
        role_ids = list(rows.values_list("role_id", flat=True).distinct())
        counts = {rid: rows.filter(role_id=rid).count() for rid in role_ids}
        common, rare = max(counts, key=counts.get), min(counts, key=counts.get)
        cases: dict[str, dict[str, str]] = {
            "page 1": {},
            "page 1000 (deep)": {"after": deep},
            "type: User": {"type": PrincipalType.USER},
            "type: Group": {"type": PrincipalType.GROUP},
            f"role: most common ({counts[common]})": {"role": common},
            f"role: rarest ({counts[rare]})": {"role": rare},
            "warning: has a warning": {"warning": "any"},
            **{f"warning: {kind.label}": {"warning": kind.key} for kind in warnings.KINDS},
            "search: one letter": {"q": "m"},
            "search: name prefix": {"q": user_row.display_name[:5]},
            "search: UPN": {"q": user_row.upn},
            "search: mail prefix": {"q": (user_row.mail or user_row.upn)[:8]},
            "search: object ID": {"q": user_row.principal_id},
            "search: group name": {"q": "bench group 01"},
            "search: no match": {"q": "zz-nobody"},
            "search + type + warning": {"q": "a", "type": PrincipalType.USER, "warning": "any"},
            "search, page 2": {"q": user_row.display_name[:1], "after": self.search_token(application, user_row)},
            "tampered page token": {"after": deep[:-3] + "xyz"},
        }
        pages = {name: self.timed(users_and_groups, user, params, repeat, slug=application.slug) for name, params in
                 cases.items()}  # fmt: skip
        members = {"assignment_id": group_row.assignment_id, "slug": application.slug}
        pages[f"members of the largest group ({group_row.members})"] = self.timed(
            assignment_members, user, {}, repeat, **members
        )
        pages["members, search"] = self.timed(assignment_members, user, {"q": "a"}, repeat, **members)
        return pages

    def search_token(self, application, row) -> str:
        """The token of page 2 of a one-letter search, as the page's Next link carries it."""
        filters = AssignmentFilters({"q": row.display_name[:1]}, book=AppRoles([]), kinds=warnings.KINDS)
        pages, rows = filtered_assignments(application, filters)
        return pages.encode(list(rows[:50])[-1])

    def report(self, result: dict[str, Any]) -> None:
        tenant = result["tenant"]
        self.stdout.write(
            f"\n{tenant['assignments']} assignments ({tenant['groups_added']} groups added to the seed's "
            f"{tenant['seed_users']} users) on {result['database']}, Graph latency {result['latency_ms']} ms; "
            f"load average at the end {' '.join(map(str, result['load_average']))} on {os.cpu_count()} CPUs "
            "(timings under load are slower)"
        )
        for row in result["refresh"]:
            self.stdout.write(
                f"  Refresh from Entra, {row['run']:24} {row['seconds']:7.2f} s  {row['http_requests']} HTTP requests "
                f"({row['graph_calls']} Graph calls counting batch parts)  "
                f"{row['assignments']} assignments reaching {row['users_reached']} users ({row['grants']} grants); "
                + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in row["steps_s"].items())
            )
        for name, row in result["pages"].items():
            self.stdout.write(_page_line(name, row))
        self.stdout.write(f"  Graph calls during all page views: {result['graph_calls_during_page_views']}")
        self.stdout.write(
            f"  slowest page median {result['slowest_page_median_ms']} ms (bound {result['page_bound_ms']} ms); "
            f"refresh bound {result['refresh_bound_s']} s"
        )


def _page_line(name: str, row: dict[str, Any]) -> str:
    return (
        f"  {name:40} median {row['median_ms']:7.1f} ms  max {row['max_ms']:7.1f} ms  rows {row['rows']:3}  "
        f"{row['queries']:2} queries, {row['sql_median_ms']:6.1f} ms of SQL (median)"
    )


class _QueryClock:
    """Counts a page view's SQL statements and the time spent in them (an execute_wrapper)."""

    def __init__(self) -> None:
        self.count, self.ms = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.ms += (time.perf_counter() - started) * 1000


class _Messages(list):
    """Enough of the messages storage for views that add a message (a refused page token, a search too long)."""

    level = 20

    def add(self, level, message, extra_tags="") -> None:
        self.append(message)

    def __iter__(self):
        return iter(list.copy(self))
