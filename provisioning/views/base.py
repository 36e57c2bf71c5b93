"""What every page of an application's blade needs: the application, the nav (console.views), htmx detection."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse

from connections.models import Application
from console.views import BLADE_NAV, blade_context  # noqa: F401  (re-exported for the provisioning pages)


def get_application(slug: str) -> Application:
    return get_object_or_404(Application.objects.select_related("entra", "salesforce", "job"), slug=slug)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def optional_url(name: str, *args) -> str | None:
    """The URL of a page another part of the console may provide (e.g. the mapping editor), else None."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None
