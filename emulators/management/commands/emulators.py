"""`manage.py emulators`: run the Salesforce and Entra/Graph emulators until interrupted."""

from __future__ import annotations

import json
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

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

    def handle(self, *args: Any, **options: Any) -> None:
        if options["bench"]:
            self.stdout.write(json.dumps(run_bench(options["bench_users"]), indent=2))
            return
        emulators = Emulators(
            seed=options["seed"],
            latency_ms=options["latency_ms"],
            port_salesforce=options["port_salesforce"],
            port_entra=options["port_entra"],
            port_control=options["port_control"],
        ).start()
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
