"""Starting and stopping the emulators: three HTTPS listeners on 127.0.0.1 sharing one throwaway CA, and the
plain-HTTP listener of the Entra sign-in pages a browser opens."""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from emulators.control import Control, ControlApp
from emulators.entra.app import EntraApp
from emulators.entra.signin import EntraBrowserApp
from emulators.salesforce.query import Cursors
from emulators.salesforce.rest import SalesforceApp
from emulators.seed import build_entra, build_salesforce
from emulators.server import HTTPSServer, wait_until_accepting
from emulators.tls import TLSMaterial, make_tls

API_VERSION = "59.0"


class Emulators:
    """Salesforce and Entra/Graph emulators with their control API. Use `running_emulators()` or start()/stop()."""

    def __init__(
        self,
        seed: int = 0,
        latency_ms: int = 0,
        port_salesforce: int = 0,
        port_entra: int = 0,
        port_control: int = 0,
        port_signin: int = 0,
        freeze_seed: bool = False,
    ) -> None:
        self.seed = seed
        self.freeze_seed = freeze_seed
        self.latency_ms = latency_ms
        self.ports = (port_salesforce, port_entra, port_control, port_signin)
        entra = build_entra(seed)
        self.salesforce_app = SalesforceApp(build_salesforce(entra))
        self.entra_app = EntraApp(entra)
        self.control = Control(self)
        self.servers: list[HTTPSServer] = []
        self.tls: TLSMaterial | None = None
        self.set_latency(latency_ms)
        self._freeze()

    def _freeze(self) -> None:
        """With `freeze_seed` (a process of its own: `manage.py emulators`), the seeded state is moved out of the
        garbage collector's sight (gc.freeze) once built: a seeded org of 100,000 users was walked again by every
        full collection, which took more of the emulator's time than the requests did as the org grew. Frozen objects
        are still freed when nothing refers to them; before freezing again (a reset), the earlier ones go back to the
        collector, so a replaced state held in cycles is collected too."""
        if self.freeze_seed:
            gc.unfreeze()
            gc.collect()
            gc.freeze()

    def set_latency(self, ms: int) -> None:
        self.salesforce_app.latency_ms = self.entra_app.latency_ms = ms

    def start(self) -> Emulators:
        self.tls = make_tls()
        apps = (self.salesforce_app, self.entra_app, ControlApp(self.control), EntraBrowserApp(self.entra_app))
        self.servers = []
        try:
            for port, app in zip(self.ports, apps, strict=True):
                context = None if isinstance(app, EntraBrowserApp) else self.tls.server_context
                self.servers.append(HTTPSServer(port, app, context))
        except OSError:
            # A port in use: release the ports already bound and the CA files before reporting it.
            for server in self.servers:
                server.server_close()
            self.servers = []
            self.tls.cleanup()
            self.tls = None
            raise
        for server in self.servers:
            server.start()
        for server in self.servers:
            wait_until_accepting(server.port)
        self.entra_app.browser_url = self.signin_url
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers = []
        if self.tls:
            self.tls.cleanup()
            self.tls = None

    def reset(self) -> None:
        """Rebuild the seeded state; keep issued sessions and tokens so cached clients stay signed in."""
        entra = build_entra(self.seed)
        salesforce = build_salesforce(entra)
        with self.salesforce_app.lock:
            salesforce.sessions = self.salesforce_app.state.sessions
            self.salesforce_app.state = salesforce
            self.salesforce_app.cursors = Cursors(salesforce)
            self.salesforce_app.faults.reset()
            self.salesforce_app.malformed.reset()
            self.salesforce_app.metrics.reset()
        with self.entra_app.lock:
            entra.tokens = {t: v for t, v in self.entra_app.state.tokens.items() if v[1] > 0}
            for client_id, application in self.entra_app.state.signin_applications.items():
                entra.signin_applications[client_id].redirect_uris = application.redirect_uris  # registration stays
            self.entra_app.state = entra
            self.entra_app.snapshots.clear()
            self.entra_app.users.rounds.clear()
            self.entra_app.faults.reset()
            self.entra_app.malformed.reset()
            self.entra_app.metrics.reset()
        self.set_latency(self.latency_ms)
        self._freeze()

    # --- what clients need -----------------------------------------------------------------------
    @property
    def salesforce_url(self) -> str:
        return self.servers[0].base_url

    @property
    def entra_url(self) -> str:
        return self.servers[1].base_url

    @property
    def control_url(self) -> str:
        return self.servers[2].base_url

    @property
    def signin_url(self) -> str:
        return self.servers[3].base_url

    @property
    def ca_bundle(self) -> str:
        assert self.tls is not None, "emulators not started"
        return self.tls.ca_path

    @property
    def info(self) -> dict[str, Any]:
        sf, entra = self.salesforce_app.state, self.entra_app.state
        client = next(iter(entra.clients.values()))
        signin = next(iter(entra.signin_applications.values()))
        return {
            "salesforce": {
                "login_url": self.salesforce_url,
                "instance_url": self.salesforce_url,
                "username": sf.credentials.username,
                "password": sf.credentials.password,
                "security_token": sf.credentials.security_token,
                "org_id": sf.org_id,
                "client_id": sf.credentials.client_id,
                "client_secret": sf.credentials.client_secret,
                "api_version": API_VERSION,
            },
            "entra": {
                "authority_host": self.entra_url,
                "graph_url": f"{self.entra_url}/v1.0",
                "tenant_id": entra.tenant_id,
                "tenant_domain": entra.domain,
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "service_principal_id": entra.service_principal["id"],
                "app_id": entra.service_principal["appId"],
            },
            "signin": {
                "authority_host": self.entra_url,
                "tenant_id": entra.tenant_id,
                "client_id": signin.client_id,
                "client_secret": entra.clients[signin.client_id].client_secret,
                "browser_url": self.signin_url,
            },
            "ca_bundle": self.ca_bundle,
            "control_url": self.control_url,
        }

    def write_info(self, path: str) -> None:
        """Write the info file atomically, so a watcher never reads half a file."""
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.info, fh, indent=2)
        os.replace(tmp, path)

    def session(self) -> requests.Session:
        """A requests session that trusts the emulators' CA whatever REQUESTS_CA_BUNDLE says."""
        s = requests.Session()
        s.trust_env = False
        s.verify = self.ca_bundle
        return s


@contextmanager
def running_emulators(seed: int = 0, latency_ms: int = 0, **ports: int) -> Iterator[Emulators]:
    """Both emulators (and the control listener) on free ports for the duration of the block."""
    emulators = Emulators(seed=seed, latency_ms=latency_ms, **ports).start()
    try:
        yield emulators
    finally:
        emulators.stop()
