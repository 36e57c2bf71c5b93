"""What the mapping pages need from the application blade, without reaching into the provisioning app (which
builds on this one, never the reverse). The nav mirrors the blade's; a test keeps the two equal."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse

from connections.models import Application
from mappings.models import ObjectMapping

BLADE_NAV: tuple[tuple[str, str], ...] = (
    ("application_overview", "Overview"),
    ("provisioning", "Provisioning"),
    ("users_and_groups", "Users and groups"),
    ("provision_on_demand", "Provision on demand"),
    ("provisioning_logs", "Provisioning logs"),
    ("audit_logs", "Audit logs"),
)


def get_application(slug: str) -> Application:
    return get_object_or_404(Application.objects.select_related("entra", "salesforce"), slug=slug)


def get_object_mapping(application: Application) -> ObjectMapping:
    return get_object_or_404(ObjectMapping.objects.select_related("application"), application=application)


def blade_context(application: Application, active_nav: str, page_title: str, **extra) -> dict:
    nav = [
        {"url": reverse(name, args=[application.slug]), "label": label, "active": name == active_nav}
        for name, label in BLADE_NAV
    ]
    return {"application": application, "blade_nav": nav, "active_nav": active_nav, "page_title": page_title, **extra}


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"
