"""The mapping editor: add, edit and delete one attribute mapping. Required Salesforce attributes cannot be
deleted; every save is checked (expressions included), bumps the mapping version and is audited."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from console.permissions import disable_forms_for_readers, is_administrator, reader_required
from mappings.changes import record_mapping_change
from mappings.forms import AttributeMappingForm
from mappings.models import AttributeMapping
from mappings.targets import REQUIRED_TARGET_ATTRIBUTES, target_attribute_names
from mappings.views.base import blade_context, entra_attribute_names, get_application, get_object_mapping
from mappings.views.editor import editor_url

ADMIN_ONLY = "Only an Application Administrator can change mappings."


def _form_page(request, object_mapping, form, row=None, status=200) -> HttpResponse:
    disable_forms_for_readers(request.user, form)
    title = f"Edit attribute: {row.target_attribute}" if row else "Add New Mapping"
    context = blade_context(
        object_mapping.application,
        "provisioning",
        title,
        object_mapping=object_mapping,
        form=form,
        row=row,
        deletable=row is not None and row.target_attribute not in REQUIRED_TARGET_ATTRIBUTES,
        entra_attributes=entra_attribute_names(object_mapping.application),
    )
    return render(request, "mappings/attribute_form.html", context, status=status)


def _save(request, object_mapping, row: AttributeMapping | None) -> HttpResponse:
    application = object_mapping.application
    names = target_attribute_names(application)
    if request.method == "GET":
        form = AttributeMappingForm(instance=row, object_mapping=object_mapping, target_names=names)
        return _form_page(request, object_mapping, form, row)
    if not is_administrator(request.user):
        raise PermissionDenied(ADMIN_ONLY)
    form = AttributeMappingForm(request.POST, instance=row, object_mapping=object_mapping, target_names=names)
    if not form.is_valid():
        messages.error(request, "Nothing was saved: correct the fields marked below.")
        return _form_page(request, object_mapping, form, row, status=400)
    changed = list(form.changed_data)
    with transaction.atomic():
        saved = form.save(commit=False)
        saved.object_mapping = object_mapping
        saved.save()
        if changed or row is None:
            record_mapping_change(
                object_mapping,
                actor=request.user,
                changed_fields=[f"{saved.target_attribute}.{name}" for name in changed],
                detail=f"{'Added' if row is None else 'Edited'} the mapping of {saved.target_attribute}",
            )
    messages.success(request, f"Saved the mapping of {saved.target_attribute}.")
    return redirect(editor_url(application))


@require_http_methods(["GET", "POST"])
@reader_required
def attribute_add(request: HttpRequest, slug: str) -> HttpResponse:
    return _save(request, get_object_mapping(get_application(slug)), None)


@require_http_methods(["GET", "POST"])
@reader_required
def attribute_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    object_mapping = get_object_mapping(get_application(slug))
    return _save(request, object_mapping, get_object_or_404(AttributeMapping, pk=pk, object_mapping=object_mapping))


@require_http_methods(["POST"])
@reader_required
def attribute_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    if not is_administrator(request.user):
        raise PermissionDenied(ADMIN_ONLY)
    object_mapping = get_object_mapping(get_application(slug))
    row = get_object_or_404(AttributeMapping, pk=pk, object_mapping=object_mapping)
    if row.target_attribute in REQUIRED_TARGET_ATTRIBUTES:
        messages.error(request, f"{row.target_attribute} is required by Salesforce: its mapping cannot be deleted.")
        return redirect(editor_url(object_mapping.application))
    others = object_mapping.attributes.filter(match_objects=True).exclude(pk=row.pk)
    if row.match_objects and not others.exists():
        messages.error(request, f"{row.target_attribute} is the only matching attribute: it cannot be deleted.")
        return redirect(editor_url(object_mapping.application))
    with transaction.atomic():
        row.delete()
        record_mapping_change(
            object_mapping,
            actor=request.user,
            changed_fields=[row.target_attribute],
            detail=f"Deleted the mapping of {row.target_attribute}",
        )
    messages.success(request, f"Deleted the mapping of {row.target_attribute}.")
    return redirect(editor_url(object_mapping.application))
