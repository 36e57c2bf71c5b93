"""python manage.py bench_faults [--users N] [--rate R] [--kinds ...] [--json FILE]: the Salesforce state reached under
faults equals the state a fault-free run reaches.

The emulators run in a child process. The same script runs twice on the same seed, once without faults and once with
faults injected at R (default 20 %) of the data calls of Salesforce and of Microsoft Graph, shared evenly among the
kinds chosen (each system draws only the kinds it has: see `emulators/control.py` set_fault_rates):

  phase 1  an initial cycle over the seeded tenant;
  phase 2  then 2 % of the users changed in Entra (a new first name), 1 % unassigned and 1 % disabled, and an
           incremental cycle.

Under faults each phase runs cycles until it settles: a cycle that completes (not failed, paused or crashed, and with
an import that read everything) with the same users in escrow as the fault-free run (the seed's awkward users fail in
both). A cycle paused by the daily API limit is resumed by the same task the schedule runs
(provisioning.tasks.check_api_limit), and the escrow back-off is fast-forwarded between cycles (it only spaces
retries out in time). After each phase the Salesforce users are compared by username: missing, extra, wrong
attributes, wrongly deactivated; all four must be 0.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from provisioning.applications import create_application, point_at_emulators
from provisioning.management.commands.bench_cycle import EmulatorProcess
from provisioning.models import CycleStatus, Escrow, ProvisioningCycle
from provisioning.tasks import check_api_limit, run_cycle

SALESFORCE_KINDS = ("500", "503", "timeout", "timeout_after", "429", "limit", "expire", "lock_row")
GRAPH_KINDS = ("500", "503", "timeout", "429", "expire", "no_value")
ALL_KINDS = tuple(dict.fromkeys(SALESFORCE_KINDS + GRAPH_KINDS))
# Fields that differ between two runs whatever happens: ids and timestamps of the emulated org.
NOT_COMPARED = frozenset(
    {"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "CreatedById", "LastModifiedById", "LastLoginDate"}
)
COMPLETED = (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS)


class Command(BaseCommand):
    help = "Compare the Salesforce state reached under 20% injected faults with a fault-free run."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--users", type=int, default=2000, help="Users the emulators are seeded with.")
        parser.add_argument("--rate", type=float, default=0.20, help="Share of data calls that fail (each system).")
        parser.add_argument(
            "--kinds",
            default=",".join(ALL_KINDS),
            help=f"Comma-separated fault kinds, shared evenly (default: all of {', '.join(ALL_KINDS)}).",
        )
        parser.add_argument("--max-cycles", type=int, default=25, help="Cycles a phase may take to settle.")
        parser.add_argument("--json", default="", help="Also write the results to this file.")

    def handle(self, *args, users: int, rate: float, kinds: str, max_cycles: int, json: str, **options) -> None:
        chosen = [k.strip() for k in kinds.split(",") if k.strip()]
        unknown = set(chosen) - set(ALL_KINDS)
        if unknown:
            raise CommandError(f"Unknown fault kinds: {', '.join(sorted(unknown))}. Known: {', '.join(ALL_KINDS)}.")
        if not 0 <= rate < 1:
            raise CommandError("--rate is a share of calls between 0 and 1 (0.2 for 20%).")
        settings.DEBUG = False
        self.max_cycles = max_cycles
        emulators = EmulatorProcess(users, 0)
        applications = []
        try:
            started = time.monotonic()
            clean = self.script(emulators, applications, "clean", None)
            clean_seconds = time.monotonic() - started
            emulators.control("reset")
            started = time.monotonic()
            faulty = self.script(emulators, applications, "faults", (rate, chosen))
            faulty_seconds = time.monotonic() - started
            injected = emulators.control("counters")
        finally:
            emulators.stop()
            for application in applications:
                application.delete()
        phases = []
        for (name, reference), (_, reached) in zip(clean["states"], faulty["states"], strict=True):
            phases.append({"phase": name, **compare(reference, reached)})
        result = {
            "users": users,
            "fault_rate": rate,
            "kinds": chosen,
            "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            "fault_free": {"seconds": round(clean_seconds, 1), "cycles": clean["cycles"]},
            "with_faults": {
                "seconds": round(faulty_seconds, 1),
                "cycles": faulty["cycles"],
                "api_limit_checks": faulty["resumes"],
                "salesforce_calls": sum(injected["salesforce"].values()),
                "graph_calls": sum(injected["entra"].values()),
            },
            "phases": phases,
            "all_zero": all(
                p[key] == 0 for p in phases for key in ("missing", "extra", "wrong_attributes", "wrongly_deactivated")
            ),
        }
        text = __import__("json").dumps(result, indent=2)
        self.stdout.write(text)
        if json:
            Path(json).write_text(text + "\n")

    # -- the script -----------------------------------------------------------------------------------------------
    def script(self, emulators: EmulatorProcess, applications: list, label: str, faults) -> dict[str, Any]:
        name = f"bench-faults-{label}-{int(time.time())}"
        application = create_application(name, suffix="uat", slug=name)
        applications.append(application)
        point_at_emulators(application, emulators.info)
        job = application.job
        job.enabled = True
        job.save(update_fields=["enabled"])
        cycles: list[dict] = []
        states = []
        resumes = 0
        self.set_faults(emulators, faults)
        resumes += self.settle(job, cycles, "initial", emulators, faults, label)
        states.append(("initial", self.salesforce_state(emulators)))
        self.change_entra(emulators)
        resumes += self.settle(job, cycles, "changes", emulators, faults, label)
        states.append(("changes", self.salesforce_state(emulators)))
        return {"cycles": cycles, "states": states, "resumes": resumes}

    def set_faults(self, emulators: EmulatorProcess, faults) -> None:
        for system, own in (("salesforce", SALESFORCE_KINDS), ("entra", GRAPH_KINDS)):
            if faults is None:
                emulators.control("set_fault_rates", system=system)
                continue
            rate, chosen = faults
            kinds = [k for k in chosen if k in own]
            share = rate / len(kinds) if kinds else 0.0
            rates = {f"rate_{k}": share for k in kinds}
            emulators.control("set_fault_rates", system=system, timeout_seconds=1.0, retry_after=1, **rates)

    def settle(self, job, cycles: list[dict], phase: str, emulators, faults, label: str) -> int:
        """Run cycles until one completes with the fault-free run's escrows; returns the API-limit resumes."""
        resumes = 0
        expected = getattr(self, "expected_escrows", {}).get(phase)
        for _ in range(self.max_cycles):
            cycle = run_cycle(job.pk)
            if cycle is None:
                raise CommandError("The benchmark's job was claimed by another worker.")
            cycle.refresh_from_db()
            while cycle.status == CycleStatus.PAUSED and cycle.error_code == "REQUEST_LIMIT_EXCEEDED":
                cycles.append(summary(phase, cycle))
                resumes += 1
                check_api_limit(job.pk)  # what the schedule runs: reads /limits, resumes the cycle
                cycle = ProvisioningCycle.objects.filter(job=job).order_by("-pk").first()
            cycles.append(summary(phase, cycle))
            escrowed = set(Escrow.objects.filter(job=job).values_list("source_id", flat=True))
            Escrow.objects.filter(job=job).update(next_attempt_at=timezone.now())  # fast-forward the back-off
            if faults is None:
                self.expected_escrows = {**getattr(self, "expected_escrows", {}), phase: escrowed}
                if cycle.status not in COMPLETED:
                    raise CommandError(f"The fault-free {phase} cycle ended {cycle.status}: {cycle.error_message}")
                return resumes
            if cycle.status in COMPLETED and not cycle.error_code and escrowed == expected:
                return resumes
        self.stderr.write(f"The {phase} phase ({label}) did not settle within {self.max_cycles} cycles.")
        return resumes

    def change_entra(self, emulators: EmulatorProcess) -> None:
        """The same changes in both runs: 2 % renamed, 1 % unassigned, 1 % disabled (a fixed choice of users)."""
        ids = sorted(emulators.control("assigned_user_ids"))
        for n, user_id in enumerate(ids):
            if n % 50 == 1:
                emulators.control("update_entra_user", id_or_upn=user_id, givenName=f"Renamed{n}")
            elif n % 100 == 2:
                emulators.control("unassign", principal=user_id)
            elif n % 100 == 3:
                emulators.control("disable_entra_user", id_or_upn=user_id)

    def salesforce_state(self, emulators: EmulatorProcess) -> dict[str, dict]:
        users = emulators.control("salesforce_users")
        names = {u["Id"]: u["Username"].lower() for u in users}
        state = {}
        for user in users:
            record = {}
            for field, value in user.items():
                if field in NOT_COMPARED:
                    continue
                if isinstance(value, str) and value in names:
                    value = f"user:{names[value]}"  # a reference to a user (ManagerId): by username, not by id
                record[field] = value
            state[user["Username"].lower()] = record
        return state


def summary(phase: str, cycle: ProvisioningCycle) -> dict[str, Any]:
    return {
        "phase": phase,
        "kind": cycle.kind,
        "trigger": cycle.trigger,
        "status": cycle.status,
        "error_code": cycle.error_code,
        "failed": cycle.failed,
        "created": cycle.created,
        "updated": cycle.updated,
        "disabled": cycle.disabled,
        "salesforce_calls": cycle.salesforce_calls,
        "graph_calls": cycle.graph_calls,
        "retry_seconds": cycle.retry_seconds,
    }


def compare(reference: dict[str, dict], reached: dict[str, dict]) -> dict[str, Any]:
    """Missing, extra, wrong attributes and wrongly deactivated users of `reached` against `reference`."""
    missing = sorted(set(reference) - set(reached))
    extra = sorted(set(reached) - set(reference))
    wrong: dict[str, list[str]] = {}
    deactivated = []
    for username in set(reference) & set(reached):
        want, got = reference[username], reached[username]
        fields = sorted(f for f in set(want) | set(got) if want.get(f) != got.get(f))
        if fields:
            wrong[username] = fields
        if want.get("IsActive") and not got.get("IsActive"):
            deactivated.append(username)
    return {
        "salesforce_users": len(reached),
        "missing": len(missing),
        "extra": len(extra),
        "wrong_attributes": len(wrong),
        "wrongly_deactivated": len(deactivated),
        "examples": {
            "missing": missing[:5],
            "extra": extra[:5],
            "wrong_attributes": dict(list(sorted(wrong.items()))[:5]),
            "wrongly_deactivated": sorted(deactivated)[:5],
        },
    }
