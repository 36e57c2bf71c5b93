"""`manage.py emulators`: run the Salesforce and Entra/Graph emulators until interrupted."""

from __future__ import annotations

import json
import os
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from emulators import Emulators
from emulators.bench import run as run_bench


class Command(BaseCommand):
    help = (
        "Run local HTTPS emulators of a Salesforce sandbox and of Entra ID / Microsoft Graph (test doubles, for "
        "demos, tests and benchmarks without internet). Writes the connection details to --info-file once both "
        "accept connections, then runs until Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=100, help="Number of assigned Entra users to generate.")
        parser.add_argument("--info-file", default="", help="Where to write the JSON with URLs, credentials, CA path.")
        parser.add_argument("--latency-ms", type=int, default=0, help="Latency added to every response.")
        parser.add_argument("--port-salesforce", type=int, default=0, help="Salesforce port (0: a free port).")
        parser.add_argument("--port-entra", type=int, default=0, help="Entra/Graph port (0: a free port).")
        parser.add_argument("--port-control", type=int, default=0, help="Control API port (0: a free port).")
        parser.add_argument(
            "--bench", action="store_true", help="Measure requests/s and memory for 100,000 users, print, exit."
        )
        parser.add_argument("--bench-users", type=int, default=100_000, help="Tenant size for --bench.")

    def _check(self, options: dict[str, Any]) -> None:
        """Refuse impossible options before anything starts, with what to pass instead."""
        problems = [
            f"--{name.replace('_', '-')} must be 0 or more (got {options[name]})."
            for name in ("seed", "latency_ms", "bench_users")
            if options[name] < 0
        ]
        problems += [
            f"--{name.replace('_', '-')} must be a port between 1 and 65535, or 0 for a free one."
            for name in ("port_salesforce", "port_entra", "port_control")
            if not 0 <= options[name] <= 65535
        ]
        folder = os.path.dirname(os.path.abspath(options["info_file"])) if options["info_file"] else ""
        if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
            problems.append(f"--info-file: the folder {folder} does not exist or is not writable.")
        if problems:
            raise CommandError(" ".join(problems))

    def handle(self, *args: Any, **options: Any) -> None:
        self._check(options)
        if options["bench"]:
            self.stdout.write(json.dumps(run_bench(options["bench_users"]), indent=2))
            return
        try:
            emulators = Emulators(
                seed=options["seed"],
                latency_ms=options["latency_ms"],
                port_salesforce=options["port_salesforce"],
                port_entra=options["port_entra"],
                port_control=options["port_control"],
                freeze_seed=True,
            ).start()
        except OSError as exc:
            raise CommandError(
                f"Cannot start the emulators: {exc.strerror or exc}. Choose other ports, or 0 for free ones."
            ) from None
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            if options["info_file"]:
                emulators.write_info(options["info_file"])
            self.stdout.write(
                f"Salesforce  {emulators.salesforce_url}\nEntra/Graph {emulators.entra_url} (Graph at /v1.0)\n"
                f"Control     {emulators.control_url}\nCA bundle   {emulators.ca_bundle}\n"
                + (f"Info file   {options['info_file']}\n" if options["info_file"] else "")
                + "Press Ctrl-C to stop."
            )
            self.stdout.flush()
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            emulators.stop()
