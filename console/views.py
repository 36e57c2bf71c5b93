"""Console-wide pages: the start page and the error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

# The left nav of an application's blade, in Entra's order: (URL name, label); each URL takes the slug.
# Kept here, outside the apps, so that every app's pages can build the same blade (templates/app_blade.html).
BLADE_NAV: tuple[tuple[str, str], ...] = (
    ("application_overview", "Overview"),
    ("provisioning", "Provisioning"),
    ("users_and_groups", "Users and groups"),
    ("salesforce_access", "Salesforce access"),
    ("provision_on_demand", "Provision on demand"),
    ("provisioning_logs", "Provisioning logs"),
    ("audit_logs", "Audit logs"),
)


def blade_context(application, active_nav: str, *, page_title: str | None = None, **extra) -> dict:
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


def home(request: HttpRequest) -> HttpResponse:
    """The start page is the Applications list, as in Entra's Enterprise applications blade."""
    return redirect("applications")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 with the reason (which role is needed), inside the normal layout."""
    return render(request, "403.html", {"reason": str(exception) if exception else ""}, status=403)
