"""bench_cycle --scenario access: a plain and an access run in one invocation, compared with the issue's bounds."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def test_the_access_scenario_reports_its_figures_against_the_bounds(tmp_path, role_groups):
    out = tmp_path / "bench.json"
    call_command(
        "bench_cycle", users=300, latency_ms=0, scenario="access", json=str(out), stdout=open(tmp_path / "o", "w"),
        stderr=open(tmp_path / "e", "w"),
    )  # fmt: skip
    result = json.loads(out.read_text())
    names = [run["name"] for run in result["runs"]]
    assert names == ["initial_create", "initial_unchanged", "access_initial_create", "access_initial_unchanged"]
    access = result["access"]
    assert access["grants_written"] > 0 and access["grants_written"] % access["grants_per_user"] == 0
    assert access["grants_per_extra_call"] >= access["grants_per_call_bound"]
    assert access["unchanged_writes"] == 0
    assert access["unchanged_extra_calls_reading_grants"] <= access["unchanged_read_bound"]
    assert result["runs"][2]["created"] == result["runs"][0]["created"]  # the same users, created again
