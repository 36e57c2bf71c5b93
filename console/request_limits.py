"""Requests over Django's upload limits get a page that names the limit and says what to do.

Django refuses a form of more than DATA_UPLOAD_MAX_MEMORY_SIZE bytes (files aside) or more than
DATA_UPLOAD_MAX_NUMBER_FIELDS fields when the body is first read, which is inside the CSRF check; there the refusal
becomes a bare 400 (or, in development, the debug page with a traceback). This middleware reads the form first and
answers 413 with an explanation instead (Graph's error body on /api/ paths); nothing of the request is acted on.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from api.refusals import is_api, too_large


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


def _explanation(request: HttpRequest, exc: Exception) -> dict[str, str]:
    if isinstance(exc, RequestDataTooBig):
        sent = request.META.get("CONTENT_LENGTH", "")
        sent_text = f" ({_megabytes(int(sent))})" if sent.isdigit() else ""
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return {
            "title": "The form you sent is too large",
            "limit": f"The console reads at most {_megabytes(limit)} ({limit:,} bytes) of text from one form "
            f"(DATA_UPLOAD_MAX_MEMORY_SIZE); this one was larger{sent_text}.",
            "advice": "A mapping document is a few kilobytes: check that you pasted the right text. To import a "
            "file, choose it with Mapping JSON file instead of pasting it.",
        }
    if isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return {
            "title": "The form you sent has too many files",
            "limit": f"The console reads at most {limit:,} files from one form (DATA_UPLOAD_MAX_NUMBER_FILES).",
            "advice": "No page of the console takes more than one file: reload the page and send the form again.",
        }
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    return {
        "title": "The form you sent has too many fields",
        "limit": f"The console reads at most {limit:,} fields from one form (DATA_UPLOAD_MAX_NUMBER_FIELDS).",
        "advice": "No page of the console has that many: reload the page and send the form again.",
    }


class RequestLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            request.GET  # noqa: B018 (parsing is what may fail)
            if is_api(request) and request.method in ("POST", "PUT", "PATCH"):
                request.body  # noqa: B018 (a JSON body is read by the API's parser, past this point)
            if request.method == "POST":
                request.POST  # noqa: B018
        except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent) as exc:
            if is_api(request):
                return too_large(exc)
            return render(request, "request_too_large.html", _explanation(request, exc), status=413)
        return self.get_response(request)
