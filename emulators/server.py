"""A small threaded HTTPS server with a router, per-endpoint counters, latency and fault injection.

Each emulated system is an `EmulatorApp`: its routes are matched by regular expression, every matched
call is counted under a stable label (e.g. "POST /services/data/vXX.X/composite/sobjects"), and
faults are drawn before the handler runs so tests can make any call fail the way the real service does.
"""

from __future__ import annotations

import json
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from emulators.malformed import MalformedAnswers, malformed_body

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass
class Request:
    method: str
    path: str
    raw_query: str
    headers: Any
    body: bytes
    base_url: str
    params: dict[str, str] = field(default_factory=dict)
    decoded: Any = field(default=None, repr=False, compare=False)  # json()'s answer, once made

    @property
    def query(self) -> dict[str, str]:
        """Query parameters, first value wins, '+' decoded as space (as requests encodes them)."""
        return {k: v[0] for k, v in parse_qs(self.raw_query, keep_blank_values=True).items()}

    def json(self) -> Any:
        """The body decoded, once per request: a hook (is_write) and the handler may both read it."""
        if self.decoded is None and self.body:
            self.decoded = json.loads(self.body.decode("utf-8"))
        return self.decoded

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default) if self.headers is not None else default


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering (a timeout as the client sees it)
    payload: Any = None  # what a JSON body encodes: a JSON batch puts it in its answer without decoding the body

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        merged = {"Content-Type": "application/json;charset=UTF-8"}
        merged.update(headers or {})
        return cls(status, body, merged, payload=payload)

    @classmethod
    def xml(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": "text/xml;charset=UTF-8"})


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern
    label: str
    handler: Handler
    faultable: bool = True  # auth/discovery endpoints have their own knobs


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, label: str, handler: Handler, *, faultable: bool = True) -> None:
        self.routes.append(Route(method, re.compile(pattern + r"\Z"), label, handler, faultable))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], list[str]]:
        allowed = []
        for route in self.routes:
            m = route.pattern.match(path)
            if m:
                if route.method == method:
                    return route, {k: unquote(v) for k, v in m.groupdict().items() if v is not None}, []
                allowed.append(route.method)
        return None, {}, allowed


class Metrics:
    """Per-endpoint call counters, so tests and benchmarks can assert on what happened remotely."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.total = 0
        self.writes = 0

    def count(self, route: Route, *, write: bool | None = None) -> None:
        """Count a call; `write` defaults to the route's method (logins and token requests are not writes)."""
        with self.lock:
            self.counts[route.label] = self.counts.get(route.label, 0) + 1
            self.total += 1
            if write if write is not None else route.method in WRITE_METHODS and route.faultable:
                self.writes += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"endpoints": dict(self.counts), "total": self.total, "writes": self.writes}

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.total = self.writes = 0


class Faults:
    """Injected failures: random rates, and counted runs of throttling or limit errors for the next N calls."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    # Random faults by kind: answered instead of the call (500, 503, 429, limit, expire), a call that never answers
    # (timeout), or the call carried out and then spoiled (AFTER: its answer lost, a row locked, a list left out).
    KINDS = ("500", "503", "timeout", "429", "limit", "expire", "lock_row", "no_value", "timeout_after")
    AFTER = frozenset({"lock_row", "no_value", "timeout_after"})

    def reset(self) -> None:
        self.rates = dict.fromkeys(self.KINDS, 0.0)
        self.throttle_next = 0
        self.retry_after = 1
        self.limit_next = 0
        self.timeout_seconds = 5.0
        self.rng = random.Random(4242)

    def set_rates(self, rate_500: float = 0.0, rate_503: float = 0.0, rate_timeout: float = 0.0, **more: float) -> None:
        unknown = set(more) - set(self.KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        with self.lock:
            self.rates = {**dict.fromkeys(self.KINDS, 0.0), "500": rate_500, "503": rate_503, "timeout": rate_timeout}
            self.rates.update(more)

    def draw(self) -> str | None:
        with self.lock:
            if self.throttle_next > 0:
                self.throttle_next -= 1
                return "429"
            if self.limit_next > 0:
                self.limit_next -= 1
                return "limit"
            if not any(self.rates.values()):
                return None
            r = self.rng.random()
            for kind, rate in self.rates.items():
                if r < rate:
                    return kind
                r -= rate
            return None


class EmulatorApp:
    """Base of an emulated remote system: routing, counting, latency and fault injection around handlers."""

    name = "emulator"

    def __init__(self) -> None:
        self.router = Router()
        self.metrics = Metrics()
        self.faults = Faults()
        self.malformed = MalformedAnswers()  # answers of the wrong shape (control: malformed_answers)
        self.latency_ms = 0
        self.lock = threading.RLock()  # state is mutated under this lock; handlers are short

    def fault_response(self, kind: str, request: Request) -> Response:
        raise NotImplementedError

    def not_found(self, request: Request) -> Response:
        return Response.json({"error": "not found"}, 404)

    def method_not_allowed(self, request: Request, allowed: list[str]) -> Response:
        return Response.json({"error": "method not allowed"}, 405, {"Allow": ", ".join(allowed)})

    def decorate(self, request: Request, response: Response) -> Response:
        """Hook for headers every response carries (Salesforce's Sforce-Limit-Info)."""
        return response

    def before_handler(self, kind: str, request: Request) -> None:
        """Hook: a fault that acts inside the call (Salesforce: the next record write finds its row locked)."""

    def spoil(self, kind: str, request: Request, response: Response) -> Response:
        """Hook: a fault that spoils an answer after the call was carried out (Graph: a 200 without `value`)."""
        return response

    def is_write(self, route: Route, request: Request) -> bool | None:
        """Hook: whether a call changes state, when its method alone does not tell (None: by the method)."""
        return None

    def dispatch(self, request: Request) -> Response:
        route, params, allowed = self.router.match(request.method, request.path)
        if route is None:
            return self.method_not_allowed(request, allowed) if allowed else self.not_found(request)
        request.params = params
        self.metrics.count(route, write=self.is_write(route, request))
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        if route.faultable:
            kind = self.faults.draw()
            if kind == "timeout":
                time.sleep(self.faults.timeout_seconds)
                return Response(drop=True)
            if kind and kind not in Faults.AFTER:
                return self.fault_response(kind, request)
        else:
            kind = None
        try:
            with self.lock:
                if kind:
                    self.before_handler(kind, request)
                response = route.handler(request)
        except _BadJSON:
            response = self.bad_json(request)
        if kind == "timeout_after":  # done, but the answer never arrives: the client cannot tell it from a timeout
            time.sleep(self.faults.timeout_seconds)
            return Response(drop=True)
        if kind:
            response = self.spoil(kind, request, response)
        target = f"{request.path}?{request.raw_query}" if request.raw_query else request.path
        return self.decorate(request, self.malform(request.method, target, response))

    def malform(self, method: str, path: str, response: Response) -> Response:
        """The response in the wrong shape when a malformed_answers rule asks for it (`path` with its query)."""
        shape = self.malformed.take(method, path, response.status)
        if shape is None:
            return response
        body, content_type = malformed_body(shape, response.body)
        return Response(200, body, {**response.headers, "Content-Type": content_type})

    def bad_json(self, request: Request) -> Response:
        return Response.json({"error": "malformed JSON"}, 400)


class _BadJSON(Exception):
    pass


def parse_json_body(request: Request) -> Any:
    try:
        return request.json()
    except (ValueError, UnicodeDecodeError):
        raise _BadJSON()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Emulator/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    wbufsize = 65536
    timeout = 120

    def setup(self) -> None:
        if self.server.tls_context is not None:
            self.request = self.server.tls_context.wrap_socket(self.request, server_side=True)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        scheme = "https" if self.server.tls_context is not None else "http"
        request = Request(self.command, parts.path, parts.query, self.headers, body, f"{scheme}://{host}")
        try:
            response = self.server.app.dispatch(request)
        except Exception as exc:  # an emulator bug must look like a server error, not a hung socket
            response = Response.json({"error": "emulator failure", "detail": repr(exc)}, 500)
        if response.drop:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve


class HTTPSServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, port: int, app: EmulatorApp, tls_context: ssl.SSLContext | None) -> None:
        """tls_context None serves plain HTTP (only the sign-in pages a browser opens, on loopback)."""
        self.app = app
        self.tls_context = tls_context
        super().__init__(("127.0.0.1", port), _Handler)
        self.thread: threading.Thread | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients dropping connections and failed handshakes are normal here

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls_context is not None else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread = threading.Thread(target=self.serve_forever, name=f"{self.app.name}-https", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def wait_until_accepting(port: int, timeout: float = 10.0) -> None:
    """Block until a TCP connection to the port succeeds, so callers only publish reachable URLs."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
