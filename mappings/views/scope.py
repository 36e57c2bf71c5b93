"""Source object scope: scoping filters (ORed), each of clauses (ANDed). An invalid clause (bad regex, a
non-integer for Greater_Than, an attribute Entra cannot scope on) is refused with its reason."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from console.concurrency import EditConflict, change, delete_versioned, deleted_conflict, posted_version, refusal_text
from console.permissions import administrator_required, disable_forms_for_readers, is_administrator, reader_required
from mappings.changes import clauses_text, record_mapping_change, write_clauses
from mappings.directory.attributes import source_attributes
from mappings.forms import ScopingClauseFormSet, ScopingFilterForm
from mappings.models import ScopingFilter
from mappings.scoping import MAX_CLAUSES_PER_FILTER
from mappings.views.base import blade_context, entra_attribute_names, get_application, get_object_mapping
from mappings.views.editor import editor_url


def _page(request, object_mapping, form, formset, scoping_filter, status=200, form_action="") -> HttpResponse:
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
        form_action=form_action,
        entra_attributes=entra_attribute_names(object_mapping.application),
    )
    return render(request, "mappings/scope_form.html", context, status=status)


def _rows_as_new(data: QueryDict, prefix: str = "clauses") -> QueryDict:
    """The posted clause rows as rows to add (no ids, those ticked Delete left out): how a refused save's rows are
    shown again, or saved into a filter that was deleted meanwhile."""
    rows = []
    total = data.get(f"{prefix}-TOTAL_FORMS", "")
    for index in range(min(int(total) if total.isdigit() else 0, MAX_CLAUSES_PER_FILTER)):
        if data.get(f"{prefix}-{index}-DELETE"):
            continue
        rows.append({name: data.get(f"{prefix}-{index}-{name}", "") for name in ("attribute", "operator", "value")})
    kept = QueryDict(mutable=True)
    for key, values in data.lists():
        if not key.startswith(f"{prefix}-"):
            kept.setlist(key, values)
    kept.update({f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0"})
    for index, row in enumerate(rows):
        kept.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return kept


def _edit(request: HttpRequest, slug: str, pk: int | None) -> HttpResponse:
    object_mapping = get_object_mapping(get_application(slug))
    scoping_filter = ScopingFilter.objects.filter(pk=pk, object_mapping=object_mapping).first() if pk else None
    gone = None
    if pk and scoping_filter is None:
        gone = deleted_conflict(ScopingFilter, pk)
        if gone is None or request.method != "POST" or not is_administrator(request.user):
            raise Http404("No such scoping filter.")
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
    # A save replaces the filter's clauses with the rows posted, so the rows' ids play no part (and a row another
    # administrator's save replaced meanwhile is no error of this form).
    formset = ScopingClauseFormSet(
        _rows_as_new(request.POST), instance=instance, prefix="clauses", form_kwargs=attributes
    )
    valid = form.is_valid() and formset.is_valid()
    kept = [f for f in formset.forms if valid and f.cleaned_data.get("attribute") and not f.cleaned_data.get("DELETE")]
    if valid and not kept:
        formset._non_form_errors = formset.error_class(["A scoping filter needs at least one clause."])
        valid = False
    if gone:
        # Deleted while this form was open: what was typed comes back as a new filter to add.
        if valid:
            form.keep_for_conflict(gone)
        else:
            form.conflict = gone
        messages.error(request, f"Not saved: {refusal_text(gone)}")
        add_url = reverse("scoping_filter_add", args=[object_mapping.application.slug])
        return _page(request, object_mapping, form, formset, None, status=409, form_action=add_url)
    if not valid:
        messages.error(request, "Nothing was saved: correct the clauses marked below.")
        return _page(request, object_mapping, form, formset, scoping_filter, status=400)
    clauses = [(f.cleaned_data["attribute"], f.cleaned_data["operator"], f.cleaned_data["value"]) for f in kept]
    before = clauses_text(instance.clauses.all()) if instance.pk else ""
    extra = [change("clauses", "Clauses", before, clauses_text(clauses))] if before != clauses_text(clauses) else []
    try:
        with transaction.atomic():
            detail = f"{'Edited' if scoping_filter else 'Added'} scoping filter {form.cleaned_data['title']}"
            if form.save_versioned(actor=request.user, summary=detail, extra=extra):
                write_clauses(form.instance, clauses)
                record_mapping_change(object_mapping, actor=request.user, changed_fields=["scope"], detail=detail)
    except EditConflict as refused:
        form.keep_for_conflict(refused.conflict)
        messages.error(request, str(refused))
        return _page(request, object_mapping, form, formset, ScopingFilter.objects.get(pk=pk), status=409)
    title = form.instance.title
    messages.success(request, f"Saved scoping filter {title}. The next cycle re-evaluates every user.")
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
    detail = f"Deleted {scoping_filter.title}"
    try:
        with transaction.atomic():
            delete_versioned(scoping_filter, expected=posted_version(request), actor=request.user, summary=detail)
            record_mapping_change(object_mapping, actor=request.user, changed_fields=["scope"], detail=detail)
    except EditConflict as refused:
        messages.error(request, f"Not deleted: {refusal_text(refused.conflict)} Look at it again, then delete it.")
        return redirect(editor_url(object_mapping.application) + "#scope")
    messages.success(request, f"Deleted scoping filter {scoping_filter.title}.")
    return redirect(editor_url(object_mapping.application) + "#scope")
