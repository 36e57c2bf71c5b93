"""The object mapping page: flags, sandbox suffix, the attribute list, the scope, restore and refresh."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connections.clients.errors import RemoteError
from console.concurrency import EditConflict, posted_version
from console.permissions import administrator_required, disable_forms_for_readers, is_administrator, reader_required
from mappings.changes import apply_sandbox_suffix, record_mapping_change
from mappings.defaults import install_default_mapping, suffix_from_name
from mappings.forms import ObjectMappingForm
from mappings.models import ObjectMapping
from mappings.targets import REQUIRED_TARGET_ATTRIBUTES, refresh_target_attributes, target_attribute_rows
from mappings.views.base import (
    blade_context,
    entra_attribute_names,
    get_application,
    get_object_mapping,
)


def editor_url(application) -> str:
    return reverse("mapping_editor", args=[application.slug])


def _page(request: HttpRequest, object_mapping: ObjectMapping, form: ObjectMappingForm | None = None, status=200):
    application = object_mapping.application
    form = form or ObjectMappingForm(instance=object_mapping, prefix="mapping")
    disable_forms_for_readers(request.user, form)
    rows = list(object_mapping.attributes.all())
    context = blade_context(
        application,
        "provisioning",
        object_mapping.name,
        object_mapping=object_mapping,
        form=form,
        rows=rows,
        required_targets=REQUIRED_TARGET_ATTRIBUTES,
        filters=list(object_mapping.scoping_filters.prefetch_related("clauses")),
        target_rows=target_attribute_rows(application),
        custom_target_count=application.target_attributes.filter(custom=True).count(),
        source_count=len(entra_attribute_names(application)),
    )
    return render(request, "mappings/editor.html", context, status=status)


@require_GET
@reader_required
def mapping_editor(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    object_mapping = ObjectMapping.objects.filter(application=application).select_related("application").first()
    if object_mapping is None:  # only after a failed migration or manual deletion: offer the defaults
        return redirect(reverse("mapping_restore", args=[application.slug]))
    return _page(request, object_mapping)


@require_POST
@administrator_required
def mapping_save(request: HttpRequest, slug: str) -> HttpResponse:
    """Enabled, Target Object Actions and the sandbox suffix."""
    object_mapping = get_object_mapping(get_application(slug))
    old_suffix = object_mapping.sandbox_suffix
    form = ObjectMappingForm(request.POST, instance=object_mapping, prefix="mapping")
    if not form.is_valid():
        messages.error(request, "Nothing was saved: correct the fields marked below.")
        return _page(request, get_object_mapping(object_mapping.application), form, status=400)
    notes = []
    try:
        with transaction.atomic():
            changed = [item["field"] for item in form.save_versioned(actor=request.user)]
            if not changed:
                messages.info(request, "No changes to save.")
                return redirect(editor_url(object_mapping.application))
            mapping = form.instance
            if "sandbox_suffix" in changed:
                new_suffix = mapping.sandbox_suffix
                rewritten, skipped = apply_sandbox_suffix(mapping, old_suffix, new_suffix, actor=request.user)
                changed.extend(rewritten)
                if rewritten:
                    notes.append(f"Rewrote the expressions of {', '.join(rewritten)}.")
                if skipped:
                    notes.append(
                        f"Left {', '.join(skipped)} as they are: they no longer have the default "
                        'Append([...], ".suffix") shape, so edit them by hand.'
                    )
            record_mapping_change(
                mapping, actor=request.user, changed_fields=changed, detail="Saved the object mapping"
            )
    except EditConflict as refused:
        form.keep_for_conflict(refused.conflict)
        messages.error(request, str(refused))
        return _page(request, get_object_mapping(object_mapping.application), form, status=409)
    messages.success(request, " ".join(["Saved. The next cycle re-evaluates every user.", *notes]))
    return redirect(editor_url(mapping.application))


@require_http_methods(["GET", "POST"])
@reader_required
def mapping_restore(request: HttpRequest, slug: str) -> HttpResponse:
    """Restore default mappings: the defaults of a new application, with the current sandbox suffix. The page
    carries the mapping version it showed: a change made since is shown instead of being overwritten unseen."""
    application = get_application(slug)
    object_mapping = ObjectMapping.objects.filter(application=application).first()
    conflict = None
    if request.method == "POST":
        if not is_administrator(request.user):
            raise PermissionDenied("Only an Application Administrator can do this.")
        suffix = (object_mapping.sandbox_suffix if object_mapping else "") or suffix_from_name(application.name)
        try:
            with transaction.atomic():
                if object_mapping is not None:
                    record_mapping_change(
                        object_mapping,
                        actor=request.user,
                        changed_fields=["attributeMappings", "scope", "enabled", "flowTypes"],
                        detail="Restored the default mappings",
                        expected_version=posted_version(request, "mapping_version"),
                    )
                restored = install_default_mapping(application, suffix, actor=request.user)
                if object_mapping is None:
                    record_mapping_change(restored, actor=request.user, detail="Restored the default mappings")
        except EditConflict as refused:
            conflict = refused.conflict
            object_mapping.refresh_from_db()
        else:
            messages.success(request, "Default mappings restored. The next cycle re-evaluates every user.")
            return redirect(editor_url(application))
    context = blade_context(
        application, "provisioning", "Restore default mappings", object_mapping=object_mapping, conflict=conflict
    )
    return render(request, "mappings/restore.html", context, status=409 if conflict else 200)


@require_POST
@administrator_required
def refresh_targets(request: HttpRequest, slug: str) -> HttpResponse:
    """Refresh target attributes: read the User describe from Salesforce."""
    application = get_application(slug)
    try:
        stored, custom = refresh_target_attributes(application)
    except RemoteError as exc:
        messages.error(request, f"Could not read the Salesforce User fields: {exc}")
    else:
        messages.success(request, f"Read {stored} writable User fields from Salesforce, {custom} of them custom.")
    return redirect(reverse("target_attribute_list", args=[application.slug]))
