"""`manage.py emulators` publishes its info file only once the servers answer, and stops on SIGTERM."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[2]


def test_command_writes_a_usable_info_file_and_stops_cleanly(tmp_path):
    info_file = tmp_path / "emulators.json"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "emulators", "--seed", "20", "--info-file", str(info_file), "--latency-ms", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not info_file.exists():
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "no info file"
            time.sleep(0.05)
        info = json.loads(info_file.read_text())
        assert set(info) == {"salesforce", "entra", "signin", "ca_bundle", "control_url"}
        assert {"login_url", "instance_url", "username", "password", "security_token", "org_id"} <= set(
            info["salesforce"]
        )
        assert {
            "authority_host",
            "graph_url",
            "tenant_id",
            "client_id",
            "client_secret",
            "service_principal_id",
        } <= set(info["entra"])
        session = requests.Session()
        session.trust_env, session.verify = False, info["ca_bundle"]
        counters = session.get(info["control_url"] + "/counters", timeout=5).json()["result"]
        assert counters["totals"] == {"salesforce": 0, "entra": 0}
        tenant = info["entra"]["tenant_id"]
        config = session.get(f"{info['entra']['authority_host']}/{tenant}/v2.0/.well-known/openid-configuration")
        assert config.json()["issuer"] == f"{info['entra']['authority_host']}/{tenant}/v2.0"
        # The seeded state is frozen out of the garbage collector's sight, and again after a reset: both work.
        assert session.post(info["control_url"] + "/reset", json={}, timeout=30).status_code == 200
        users = session.post(info["control_url"] + "/assigned_user_ids", json={}, timeout=5).json()["result"]
        assert len(users) == 20
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--seed", "-5"], "--seed must be 0 or more (got -5)."),
        (["--latency-ms", "-1"], "--latency-ms must be 0 or more (got -1)."),
        (["--port-entra", "70000"], "--port-entra must be a port between 1 and 65535"),
        (["--info-file", "/nonexistent/dir/x.json"], "the folder /nonexistent/dir does not exist or is not writable"),
    ],
)
def test_impossible_options_are_refused_before_anything_starts(arguments, message):
    with pytest.raises(CommandError) as caught:
        call_command("emulators", *arguments)
    assert message in str(caught.value)


def test_a_port_in_use_is_a_clear_error():
    salesforce_port, entra_port = _free_port(), _free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(CommandError, match="Address already in use. Choose other ports, or 0 for free ones."):
            call_command(
                "emulators",
                *("--seed", "1", "--port-control", str(busy.getsockname()[1])),
                *("--port-salesforce", str(salesforce_port), "--port-entra", str(entra_port)),
            )
    # The two servers bound before the failure released their ports.
    for port in (salesforce_port, entra_port):
        with socket.socket() as again:
            again.bind(("127.0.0.1", port))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
