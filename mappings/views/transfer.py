"""Export and import of the mapping as Graph objectMapping JSON."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from console.concurrency import EditConflict, posted_version
from console.permissions import disable_forms_for_readers, is_administrator, reader_required
from mappings.forms import MappingImportForm
from mappings.graph_json import MappingImportError, export_object_mapping, import_object_mapping
from mappings.views.base import blade_context, get_application, get_object_mapping
from mappings.views.editor import editor_url


@require_GET
@reader_required
def mapping_export(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    response = JsonResponse(
        export_object_mapping(get_object_mapping(application)), json_dumps_params={"indent": 2, "ensure_ascii": False}
    )
    response["Content-Disposition"] = f'attachment; filename="{application.slug}-user-mapping.json"'
    return response


@require_http_methods(["GET", "POST"])
@reader_required
def mapping_import(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    object_mapping = get_object_mapping(application)
    errors: list[str] = []
    conflict = None
    status = 200
    if request.method == "POST":
        if not is_administrator(request.user):
            raise PermissionDenied("Only an Application Administrator can import mappings.")
        form = MappingImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                parsed = import_object_mapping(
                    object_mapping,
                    form.cleaned_data["parsed"],
                    actor=request.user,
                    expected_version=posted_version(request, "mapping_version"),
                )
            except MappingImportError as exc:
                errors = exc.errors
            except EditConflict as refused:
                # The document stays in the box (a chosen file's text too: a browser cannot be given the file back).
                conflict = refused.conflict
                form = MappingImportForm({"document": form.cleaned_data["text"]})
                object_mapping.refresh_from_db()
            else:
                messages.success(
                    request,
                    f"Imported {len(parsed.rows)} attribute mappings and {len(parsed.filters)} scoping filters. "
                    "The next cycle re-evaluates every user.",
                )
                return redirect(editor_url(application))
        status = 409 if conflict else 400
    else:
        form = MappingImportForm()
    disable_forms_for_readers(request.user, form)
    context = blade_context(
        application,
        "provisioning",
        "Import mappings",
        object_mapping=object_mapping,
        form=form,
        errors=errors,
        conflict=conflict,
    )
    return render(request, "mappings/import.html", context, status=status)
