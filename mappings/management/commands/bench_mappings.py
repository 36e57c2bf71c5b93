"""Measure how long evaluating the default mapping takes per user (the engine's hot path)."""

from __future__ import annotations

import statistics
import time

from django.core.management.base import BaseCommand

from mappings.compiled import compile_mapping
from mappings.defaults import default_attribute_mappings
from mappings.models import ObjectMapping


def sample_users(count: int) -> list[dict]:
    roles = ["Standard User", "Chatter Free User", "System Administrator"]
    return [
        {
            "id": f"00000000-0000-0000-0000-{i:012d}",
            "userPrincipalName": f"user{i}.name@contoso.com",
            "mail": f"user{i}.name@contoso.com",
            "givenName": f"Given{i}",
            "surname": f"Surname{i}",
            "displayName": f"Given{i} Surname{i}",
            "preferredLanguage": "en-US" if i % 3 else None,
            "department": "Sales",
            "accountEnabled": True,
            "IsSoftDeleted": "False" if i % 10 else "True",
            "appRoleAssignments": [roles[i % 3]] if i % 7 else [],
        }
        for i in range(count)
    ]


class Command(BaseCommand):
    help = "Evaluate the default Salesforce user mapping for N sample users and print microseconds per user."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=10_000, help="How many sample users (default 10000).")
        parser.add_argument("--suffix", default="uat", help="Sandbox suffix of the default mapping.")

    def handle(self, *args, users: int, suffix: str, **options):
        object_mapping = ObjectMapping(sandbox_suffix=suffix)
        compiled = compile_mapping(
            object_mapping, attributes=default_attribute_mappings(object_mapping, suffix), filters=[]
        )
        people = sample_users(max(users, 1))
        for person in people[:100]:  # warm-up
            compiled.evaluate(person, creating=True)
        timings = []
        clock = time.perf_counter_ns
        for person in people:
            start = clock()
            compiled.evaluate(person, creating=True)
            compiled.match_values(person)
            timings.append((clock() - start) / 1000)
        timings.sort()
        p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
        self.stdout.write(
            f"default mapping, {len(people)} users: mean {statistics.fmean(timings):.1f} us/user, "
            f"median {statistics.median(timings):.1f} us, p99 {p99:.1f} us, max {timings[-1]:.1f} us"
        )
