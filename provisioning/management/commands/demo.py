"""`manage.py demo`: the console with the bundled emulators, a worker and the web server, in one command.

Migrates, starts the emulators (a seeded tenant and sandbox), creates the demo administrator and the
"Demo sandbox" application pointed at the emulators, then runs `qcluster` and the web server until Ctrl-C.
The three are child processes in their own process groups, each told by the kernel to stop if this
process dies, and stopped in order on Ctrl-C or SIGTERM; their output goes to .local/logs/.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from provisioning import scheduling
from provisioning.demo import DEMO_APP_NAME, enable_entra_signin, ensure_demo_admin, ensure_demo_application
from provisioning.models import ProvisioningCycle
from provisioning.scheduling import apply_schedule

MANAGE = Path(settings.BASE_DIR) / "manage.py"
STOP_TIMEOUT = 15.0


class Stop(Exception):
    """Ctrl-C or SIGTERM: stop the children and leave."""


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel sends it SIGTERM when the demo process goes away (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Child:
    """One child process with its output in a log file."""

    def __init__(self, name: str, args: list[str], log_dir: Path) -> None:
        self.name, self.args = name, args
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Child:
        with self.log_path.open("ab") as log:
            log.write(f"\n== {timezone.now():%Y-%m-%d %H:%M:%S} starting {' '.join(self.args)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
                [sys.executable, str(MANAGE), *self.args],
                cwd=settings.BASE_DIR,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches only us; we stop the children in order
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
            )
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM the child (qcluster stops its own workers), SIGKILL its process group after STOP_TIMEOUT.

        Only the leader gets SIGTERM: a qcluster whose workers are signalled too waits for them forever.
        """
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever is left of the group (a worker that outlived its parent) goes now
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Command(BaseCommand):
    help = (
        "Run the console with the demo: the bundled emulators (a seeded Entra tenant and Salesforce sandbox), "
        "a django-q2 worker and the web server, with a demo administrator and a 'Demo sandbox' application. "
        "Ctrl-C stops everything; the data stays for the next start."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Web server port on 127.0.0.1 (default 8000).")
        parser.add_argument("--seed", type=int, default=200, help="Assigned users in the emulated tenant.")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Start everything, turn provisioning On for the demo application and ask for a cycle at once, wait "
            "for it to finish, print it and stop (a smoke test of the whole stack; Provisioning Status is put back).",
        )
        parser.add_argument("--check-timeout", type=float, default=300, help="Seconds --check waits for a cycle.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.local_dir = Path(settings.LOCAL_DIR)
        self.log_dir = self.local_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.children: list[Child] = []
        port = options["port"]
        if not _port_free(port):
            raise CommandError(f"Port {port} on 127.0.0.1 is in use (another console?). Choose one with --port.")
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        started = time.monotonic()
        try:
            self._start(port, options["seed"])
            if options["check"]:
                self._check(started, options["check_timeout"])
            else:
                self._supervise()
        except Stop:
            self.stdout.write("\nStopping ...")
        finally:
            for child in reversed(self.children):
                child.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Stopped. The data stays in " + str(self.local_dir) + " for the next start.")

    def _on_signal(self, signum, frame) -> None:
        raise Stop()

    def _spawn(self, name: str, *args: str) -> Child:
        child = Child(name, list(args), self.log_dir).start()
        self.children.append(child)
        return child

    def _start(self, port: int, seed: int) -> None:
        self.stdout.write("Preparing the database ...")
        call_command("migrate", interactive=False, verbosity=0)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)

        self.stdout.write(f"Starting the emulators ({seed} assigned users) ...")
        info_file = self.local_dir / "emulators.json"
        info_file.unlink(missing_ok=True)
        emulators = self._spawn("emulators", "emulators", "--seed", str(seed), "--info-file", str(info_file))
        self._wait(emulators, info_file.exists, 60, "the emulators' info file")
        info = json.loads(info_file.read_text())

        admin = ensure_demo_admin(self.local_dir)
        application, created = ensure_demo_application(info)
        url = f"http://127.0.0.1:{port}/"
        signin_environment, signin_people = enable_entra_signin(info, url, admin.password)
        os.environ.update(signin_environment)  # the web server signs people in through the emulated tenant

        self.stdout.write("Starting the worker and the web server ...")
        self._spawn("worker", "qcluster")
        web = self._spawn("web", "runserver", f"127.0.0.1:{port}", "--noreload")
        self._wait(web, lambda: _accepting(port), 60, "the web server")
        self.application = application

        password = admin.password if admin.created else f"(in {admin.password_file})"
        lines = [
            "",
            f"  The console is running at {url}",
            f"  Sign in as   {admin.username}",
            f"  Password     {password}",
            "  Or           Sign in with Microsoft (the emulated tenant), with the same password, as",
            *(f"               {person}" for person in signin_people),
            f"  Application  {DEMO_APP_NAME} ({'created' if created else 'pointed at the new emulators'}): "
            f"{url}apps/{application.slug}/provisioning/",
            f"  Logs         {self.log_dir}/(emulators|worker|web).log",
            "",
            "  Press Ctrl-C to stop.",
        ]
        if admin.created:
            lines.insert(4, f"               shown once; also saved in {admin.password_file} (mode 600)")
        self.stdout.write("\n".join(lines))
        self.stdout.flush()

    def _wait(self, child: Child, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if not child.running:
                raise CommandError(f"The {child.name} process stopped before {what} was ready:\n{child.tail()}")
            if time.monotonic() > deadline:
                raise CommandError(f"Timed out after {timeout:.0f}s waiting for {what}. See {child.log_path}.")
            time.sleep(0.1)

    def _supervise(self) -> None:
        """Until Ctrl-C: if a child dies, say which and why, and stop the others."""
        while True:
            for child in self.children:
                if not child.running:
                    raise CommandError(f"The {child.name} process stopped unexpectedly:\n{child.tail()}")
            time.sleep(0.5)

    def _check(self, started: float, timeout: float) -> None:
        job = self.application.job
        after = ProvisioningCycle.objects.filter(job=job).order_by("-pk").values_list("pk", flat=True).first() or 0
        was_enabled = job.enabled
        job.enabled = True
        job.save(update_fields=["enabled", "updated_at"])
        apply_schedule(job)
        logging.getLogger("django-q").setLevel(logging.WARNING)  # no "Enqueued" line amid the demo's output
        scheduling.sync_now(job)  # at once, rather than at the scheduler's next tick (every 30 seconds)
        try:
            self._wait_for_cycle(job, after, started, timeout)
        finally:
            if not was_enabled:
                job.enabled = False
                job.save(update_fields=["enabled", "updated_at"])
                apply_schedule(job)

    def _wait_for_cycle(self, job, after: int, started: float, timeout: float) -> None:
        self.stdout.write("Provisioning is On for the demo application; waiting for the first cycle ...")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for child in self.children:
                if not child.running:
                    raise CommandError(f"The {child.name} process stopped unexpectedly:\n{child.tail()}")
            cycle = ProvisioningCycle.objects.filter(job=job, pk__gt=after, finished_at__isnull=False).first()
            if cycle:
                counts = ", ".join(f"{name} {value}" for name, value in cycle.counters().items())
                self.stdout.write(
                    f"{cycle.get_kind_display()} cycle {cycle.get_status_display()} ({counts}) "
                    f"{time.monotonic() - started:.1f}s after start."
                )
                if cycle.error_message:
                    self.stdout.write(cycle.error_message)
                return
            time.sleep(0.5)
        raise CommandError(f"No cycle finished within {timeout:.0f}s. See {self.log_dir}/worker.log.")
