"""`manage.py emulators` publishes its info file only once the servers answer, and stops on SIGTERM."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

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
        assert set(info) == {"salesforce", "entra", "ca_bundle", "control_url"}
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
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
