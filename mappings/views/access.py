"""Salesforce access: what each app role gives in Salesforce beyond the profile (a Salesforce Role, permission sets and
groups, licences, public groups and queues, feature licences), the precedence for users with several roles, what
happens to leavers, and Refresh from Salesforce for the pickers."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connections.clients.errors import RemoteError
from connections.clients.graph import GraphClient
from connections.clients.salesforce import SalesforceClient
from console.concurrency import EditConflict
from console.permissions import administrator_required, disable_forms_for_readers, is_administrator, reader_required
from mappings.access.catalogue import store_catalogue
from mappings.access.effective import AccessDefinition
from mappings.access.forms import AccessSettingsForm, AppRoleAccessForm
from mappings.access.models import AccessKind, AccessSettings, AppRoleAccess, OrgAccessItem
from mappings.changes import record_access_change
from mappings.directory.assignments import is_default_access, role_label, role_value
from mappings.views.base import blade_context, get_application


def _page_url(application) -> str:
    return reverse("salesforce_access", args=[application.slug])


def _app_roles(application) -> tuple[list[dict], str]:
    """The enterprise application's app roles (Default Access aside) read from Graph, and an error text."""
    if not application.entra.service_principal_id:
        return (
            [],
            "Enter the Microsoft Entra credentials (with the enterprise application's object ID) to list its app "
            "roles.",
        )
    try:
        roles = GraphClient(application.entra).service_principal("id,appRoles").get("appRoles") or []
    except RemoteError as exc:
        return [], f"Could not read the app roles from Microsoft Graph: {exc}"
    return [r for r in roles if not is_default_access(r) and r.get("isEnabled", True)], ""


def _settings(application) -> AccessSettings:
    return AccessSettings.objects.get_or_create(application=application)[0]


def _audit(request: HttpRequest, application, fields: list[str], detail: str) -> None:
    record_access_change(application, actor=request.user, changed_fields=fields, detail=detail)


@require_GET
@reader_required
def salesforce_access(request: HttpRequest, slug: str) -> HttpResponse:
    return _access_page(request, get_application(slug))


def _access_page(request: HttpRequest, application, settings_form=None, status: int = 200) -> HttpResponse:
    app_roles, error = _app_roles(application)
    configured = {row.role_value.casefold(): row for row in AppRoleAccess.objects.filter(application=application)}
    definition = AccessDefinition.for_application(application)
    rows = []
    seen = set()
    for role in app_roles:
        value = role_value(role)
        seen.add(value.casefold())
        rows.append(
            {
                "value": value,
                "label": role_label(role),
                "access": definition.effective([value]),
                "row": configured.get(value.casefold()),
            }
        )
    for key, row in configured.items():  # configured for a role Entra no longer has
        if key not in seen:
            rows.append(
                {
                    "value": row.role_value,
                    "label": row.role_label or row.role_value,
                    "access": definition.effective([row.role_value]),
                    "row": row,
                    "orphan": True,
                }
            )
    rows.sort(key=lambda r: (r["row"].precedence if r["row"] else 100, r["label"].casefold()))
    settings_form = settings_form or AccessSettingsForm(instance=_settings(application), prefix="settings")
    disable_forms_for_readers(request.user, settings_form)
    catalogue = OrgAccessItem.objects.filter(application=application).exclude(kind=AccessKind.ROLE)
    context = blade_context(
        application,
        "salesforce_access",
        "Salesforce access",
        rows=rows,
        error=error,
        settings_form=settings_form,
        catalogue=catalogue,
        missing=OrgAccessItem.objects.filter(application=application, missing=True),
        can_edit=is_administrator(request.user),
        refreshed=OrgAccessItem.objects.filter(application=application)
        .order_by("-refreshed_at")
        .values_list("refreshed_at", flat=True)
        .first(),
    )
    return render(request, "mappings/salesforce_access.html", context, status=status)


@require_http_methods(["GET", "POST"])
@reader_required
def access_role_edit(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    if request.method == "POST" and not is_administrator(request.user):
        raise PermissionDenied("Only an Application Administrator can change Salesforce access.")
    value = (request.GET.get("role") or "").strip()
    if not value:
        messages.error(request, "No app role was chosen.")
        return redirect(_page_url(application))
    instance = AppRoleAccess.objects.filter(application=application, role_value__iexact=value).first()
    if instance is None:
        label = next(
            (role_label(r) for r in _app_roles(application)[0] if role_value(r).casefold() == value.casefold()), value
        )
        instance = AppRoleAccess(application=application, role_value=value, role_label=label)
    if request.method == "POST":
        form = AppRoleAccessForm(request.POST, instance=instance, application=application, prefix="access")
        if form.is_valid():
            before = set(instance.items.values_list("pk", flat=True)) if instance.pk else set()
            try:
                with transaction.atomic():
                    changed = [item["field"] for item in form.save_versioned(actor=request.user)]
                    saved = form.instance
                    after = set(saved.items.values_list("pk", flat=True))
                    if changed:
                        _audit(
                            request,
                            application,
                            changed,
                            f"App role {saved}: {len(after)} item(s) "
                            f"({len(after - before)} added, {len(before - after)} removed)",
                        )
            except EditConflict as refused:
                form.keep_for_conflict(refused.conflict)
                messages.error(request, str(refused))
                status = 409
            else:
                messages.success(
                    request,
                    f"Saved the Salesforce access of the app role {saved}. The next cycle grants and revokes "
                    "accordingly.",
                )
                return redirect(_page_url(application))
        else:
            messages.error(request, "Nothing was saved: correct the fields marked below.")
            status = 400
    else:
        form = AppRoleAccessForm(instance=instance, application=application, prefix="access")
        status = 200
    disable_forms_for_readers(request.user, form)
    context = blade_context(
        application,
        "salesforce_access",
        f"Salesforce access: {instance}",
        form=form,
        role=instance,
        can_edit=is_administrator(request.user),
    )
    return render(request, "mappings/access_role.html", context, status=status)


@require_POST
@administrator_required
def access_refresh(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    missing = application.salesforce.missing_fields()
    if missing:
        messages.error(request, f"Refresh reads the org: fill in the Salesforce {', '.join(missing)} first.")
        return redirect(_page_url(application))
    try:
        catalogue = SalesforceClient(application.salesforce).access_catalogue()
    except RemoteError as exc:
        messages.error(request, f"Refresh from Salesforce failed; nothing changed: {exc}")
        return redirect(_page_url(application))
    result = store_catalogue(application, catalogue)
    _audit(request, application, ["catalogue"], result.summary())
    (messages.warning if result.gone else messages.success)(request, f"Refresh from Salesforce: {result.summary()}.")
    return redirect(_page_url(application))


@require_POST
@administrator_required
def access_settings_save(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    instance = _settings(application)
    form = AccessSettingsForm(request.POST, instance=instance, prefix="settings")
    if not form.is_valid():
        messages.error(request, "Nothing was saved: correct the fields marked below.")
        return _access_page(request, application, form, status=400)
    try:
        with transaction.atomic():
            changed = [item["field"] for item in form.save_versioned(actor=request.user)]
            if changed:
                _audit(request, application, changed, "Leaver and manager settings")
    except EditConflict as refused:
        form.keep_for_conflict(refused.conflict)
        messages.error(request, str(refused))
        return _access_page(request, application, form, status=409)
    messages.success(request, "Saved the leaver and manager settings." if changed else "No changes to save.")
    return redirect(_page_url(application) + "#leavers")


@require_POST
@administrator_required
def access_item_outside(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Tick or untick "Also remove access granted outside this console" for one item."""
    application = get_application(slug)
    item = get_object_or_404(OrgAccessItem, pk=pk, application=application)
    item.remove_unmanaged = request.POST.get("remove_unmanaged") == "on"
    item.save(update_fields=["remove_unmanaged", "refreshed_at"])
    state = "on" if item.remove_unmanaged else "off"
    _audit(
        request, application, ["remove_unmanaged"], f"{item}: also remove access granted outside this console {state}"
    )
    messages.success(
        request,
        f"{item}: access granted outside this console is {'now' if item.remove_unmanaged else 'no longer'} "
        "removed from users who should not have it.",
    )
    return redirect(_page_url(application) + "#items")
