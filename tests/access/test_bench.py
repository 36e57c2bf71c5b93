"""bench_cycle --scenario access: a plain and an access run in one invocation, compared with the issue's bounds."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def test_the_access_scenario_reports_its_figures_against_the_bounds(tmp_path, role_groups):
    out = tmp_path / "bench.json"
    printed = io.StringIO()
    call_command(
        "bench_cycle", users=300, latency_ms=0, scenario="access", json=str(out), stdout=open(tmp_path / "o", "w"),
        stderr=printed,
    )  # fmt: skip
    result = json.loads(out.read_text())
    names = [run["name"] for run in result["runs"]]
    assert names == ["initial_create", "initial_unchanged", "access_initial_create", "access_initial_unchanged"]
    table = printed.getvalue().split("peak RSS MB", 1)[1]  # the summary: a line of figures for each run
    for run in result["runs"]:
        line = next(line for line in table.splitlines() if line.startswith(run["name"] + " "))
        assert line.split()[1:] == [
            f"{run['wall_s']:.1f}", str(run["api_calls"]), str(run["salesforce_calls"]), str(run["graph_calls"]),
            str(run["salesforce_writes"]), f"{run['peak_rss_mb']:.0f}", f"{run['load_average']:.2f}",
        ]  # fmt: skip
        assert run["api_calls"] == run["salesforce_calls"] + run["graph_calls"]
    access = result["access"]
    assert access["grants_written"] > 0 and access["grants_written"] % access["grants_per_user"] == 0
    assert access["grants_per_extra_call"] >= access["grants_per_call_bound"]
    assert access["unchanged_writes"] == 0
    assert access["unchanged_extra_calls_reading_grants"] <= access["unchanged_read_bound"]
    assert result["runs"][2]["created"] == result["runs"][0]["created"]  # the same users, created again
