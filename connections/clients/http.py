"""The HTTP session both clients (and msal) share, and the mapping of transport failures.

requests merges REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the environment over `session.verify`
(psf/requests#3829), so a connection's own CA bundle would be silently ignored in containers that
export them. The session therefore runs with trust_env=False and puts back only what corporate
networks need from the environment: HTTPS_PROXY / HTTP_PROXY / NO_PROXY.
"""

from __future__ import annotations

import os
import random
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import certifi
import requests
from requests.utils import get_environ_proxies

from connections.clients.errors import RemoteError, StopError, TransientError


class CABundleUnreadable(requests.exceptions.SSLError):
    """The connection's CA bundle path names no readable file (moved, deleted, wrong permissions).

    requests raises a bare OSError for this, outside its own exception tree, which would escape every
    client's error mapping; raising it as an SSLError keeps it inside the closed set."""

    def __init__(self, path: str) -> None:
        super().__init__(f"CA bundle {path} cannot be read")
        self.path = path


class ConnectionSession(requests.Session):
    """A Session that ignores the environment's CA settings but honours its proxy settings."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.trust_env = False
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        verify = kwargs.get("verify", self.verify)
        if isinstance(verify, str) and not (os.path.exists(verify) and os.access(verify, os.R_OK)):
            raise CABundleUnreadable(verify)
        return super().request(method, url, *args, **kwargs)

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[override]
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        merged = dict(settings["proxies"] or {})
        # get_environ_proxies applies NO_PROXY itself (returns {} for bypassed hosts).
        for scheme, proxy in get_environ_proxies(url, no_proxy=merged.get("no_proxy")).items():
            merged.setdefault(scheme, proxy)
        settings["proxies"] = merged
        return settings


def build_session(ca_bundle: str = "", timeout: float = 30) -> requests.Session:
    """One session per connection: verify against `ca_bundle` (or certifi), proxies from the environment."""
    session = ConnectionSession(timeout)
    session.verify = ca_bundle or certifi.where()
    return session


def describe_request(method: str, url: str) -> str:
    """'METHOD https://host/path' without query string or credentials: safe for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{method.upper()} {parts.scheme}://{host}{parts.path}"


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost reason requests/urllib3 wrapped (SSLCertVerificationError, ConnectionRefusedError...)."""
    seen = set()
    current: BaseException = exc
    while id(current) not in seen:
        seen.add(id(current))
        nxt = getattr(current, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = next((a for a in getattr(current, "args", ()) if isinstance(a, BaseException)), None)
        if nxt is None:
            nxt = current.__cause__ or current.__context__
        if nxt is None:
            break
        current = nxt
    return current


def transport_error(exc: requests.RequestException, request: str, ca_bundle: str = "") -> RemoteError:
    """Map a requests exception (no HTTP answer at all) to the closed error set."""
    host = request.split("://", 1)[-1].split("/", 1)[0]
    cause = _root_cause(exc)
    trust = f"the CA bundle {ca_bundle}" if ca_bundle else "the system trust store (certifi)"
    if isinstance(exc, CABundleUnreadable):
        return StopError(
            f"TLS cannot start with {host}: the CA bundle {exc.path} does not exist or cannot be read.",
            code="TLS_CA_BUNDLE",
            recommendation="Point the connection's CA bundle path at a readable PEM file on the console server "
            "(the bundled emulators write a new one on each start), or clear it to use the system trust store.",
            request=request,
        )
    if isinstance(exc, requests.exceptions.SSLError):
        if isinstance(cause, ssl.SSLError) and getattr(cause, "library", "") == "X509" and ca_bundle:
            return StopError(
                f"TLS cannot start with {host}: the CA bundle {ca_bundle} holds no usable certificate "
                f"({cause.reason}).",
                code="TLS_CA_BUNDLE",
                recommendation="The file must hold one or more PEM certificates (-----BEGIN CERTIFICATE-----).",
                request=request,
            )
        if isinstance(cause, ssl.SSLCertVerificationError):
            why = cause.verify_message or "certificate verify failed"
            return StopError(
                f"TLS failure talking to {host}: the server certificate is not trusted ({why}).",
                code="TLS_CERTIFICATE",
                recommendation=f"The certificate was checked against {trust}. Behind a TLS-inspecting proxy, "
                "set the connection's CA bundle path to a PEM file holding the proxy's CA.",
                request=request,
            )
        reason = getattr(cause, "reason", None) or type(cause).__name__
        return StopError(
            f"TLS failure talking to {host}: {reason}.",
            code="TLS_FAILURE",
            recommendation="Check that the address uses https on the right port and that no proxy alters TLS.",
            request=request,
        )
    if isinstance(exc, requests.exceptions.ProxyError):
        return StopError(
            f"The proxy refused or failed the connection to {host}.",
            code="PROXY_ERROR",
            recommendation="Check HTTPS_PROXY / NO_PROXY in the console's environment.",
            request=request,
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TransientError(
            f"Timed out connecting to {host}.",
            code="CONNECT_TIMEOUT",
            recommendation="Check the address, firewall rules and proxy settings; the call will be retried.",
            request=request,
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return TransientError(
            f"{host} did not answer in time.",
            code="READ_TIMEOUT",
            recommendation="The call will be retried.",
            request=request,
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
            return StopError(
                f"Cannot reach {host}: connection refused.",
                code="HOST_UNREACHABLE",
                recommendation="Check the address and port, and that nothing blocks outgoing HTTPS "
                "(firewall, HTTPS_PROXY / NO_PROXY).",
                request=request,
            )
        text = str(cause).lower()
        if "name or service not known" in text or "resolution" in text or "nodename" in text or "getaddrinfo" in text:
            return StopError(
                f"Cannot reach {host}: the host name does not resolve.",
                code="HOST_UNREACHABLE",
                recommendation="Check the spelling of the address and the DNS / proxy settings.",
                request=request,
            )
        return TransientError(
            f"The connection to {host} was interrupted ({type(cause).__name__}).",
            code="CONNECTION_RESET",
            recommendation="The call will be retried.",
            request=request,
        )
    return TransientError(f"Request to {host} failed ({type(exc).__name__}).", code="HTTP_ERROR", request=request)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (Graph sends integers); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def backoff_delay(attempt: int, retry_after: float | None, *, base: float = 1.0, cap: float = 60.0) -> float:
    """Seconds to wait before retry number `attempt` (0-based): the server's Retry-After when given (honoured in full:
    the retry budget decides whether it is worth waiting), else capped exponential back-off with jitter so parallel
    workers do not retry in step."""
    if retry_after is not None:
        return retry_after
    return min(cap, base * (2**attempt)) * random.uniform(0.5, 1.0)


DEFAULT_CALL_BUDGET = 20.0  # seconds of retrying a client outside a cycle may spend (someone waits on a page)


def describe_seconds(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)} minutes"
    return f"{seconds / 60:.1f} minutes"


class RetryBudget:
    """The time a cycle may lose to remote systems that throttle or fail (waits and failed attempts), shared by its
    Salesforce and Graph clients. Retries go on, whatever their number, while a wait still fits in what is left;
    then the call fails with a message that says the budget is used up.

    Waits are counted as spent whether or not the process really slept, so a test that skips the sleeps still ends.
    """

    def __init__(self, seconds: float, *, label: str = "the retry time budget") -> None:
        self.seconds = float(seconds)
        self.label = label
        self.spent = 0.0
        self.waits = 0

    @property
    def remaining(self) -> float:
        return max(0.0, self.seconds - self.spent)

    def charge(self, seconds: float) -> None:
        self.spent += max(0.0, seconds)

    def next_wait(self, attempt: int, error: TransientError, max_retries: int | None = None) -> float | None:
        """Seconds to wait before trying again (already charged), or None when it is time to give up."""
        if max_retries is not None and attempt >= max_retries:
            return None
        delay = backoff_delay(attempt, error.retry_after)
        if delay > self.remaining:
            return None
        self.charge(delay)
        self.waits += 1
        return delay

    def exhausted(self, error: TransientError, attempts: int, max_retries: int | None = None) -> TransientError:
        """The error to raise when retrying stops: the last one, saying why no more attempts were made."""
        if max_retries is not None and attempts > max_retries:
            return error
        wait = f" (it asked to wait {describe_seconds(error.retry_after)})" if error.retry_after else ""
        error.message = (
            f"{error.message} Gave up after {attempts} attempt{'s' if attempts != 1 else ''}{wait}: "
            f"{self.label} ({describe_seconds(self.seconds)}) is used up."
        )
        error.recommendation = (
            "Later calls of this cycle fail at once; the next cycle tries again with a new budget. If the remote "
            "system is often this slow to recover, raise the retry time budget under Settings."
        )
        error.budget_exhausted = True
        return error


class AttemptClock:
    """Charges the duration of each failed attempt (a timeout takes its full length) to a RetryBudget."""

    def __init__(self, budget: RetryBudget) -> None:
        self.budget = budget
        self.started = time.monotonic()

    def failed(self) -> None:
        now = time.monotonic()
        self.budget.charge(now - self.started)
        self.started = now

    def restart(self) -> None:
        self.started = time.monotonic()
