"""bench_logs fills the log with the asked number of rows and reports a time for every page it measures."""

from __future__ import annotations

import json

from django.core.management import call_command

from provisioning.models import ProvisioningLogEntry


def test_bench_logs_fills_and_times(db, tmp_path):
    out = tmp_path / "bench.json"
    call_command("bench_logs", rows=1500, repeat=1, serial=True, json_file=str(out), stdout=open(tmp_path / "log", "w"))
    assert ProvisioningLogEntry.objects.count() == 1500
    results = json.loads(out.read_text())
    assert results["rows"] == 1500
    assert results["pages"]["no filter, page 1"]["rows"] == 50
    assert results["pages"]["change id"]["rows"] == 1
    assert all(page["median_ms"] > 0 for page in results["pages"].values())
    assert {"json all", "csv zip all", "json last 7 days"} <= set(results["downloads"])
    assert results["downloads"]["json all"]["rows"] == 1500
    assert results["downloads"]["json all"]["megabytes"] > 0
    printed = (tmp_path / "log").read_text()
    assert "Download json of all 1,500 rows: " in printed and "rows per CPU-second" in printed
    assert "Download csv zip of all 1,500 rows: " in printed and "load average" in printed
    # --serial: the same downloads with the overlap off, the same bytes, and the gain printed
    assert results["downloads"]["json all, serial"]["megabytes"] == results["downloads"]["json all"]["megabytes"]
    assert results["downloads"]["csv zip all, serial"]["rows"] == 1500
    assert printed.count("the same one after another in one thread: ") == 2
