"""The address a sign-in attempt comes from, for the per-address throttling of failed sign-ins.

Behind the TLS-terminating proxy every request arrives from the proxy's address, so throttling REMOTE_ADDR would
lock everybody out after a few mistakes by anybody. The proxy appends the address it saw to X-Forwarded-For;
only that last entry is trusted, because a client can put anything in the entries before it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The client's address: the last X-Forwarded-For entry behind the proxy, else REMOTE_ADDR."""
    if getattr(settings, "BEHIND_TLS_PROXY", False):
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded and forwarded[-1]:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR")
