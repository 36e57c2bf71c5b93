"""The page the engine fills later: provision on demand."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.permissions import reader_required
from provisioning.views.base import blade_context, get_application


def _not_yet(request: HttpRequest, slug: str, nav: str, template: str) -> HttpResponse:
    application = get_application(slug)
    return render(request, template, blade_context(application, nav, job=application.job))


@require_GET
@reader_required
def provision_on_demand(request: HttpRequest, slug: str) -> HttpResponse:
    return _not_yet(request, slug, "provision_on_demand", "provisioning/provision_on_demand.html")
