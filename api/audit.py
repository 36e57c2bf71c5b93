"""Every call of the API that changes something, and every refused call, leaves an audit entry: who (the token's
owner and the token's prefix), what (method, path, answer) and on which application. The wrapper goes around each
view of the API's URL patterns, so a new operation is audited without anyone remembering to.

A read that is answered (GET or HEAD, below 400) leaves none: a script polling the job every minute would write
half a million entries a year, burying the changes the audit log is for. The token's last use
(ApiToken.last_used_at) says that it reads."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import login_not_required
from django.http import HttpRequest, HttpResponse

from api.shapes import find_application
from api.tokens import describe
from console.models import AuditActivity, record_audit

UNAUDITED = {"openapi-json"}  # the description of the API: public, and no call of anyone's
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def worth_auditing(request: HttpRequest, response: HttpResponse) -> bool:
    """A write or action, or any refused call (401, 403); not a read that was answered."""
    return request.method not in READS or response.status_code in (401, 403)


def audited(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if not worth_auditing(request, response):
            return response
        token = getattr(request, "api_token", None)
        who = describe(token) if token is not None else "no valid token"
        detail = f"{request.method} {request.path} → {response.status_code} ({who})"
        refusal = getattr(request, "api_refusal", "")
        if refusal:
            detail += f": {refusal}"
        application = getattr(request, "api_application", None)
        if application is None and kwargs.get("application"):  # refused before the operation looked it up
            application = find_application(kwargs["application"])
        record_audit(
            AuditActivity.API_CALL,
            actor=token.user if token is not None else "anonymous",
            application=application,
            detail=detail,
        )
        return response

    return login_not_required(wrapper)  # the API authenticates with its own bearer tokens, never a session
