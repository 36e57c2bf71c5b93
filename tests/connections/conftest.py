"""Fixtures for the connection tests: a throw-away CA, a replaying HTTPS server, configured connections."""

from __future__ import annotations

import ssl

import pytest
import trustme

from connections.clients.graph import forget_applications
from tests.connections.wire import ReplayServer

# Distinctive secret values, so a test can prove none of them leaks into messages or logs.
SF_PASSWORD = "Pw-s3cret-ZQX"
SF_TOKEN = "TokenXYZ987secret"
SF_CONSUMER_SECRET = "consumer-SECRET-4471"
SF_SESSION = "00D000000000001!AQsessionSECRET"
ENTRA_SECRET = "cl1ent~SECRET~value.81"
GRAPH_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.GRAPH-TOKEN-SECRET"
SECRETS = [SF_PASSWORD, SF_TOKEN, SF_CONSUMER_SECRET, SF_SESSION, ENTRA_SECRET, GRAPH_TOKEN]

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SP_ID = "8e881353-1735-45af-af21-ee1344582a4d"


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_path(ca, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _tls_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def wire(ca):
    """A replaying HTTPS server whose certificate the `ca_path` bundle trusts."""
    server = ReplayServer(_tls_context(ca)).start()
    yield server
    server.stop()


@pytest.fixture
def untrusted_wire():
    """An HTTPS server whose certificate comes from a CA nobody trusts."""
    server = ReplayServer(_tls_context(trustme.CA())).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_msal_cache():
    forget_applications()
    yield
    forget_applications()


@pytest.fixture
def sf_connection(application, wire, ca_path):
    conn = application.salesforce
    conn.login_url = wire.url
    conn.ca_bundle = ca_path
    conn.admin_username = "admin@acme.com.uat"
    conn.set_secret("admin_password", SF_PASSWORD)
    conn.set_secret("security_token", SF_TOKEN)
    conn.save()
    return conn


@pytest.fixture
def entra_connection(application, wire, ca_path):
    conn = application.entra
    conn.tenant_id = TENANT
    conn.client_id = CLIENT_ID
    conn.service_principal_id = SP_ID
    conn.authority_host = wire.url
    conn.graph_url = f"{wire.url}/v1.0"
    conn.ca_bundle = ca_path
    conn.set_secret("client_secret", ENTRA_SECRET)
    conn.save()
    return conn


@pytest.fixture
def no_sleep():
    """Replace a client's back-off sleep with a recorder."""
    waits: list[float] = []

    def install(client):
        client._sleep = waits.append
        return waits

    return install
