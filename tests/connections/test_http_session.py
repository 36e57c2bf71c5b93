"""The shared HTTP session: the connection's CA wins over REQUESTS_CA_BUNDLE, proxies still apply."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from connections.clients.http import build_session
from tests.connections.wire import Reply


def test_connection_ca_bundle_wins_over_requests_ca_bundle(wire, ca_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nonexistent/ca.pem")
    wire.add("GET", "/ping", Reply(200, {"pong": True}))

    response = build_session(ca_path).get(f"{wire.url}/ping")

    assert response.json() == {"pong": True}


def test_plain_requests_session_is_overridden_by_the_environment(wire, ca_path, monkeypatch):
    """Why build_session exists: a normal session with verify=<path> loses to REQUESTS_CA_BUNDLE."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    session = requests.Session()
    session.verify = ca_path
    with pytest.raises((OSError, requests.exceptions.SSLError)):
        session.get(f"{wire.url}/ping")


def test_default_verification_rejects_an_unknown_ca(wire):
    with pytest.raises(requests.exceptions.SSLError):
        build_session().get(f"{wire.url}/ping")


class _Proxy(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self):  # noqa: N802
        _Proxy.seen.append(self.path)
        body = b"via proxy"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy():
    _Proxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_proxy_from_environment_is_used(proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    response = build_session().get("http://salesforce.example.invalid/services/data/")

    assert response.text == "via proxy"
    assert _Proxy.seen == ["http://salesforce.example.invalid/services/data/"]


def test_https_proxy_and_no_proxy_are_resolved_per_request(monkeypatch, ca_path):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example,127.0.0.1")
    session = build_session(ca_path)

    proxied = session.merge_environment_settings("https://test.salesforce.com/x", {}, None, None, None)
    bypassed = session.merge_environment_settings("https://sf.internal.example/x", {}, None, None, None)

    assert proxied["proxies"]["https"] == "http://proxy.corp.example:3128"
    assert proxied["verify"] == ca_path
    assert "https" not in bypassed["proxies"]


def test_no_proxy_bypasses_the_proxy_for_a_local_server(wire, ca_path, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    wire.add("GET", "/ping", Reply(200, {"pong": True}))

    assert build_session(ca_path).get(f"{wire.url}/ping").json() == {"pong": True}


def test_session_applies_a_default_timeout(wire, ca_path):
    session = build_session(ca_path, timeout=7)
    seen = {}
    original = requests.Session.send

    def spy(self, request, **kwargs):
        seen["timeout"] = kwargs.get("timeout")
        return original(self, request, **kwargs)

    wire.add("GET", "/ping", Reply(200, {}))
    requests.Session.send = spy
    try:
        session.get(f"{wire.url}/ping")
    finally:
        requests.Session.send = original
    assert seen["timeout"] == 7
