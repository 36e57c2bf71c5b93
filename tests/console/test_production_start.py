"""The production start of the README, run for real: scripts/production-start with production settings (DEBUG off,
keys from the environment, static files collected) starts gunicorn and a qcluster worker against the test database;
the console answers through gunicorn behind a (simulated) TLS proxy, the worker reports its heartbeat, and SIGTERM
stops both."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.engine.cluster import database_url, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_production_start_serves_the_console_and_runs_a_worker(tmp_path):
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "Q_", "REDIS_", "DEBUG", "TEST_Q", "SECURE_"))
    }
    env.update(
        PYTHON=sys.executable,
        DEBUG="false",
        SECRET_KEY="production-start-test-" + "k" * 40,
        FIELD_ENCRYPTION_KEYS="hXhR4tqYk0s0f1o5E3a2vYzv1q0S8mG6tC5s2cXwz5U=",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url(),
        STATIC_ROOT=str(tmp_path / "static"),
        CONSOLE_LOCAL_DIR=str(tmp_path / "local"),
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        Q_WORKERS="1",
        METRICS_TOKEN="production-metrics-token-1",
    )
    log = (tmp_path / "production.log").open("wb")
    process = subprocess.Popen(  # noqa: S603
        [str(ROOT / "scripts" / "production-start")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        def health():
            try:
                return requests.get(f"{base}/healthz", headers=PROXY, timeout=10)
            except requests.RequestException:  # not listening yet, or busy starting
                assert process.poll() is None, (tmp_path / "production.log").read_text()
                return None

        answer = wait_for(lambda: (h := health()) is not None and h.json()["checks"]["worker"]["ok"] and h, 90,
                          message="gunicorn and a worker heartbeat")  # fmt: skip
        assert answer.status_code == 200 and answer.json()["status"] == "ok"

        # Production settings are in force: plain HTTP from the client is sent to HTTPS, HSTS is on.
        plain = requests.get(f"{base}/login/", allow_redirects=False, timeout=5)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
        page = requests.get(f"{base}/login/", headers=PROXY, timeout=5)
        assert page.status_code == 200 and "Strict-Transport-Security" in page.headers
        stylesheet = page.text.split('rel="stylesheet" href="')[1].split('"')[0]
        assert stylesheet != "/static/console.css"  # the hashed name from the collected manifest
        assert requests.get(base + stylesheet, headers=PROXY, timeout=5).status_code == 200
        metrics = requests.get(
            f"{base}/metrics", headers={**PROXY, "Authorization": "Bearer production-metrics-token-1"}
        )
        assert metrics.status_code == 200 and "console_queue_depth" in metrics.text
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # the script stops gunicorn and the qcluster in turn
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    output = (tmp_path / "production.log").read_text()
    assert process.returncode == 0, output
    assert "Booting worker" in output  # gunicorn's own line
