"""Provision on demand: search a user, provision them at once, show Entra's steps with their details.

Readers see the page; only an Application Administrator can provision (a POST writes to Salesforce).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from console.permissions import is_administrator, reader_required
from provisioning.operations.on_demand import provision_on_demand as provision
from provisioning.views.base import blade_context, get_application, is_htmx

MAX_QUERY = 256


@require_http_methods(["GET", "POST"])
@reader_required
def provision_on_demand(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    query = (request.POST.get("user_id") or request.POST.get("q") or request.GET.get("q") or "").strip()[:MAX_QUERY]
    result = None
    error = ""
    if request.method == "POST":
        if not is_administrator(request.user):
            raise PermissionDenied("Only an Application Administrator can provision on demand.")
        if not query:
            error = "Enter a name, user principal name or email address."
        else:
            result = provision(application, query)
    context = blade_context(
        application,
        "provision_on_demand",
        page_title="Provision on demand",
        job=application.job,
        query=request.POST.get("q", query) if request.method == "POST" else query,
        result=result,
        error=error,
    )
    if is_htmx(request) and request.method == "POST":
        return render(request, "provisioning/partials/on_demand_result.html", context)
    return render(request, "provisioning/provision_on_demand.html", context)
