"""Requests to /api/ that Django refuses before any API view runs, answered in Microsoft Graph's error format
(`{"error": {"code", "message"}}`, https://learn.microsoft.com/en-us/graph/errors) rather than the console's HTML
pages: a Host header outside ALLOWED_HOSTS (400), a body over DATA_UPLOAD_MAX_MEMORY_SIZE (413), a failed CSRF
check (403), a path no API view answers (404), an error outside the API's own handlers (500). Other paths keep
their pages: each handler here hands them to the console's own.

console/urls.py names these as Django's error handlers, CSRF_FAILURE_VIEW names csrf_failure, and
console/request_limits.py asks refusal() for the 413.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.csrf import csrf_failure as csrf_failure_page

from api.errors import BAD_REQUEST, DENIED, NOT_FOUND
from console.views import permission_denied as console_permission_denied

API_PREFIX = "/api/"
# Graph's HTTP status list names 413 "Request Entity Too Large"; its code here says the same.
TOO_LARGE = "RequestEntityTooLarge"
INTERNAL = "InternalServerError"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def refusal(status: int, code: str, message: str) -> HttpResponse:
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def too_large(exc: Exception) -> HttpResponse:
    """413 for a body over one of Django's upload limits."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        text = f"The request body is larger than the {limit:,} bytes the console reads (DATA_UPLOAD_MAX_MEMORY_SIZE)."
    elif isinstance(exc, TooManyFilesSent):
        text = f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES:,} files."
    else:
        text = f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} form fields."
    return refusal(413, TOO_LARGE, text)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, DisallowedHost):
        return refusal(400, BAD_REQUEST, "The Host header names a host this console does not serve (ALLOWED_HOSTS).")
    if isinstance(exception, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        return too_large(exception)
    return refusal(400, BAD_REQUEST, "The request is not valid.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not is_api(request):
        return console_permission_denied(request, exception)
    return refusal(403, DENIED, str(exception) or "The request is not allowed.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return refusal(404, NOT_FOUND, "No resource of the API is at this path; /api/openapi.json lists them.")


def server_error(request: HttpRequest) -> HttpResponse:
    if not is_api(request):
        return defaults.server_error(request)
    return refusal(500, INTERNAL, "The console failed unexpectedly; its log says why at this time.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if not is_api(request):
        return csrf_failure_page(request, reason)
    return refusal(
        403,
        DENIED,
        "The CSRF check refused the request: a request signed in with the console's session cookie needs its CSRF "
        "token. Scripts send 'Authorization: Bearer <token>' instead.",
    )
