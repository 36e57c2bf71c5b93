"""Every call of the API leaves an audit entry: who (the token's owner and the token's prefix), what (method,
path, answer) and on which application. The wrapper goes around each view of the API's URL patterns, so a new
operation is audited without anyone remembering to."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import login_not_required
from django.http import HttpRequest, HttpResponse

from api.shapes import find_application
from api.tokens import describe
from console.models import AuditActivity, record_audit

UNAUDITED = {"openapi-json"}  # the description of the API: public, and no call of anyone's


def audited(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
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
