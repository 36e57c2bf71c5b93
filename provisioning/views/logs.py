"""Audit logs (real) and the pages that the engine fills later: users and groups, on demand, provisioning logs."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.models import AuditActivity, AuditEntry
from console.roles import reader_required
from provisioning.views.base import blade_context, get_application

AUDIT_PAGE_SIZE = 50


@require_GET
@reader_required
def audit_logs(request: HttpRequest, slug: str) -> HttpResponse:
    """The application's audit entries, newest first; ``?activity=<Entra activity name>`` filters."""
    application = get_application(slug)
    entries = AuditEntry.objects.filter(application=application)
    activity = request.GET.get("activity", "")
    if activity in AuditActivity.values:
        entries = entries.filter(activity=activity)
    else:
        activity = ""
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = blade_context(application, "audit_logs", page=page, activity=activity, activities=AuditActivity.choices)
    return render(request, "provisioning/audit_logs.html", context)


def _not_yet(request: HttpRequest, slug: str, nav: str, template: str) -> HttpResponse:
    application = get_application(slug)
    return render(request, template, blade_context(application, nav, job=application.job))


@require_GET
@reader_required
def users_and_groups(request: HttpRequest, slug: str) -> HttpResponse:
    return _not_yet(request, slug, "users_and_groups", "provisioning/users_and_groups.html")


@require_GET
@reader_required
def provision_on_demand(request: HttpRequest, slug: str) -> HttpResponse:
    return _not_yet(request, slug, "provision_on_demand", "provisioning/provision_on_demand.html")


@require_GET
@reader_required
def provisioning_logs(request: HttpRequest, slug: str) -> HttpResponse:
    return _not_yet(request, slug, "provisioning_logs", "provisioning/provisioning_logs.html")
