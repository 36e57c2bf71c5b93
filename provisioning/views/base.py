"""What every page of an application's blade needs: the application, the nav, htmx detection."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse

from connections.models import Application

# The blade's left nav, in Entra's order: (URL name, label). Each URL takes the application's slug.
BLADE_NAV: tuple[tuple[str, str], ...] = (
    ("application_overview", "Overview"),
    ("provisioning", "Provisioning"),
    ("users_and_groups", "Users and groups"),
    ("provision_on_demand", "Provision on demand"),
    ("provisioning_logs", "Provisioning logs"),
    ("audit_logs", "Audit logs"),
)


def get_application(slug: str) -> Application:
    return get_object_or_404(Application.objects.select_related("entra", "salesforce", "job"), slug=slug)


def blade_context(application: Application, active_nav: str, *, page_title: str | None = None, **extra) -> dict:
    """Context of a page inside app_blade.html.

    `active_nav` is the URL name highlighted in the nav; `page_title` (heading, <title>, breadcrumb)
    defaults to that nav entry's label.
    """
    nav = [
        {"url": reverse(name, args=[application.slug]), "label": label, "active": name == active_nav}
        for name, label in BLADE_NAV
    ]
    title = page_title or dict(BLADE_NAV).get(active_nav, "")
    return {"application": application, "blade_nav": nav, "active_nav": active_nav, "page_title": title, **extra}


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def optional_url(name: str, *args) -> str | None:
    """The URL of a page another part of the console may provide (e.g. the mapping editor), else None."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None
