"""The API's URL patterns: ninja's, each view audited and exempt from the session sign-in (api/audit.py)."""

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


def _wrapped(pattern: URLPattern) -> URLPattern:
    callback = root if pattern.name == "api-root" else pattern.callback
    view = login_not_required(callback) if pattern.name in UNAUDITED else audited(callback)
    return URLPattern(pattern.pattern, view, pattern.default_args, pattern.name)


def unknown(request: HttpRequest, **kwargs) -> HttpResponse:
    return error_response(
        api, request, 404, NOT_FOUND, f"No such resource: {request.path}. /api/openapi.json lists what there is."
    )


urlpatterns = [_wrapped(pattern) for pattern in api.urls[0]]
urlpatterns.append(re_path(r"^", audited(unknown), name="unknown"))
