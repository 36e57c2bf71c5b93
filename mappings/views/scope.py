"""Source object scope: scoping filters (ORed), each of clauses (ANDed). An invalid clause (bad regex, a
non-integer for Greater_Than, an attribute Entra cannot scope on) is refused with its reason."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from console.permissions import administrator_required, disable_forms_for_readers, is_administrator, reader_required
from mappings.changes import record_mapping_change
from mappings.directory.attributes import source_attributes
from mappings.forms import ScopingClauseFormSet, ScopingFilterForm
from mappings.models import ScopingFilter
from mappings.views.base import blade_context, entra_attribute_names, get_application, get_object_mapping
from mappings.views.editor import editor_url


def _page(request, object_mapping, form, formset, scoping_filter, status=200) -> HttpResponse:
    disable_forms_for_readers(request.user, form, *formset.forms)
    title = f"Scoping filter: {scoping_filter.title}" if scoping_filter else "Add scoping filter"
    context = blade_context(
        object_mapping.application,
        "provisioning",
        title,
        object_mapping=object_mapping,
        form=form,
        formset=formset,
        scoping_filter=scoping_filter,
        entra_attributes=entra_attribute_names(object_mapping.application),
    )
    return render(request, "mappings/scope_form.html", context, status=status)


def _edit(request: HttpRequest, slug: str, pk: int | None) -> HttpResponse:
    object_mapping = get_object_mapping(get_application(slug))
    scoping_filter = get_object_or_404(ScopingFilter, pk=pk, object_mapping=object_mapping) if pk else None
    instance = scoping_filter or ScopingFilter(object_mapping=object_mapping)
    attributes = {"attributes": source_attributes(object_mapping.application)}
    if request.method == "GET":
        form = ScopingFilterForm(instance=instance, prefix="filter")
        formset = ScopingClauseFormSet(instance=instance, prefix="clauses", form_kwargs=attributes)
        return _page(request, object_mapping, form, formset, scoping_filter)
    if not is_administrator(request.user):
        raise PermissionDenied("Only an Application Administrator can change scoping filters.")
    form = ScopingFilterForm(request.POST, instance=instance, prefix="filter")
    formset = ScopingClauseFormSet(request.POST, instance=instance, prefix="clauses", form_kwargs=attributes)
    if formset.too_many_forms:
        # Refused before any clause form is built; the page shows the saved clauses again.
        messages.error(request, formset.error_messages["too_many_forms"])
        saved_clauses = ScopingClauseFormSet(instance=instance, prefix="clauses", form_kwargs=attributes)
        return _page(request, object_mapping, form, saved_clauses, scoping_filter, status=400)
    valid = form.is_valid() and formset.is_valid()
    kept = [f for f in formset.forms if valid and f.cleaned_data.get("attribute") and not f.cleaned_data.get("DELETE")]
    if valid and not kept:
        formset._non_form_errors = formset.error_class(["A scoping filter needs at least one clause."])
        valid = False
    if not valid:
        messages.error(request, "Nothing was saved: correct the clauses marked below.")
        return _page(request, object_mapping, form, formset, scoping_filter, status=400)
    with transaction.atomic():
        saved = form.save()
        for clause_form in formset.forms:
            data = clause_form.cleaned_data
            if data.get("DELETE") and clause_form.instance.pk:
                clause_form.instance.delete()
            elif data.get("attribute") and not data.get("DELETE"):
                clause = clause_form.save(commit=False)
                clause.scoping_filter = saved
                clause.save()
        record_mapping_change(
            object_mapping,
            actor=request.user,
            changed_fields=["scope"],
            detail=f"{'Edited' if scoping_filter else 'Added'} scoping filter {saved.title}",
        )
    messages.success(request, f"Saved scoping filter {saved.title}. The next cycle re-evaluates every user.")
    return redirect(editor_url(object_mapping.application) + "#scope")


@require_http_methods(["GET", "POST"])
@reader_required
def scope_add(request: HttpRequest, slug: str) -> HttpResponse:
    return _edit(request, slug, None)


@require_http_methods(["GET", "POST"])
@reader_required
def scope_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _edit(request, slug, pk)


@require_http_methods(["POST"])
@administrator_required
def scope_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    object_mapping = get_object_mapping(get_application(slug))
    scoping_filter = get_object_or_404(ScopingFilter, pk=pk, object_mapping=object_mapping)
    with transaction.atomic():
        scoping_filter.delete()
        record_mapping_change(
            object_mapping, actor=request.user, changed_fields=["scope"], detail=f"Deleted {scoping_filter.title}"
        )
    messages.success(request, f"Deleted scoping filter {scoping_filter.title}.")
    return redirect(editor_url(object_mapping.application) + "#scope")
