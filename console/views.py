"""Console-wide pages: the start page and the error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def home(request: HttpRequest) -> HttpResponse:
    """The start page is the Applications list, as in Entra's Enterprise applications blade."""
    return redirect("applications")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 with the reason (which role is needed), inside the normal layout."""
    return render(request, "403.html", {"reason": str(exception) if exception else ""}, status=403)
