"""What the mapping pages need from the application blade; the blade itself (nav, context) lives in console.views,
below every app, so the mapping pages never reach into the provisioning app that builds on them."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from connections.models import Application
from console.views import blade_context as console_blade_context
from mappings.directory.attributes import source_attribute_names
from mappings.models import ObjectMapping


def get_application(slug: str) -> Application:
    return get_object_or_404(Application.objects.select_related("entra", "salesforce"), slug=slug)


def get_object_mapping(application: Application) -> ObjectMapping:
    return get_object_or_404(ObjectMapping.objects.select_related("application"), application=application)


def blade_context(application: Application, active_nav: str, page_title: str, **extra) -> dict:
    return console_blade_context(application, active_nav, page_title=page_title, **extra)


def entra_attribute_names(application: Application) -> list[str]:
    """The application's list of Microsoft Entra ID attributes, sorted for the pickers."""
    return sorted(source_attribute_names(application), key=str.lower)


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"
