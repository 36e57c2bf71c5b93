"""A real `manage.py qcluster` process sharing the test database (and Redis when asked), for integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the test database pytest-django created, for the cluster process."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    auth = settings["USER"] or "postgres"
    if settings.get("PASSWORD"):
        auth += f":{settings['PASSWORD']}"
    return f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


class Cluster:
    def __init__(self, *, cluster_name: str, redis_url: str = "", workers: int = 2) -> None:
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "Q_SYNC": "false",
            "DATABASE_URL": database_url(),
            "TEST_Q_QUEUE": cluster_name,
            "Q_WORKERS": str(workers),
            "LOG_LEVEL": "WARNING",
        }
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        else:
            self.env.pop("REDIS_URL", None)
        self.log = tempfile.NamedTemporaryFile(prefix="qcluster-", suffix=".log", delete=False)  # noqa: SIM115
        self.process: subprocess.Popen | None = None

    def start(self) -> Cluster:
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: workers die with it
        )
        time.sleep(0.5)
        if self.process.poll() is not None:
            raise RuntimeError(f"qcluster exited at once:\n{self.output()}")
        return self

    def kill(self) -> None:
        """SIGKILL the whole cluster (sentinel, monitor, workers): a machine losing power, as far as we can tell."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout:.0f}s waiting for {message}")
