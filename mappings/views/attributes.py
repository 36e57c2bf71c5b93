"""The mapping editor: add, edit and delete one attribute mapping. Required Salesforce attributes cannot be
deleted; every save is checked (expressions included), bumps the mapping version and is audited."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from console.concurrency import EditConflict, delete_versioned, deleted_conflict, posted_version, refusal_text
from console.permissions import disable_forms_for_readers, is_administrator, reader_required
from mappings.changes import record_mapping_change
from mappings.forms import AttributeMappingForm
from mappings.models import AttributeMapping
from mappings.targets import REQUIRED_TARGET_ATTRIBUTES, target_attribute_names
from mappings.views.base import blade_context, entra_attribute_names, get_application, get_object_mapping
from mappings.views.editor import editor_url

ADMIN_ONLY = "Only an Application Administrator can change mappings."


def _form_page(request, object_mapping, form, row=None, status=200, form_action: str = "") -> HttpResponse:
    disable_forms_for_readers(request.user, form)
    title = f"Edit attribute: {row.target_attribute}" if row else "Add New Mapping"
    context = blade_context(
        object_mapping.application,
        "provisioning",
        title,
        object_mapping=object_mapping,
        form=form,
        row=row,
        form_action=form_action,
        deletable=row is not None and row.target_attribute not in REQUIRED_TARGET_ATTRIBUTES,
        entra_attributes=entra_attribute_names(object_mapping.application),
    )
    return render(request, "mappings/attribute_form.html", context, status=status)


def _form(request, object_mapping, row: AttributeMapping | None) -> AttributeMappingForm:
    data = request.POST if request.method == "POST" else None
    names = target_attribute_names(object_mapping.application)
    form = AttributeMappingForm(data, instance=row, object_mapping=object_mapping, target_names=names)
    form.instance.object_mapping = object_mapping
    return form


def _save(request, object_mapping, row: AttributeMapping | None) -> HttpResponse:
    application = object_mapping.application
    form = _form(request, object_mapping, row)
    if request.method == "GET":
        return _form_page(request, object_mapping, form, row)
    if not is_administrator(request.user):
        raise PermissionDenied(ADMIN_ONLY)
    if not form.is_valid():
        messages.error(request, "Nothing was saved: correct the fields marked below.")
        return _form_page(request, object_mapping, form, row, status=400)
    target = form.cleaned_data["target_attribute"]
    detail = f"{'Added' if row is None else 'Edited'} the mapping of {target}"
    try:
        with transaction.atomic():
            changes = form.save_versioned(actor=request.user, summary=detail)
            if changes:
                record_mapping_change(
                    object_mapping,
                    actor=request.user,
                    changed_fields=[f"{target}.{item['field']}" for item in changes],
                    detail=detail,
                )
    except EditConflict as refused:
        form.keep_for_conflict(refused.conflict)
        messages.error(request, str(refused))
        return _form_page(request, get_object_mapping(application), form, _current(row), status=409)
    messages.success(request, f"Saved the mapping of {target}." if changes else "No changes to save.")
    return redirect(editor_url(application))


def _current(row: AttributeMapping | None) -> AttributeMapping | None:
    return AttributeMapping.objects.filter(pk=row.pk).first() if row is not None else None


@require_http_methods(["GET", "POST"])
@reader_required
def attribute_add(request: HttpRequest, slug: str) -> HttpResponse:
    return _save(request, get_object_mapping(get_application(slug)), None)


@require_http_methods(["GET", "POST"])
@reader_required
def attribute_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    object_mapping = get_object_mapping(get_application(slug))
    row = AttributeMapping.objects.filter(pk=pk, object_mapping=object_mapping).first()
    if row is not None:
        return _save(request, object_mapping, row)
    conflict = deleted_conflict(AttributeMapping, pk)
    if conflict is None or request.method != "POST" or not is_administrator(request.user):
        raise Http404("No such attribute mapping.")
    # Deleted while this form was open (an import, Restore defaults, another administrator): what was typed comes
    # back as a new mapping to add, with who deleted it and when.
    form = _form(request, object_mapping, None)
    if form.is_valid():
        form.keep_for_conflict(conflict)
    else:
        form.conflict = conflict
    messages.error(request, f"Not saved: the mapping was deleted by {conflict.deleted.actor_name}.")
    add_url = reverse("attribute_mapping_add", args=[object_mapping.application.slug])
    return _form_page(request, object_mapping, form, None, status=409, form_action=add_url)


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
    detail = f"Deleted the mapping of {row.target_attribute}"
    try:
        with transaction.atomic():
            delete_versioned(row, expected=posted_version(request), actor=request.user, summary=detail)
            record_mapping_change(
                object_mapping, actor=request.user, changed_fields=[row.target_attribute], detail=detail
            )
    except EditConflict as refused:
        messages.error(request, f"Not deleted: {refusal_text(refused.conflict)} Look at it again, then delete it.")
        return redirect(editor_url(object_mapping.application))
    messages.success(request, f"Deleted the mapping of {row.target_attribute}.")
    return redirect(editor_url(object_mapping.application))
