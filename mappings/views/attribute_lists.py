"""Show advanced options: the attribute list for Microsoft Entra ID (Entra's own attributes plus directory extensions
found in the tenant and typed names) and the attribute list for Salesforce (standard fields, the org's described
fields and attributes added by hand). Readers see both lists; administrators change them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from connections.clients.errors import RemoteError
from console.permissions import disable_forms_for_readers, is_administrator, reader_required
from mappings.attribute_lists import (
    AttributeListError,
    add_source_attribute,
    add_target_attribute,
    discover_directory_extensions,
    remove_source_attribute,
    remove_target_attribute,
)
from mappings.directory.attributes import source_attributes
from mappings.forms import SourceAttributeForm, TargetAttributeForm
from mappings.targets import target_attribute_rows
from mappings.views.base import blade_context, get_application, get_object_mapping

ADMIN_ONLY = "Only an Application Administrator can change the attribute lists."


def _admin(request: HttpRequest) -> None:
    if not is_administrator(request.user):
        raise PermissionDenied(ADMIN_ONLY)


def _source_page(request, application, form, *, discovered=None, discovery_error="", status=200) -> HttpResponse:
    disable_forms_for_readers(request.user, form)
    specs = sorted(source_attributes(application).values(), key=lambda s: (not s.built_in, s.name.lower()))
    context = blade_context(
        application,
        "provisioning",
        "Edit attribute list for Microsoft Entra ID",
        object_mapping=get_object_mapping(application),
        form=form,
        attributes=specs,
        discovered=discovered,
        discovery_error=discovery_error,
    )
    return render(request, "mappings/source_attributes.html", context, status=status)


@require_http_methods(["GET", "POST"])
@reader_required
def source_attribute_list(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the list; POST: add one attribute (typed, or a discovered directory extension)."""
    application = get_application(slug)
    if request.method == "GET":
        return _source_page(request, application, SourceAttributeForm())
    form = SourceAttributeForm(request.POST)

    def add(data: dict) -> str:
        return add_source_attribute(
            application,
            data["name"],
            data["type"],
            data["multivalued"],
            app_display_name=data["app_display_name"],
            actor=request.user,
        )

    return _added(request, form, add, "source_attribute_list") or _source_page(request, application, form, status=400)


def _added(request: HttpRequest, form, add, list_name: str) -> HttpResponse | None:
    """POST of an addition to a list: back to the list, or None with the form's errors to show."""
    _admin(request)
    if form.is_valid():
        try:
            done = add(form.cleaned_data)
        except AttributeListError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, done)
            return redirect(reverse(list_name, args=[request.resolver_match.kwargs["slug"]]))
    messages.error(request, "Nothing was added: correct the fields marked below.")
    return None


@require_POST
@reader_required
def source_attribute_discover(request: HttpRequest, slug: str) -> HttpResponse:
    """Read the tenant's directory extensions from Graph and offer those the list lacks."""
    application = get_application(slug)
    _admin(request)
    try:
        found = discover_directory_extensions(application)
    except RemoteError as exc:
        return _source_page(request, application, SourceAttributeForm(), discovery_error=exc.full_message)
    return _source_page(request, application, SourceAttributeForm(), discovered=found)


def _remove(request: HttpRequest, slug: str, remove, list_name: str) -> HttpResponse:
    application = get_application(slug)
    _admin(request)
    try:
        messages.success(request, remove(application, request.POST.get("name", ""), actor=request.user))
    except AttributeListError as exc:
        messages.error(request, f"Nothing was removed: {exc}.")
    return redirect(reverse(list_name, args=[slug]))


@require_POST
@reader_required
def source_attribute_remove(request: HttpRequest, slug: str) -> HttpResponse:
    return _remove(request, slug, remove_source_attribute, "source_attribute_list")


def _target_page(request, application, form, status=200) -> HttpResponse:
    disable_forms_for_readers(request.user, form)
    context = blade_context(
        application,
        "provisioning",
        "Edit attribute list for Salesforce",
        object_mapping=get_object_mapping(application),
        form=form,
        target_rows=target_attribute_rows(application),
    )
    return render(request, "mappings/target_attributes.html", context, status=status)


@require_http_methods(["GET", "POST"])
@reader_required
def target_attribute_list(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    if request.method == "GET":
        return _target_page(request, application, TargetAttributeForm())
    form = TargetAttributeForm(request.POST)

    def add(data: dict) -> str:
        return add_target_attribute(
            application,
            data["name"],
            data["type"],
            required=data["required"],
            multivalued=data["multivalued"],
            reference_to=data["reference_to"],
            actor=request.user,
        )

    return _added(request, form, add, "target_attribute_list") or _target_page(request, application, form, status=400)


@require_POST
@reader_required
def target_attribute_remove(request: HttpRequest, slug: str) -> HttpResponse:
    return _remove(request, slug, remove_target_attribute, "target_attribute_list")
