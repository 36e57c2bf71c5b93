"""The API's URL patterns: ninja's, each view audited and exempt from the session sign-in (api/audit.py)."""

from functools import wraps

from django.contrib.auth.views import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, re_path

from api.api import VERSION, api
from api.audit import UNAUDITED, audited
from api.errors import NOT_FOUND, error_response

app_name = "api"


def root(request: HttpRequest, **kwargs) -> HttpResponse:
    """/api/ itself (ninja's root names the docs page, which is off): say where the API is."""
    return error_response(
        api, request, 404, NOT_FOUND, f"The API is under /api/{VERSION}/; /api/openapi.json describes it."
    )


def graph_405(view):
    """ninja answers a method a path does not take with an empty 405: give it Graph's error body."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "").startswith("application/json"):
            return response
        allowed = response.get("Allow", "")
        refused = error_response(
            api, request, 405, "Request_BadRequest", f"{request.method} is not supported here; use {allowed}."
        )
        refused["Allow"] = allowed
        return refused

    return wrapper


def _wrapped(pattern: URLPattern) -> URLPattern:
    callback = root if pattern.name == "api-root" else graph_405(pattern.callback)
    view = login_not_required(callback) if pattern.name in UNAUDITED else audited(callback)
    return URLPattern(pattern.pattern, view, pattern.default_args, pattern.name)


def unknown(request: HttpRequest, **kwargs) -> HttpResponse:
    return error_response(
        api, request, 404, NOT_FOUND, f"No such resource: {request.path}. /api/openapi.json lists what there is."
    )


urlpatterns = [_wrapped(pattern) for pattern in api.urls[0]]
urlpatterns.append(re_path(r"^", audited(unknown), name="unknown"))
