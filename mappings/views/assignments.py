"""Users and groups: the enterprise application's assignments read live from Graph, with warnings, the app roles
(imported Salesforce profiles) and the Import roles action. Administrators add and remove assignments here."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from connections.clients.errors import RemoteError
from connections.clients.graph import GraphClient
from console.models import AuditActivity, record_audit
from console.permissions import administrator_required, is_administrator, reader_required
from mappings.assignments import add_assignment, assignments_overview
from mappings.directory.assignments import (
    DEFAULT_ACCESS_ID,
    DEFAULT_ACCESS_LABEL,
    AssignmentReader,
    is_default_access,
    role_label,
)
from mappings.forms import AssignmentForm
from mappings.models import AttributeMapping
from mappings.role_import import DuplicateRolesError, import_roles
from mappings.views.base import blade_context, get_application


def _page_url(application) -> str:
    return reverse("users_and_groups", args=[application.slug])


def _profile_default(application) -> str | None:
    row = AttributeMapping.objects.filter(
        object_mapping__application=application, target_attribute="ProfileName"
    ).first()
    return (row.default_value or None) if row else None


def role_choices(roles: list[dict]) -> list[tuple[str, str]]:
    choices = [(r["id"], role_label(r)) for r in roles if r.get("isEnabled", True) and not is_default_access(r)]
    return sorted(choices, key=lambda c: c[1].lower()) + [(DEFAULT_ACCESS_ID, DEFAULT_ACCESS_LABEL)]


@require_GET
@reader_required
def users_and_groups(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    overview, error = None, ""
    if not application.entra.service_principal_id:
        error = "Enter the Microsoft Entra credentials (with the enterprise application's object ID) first."
    else:
        try:
            reader = AssignmentReader(GraphClient(application.entra))
            overview = assignments_overview(reader, profile_default=_profile_default(application))
        except RemoteError as exc:
            error = f"Could not read the assignments from Microsoft Graph: {exc}"
    form = AssignmentForm(roles=role_choices(overview.roles) if overview else [])
    context = blade_context(
        application,
        "users_and_groups",
        "Users and groups",
        overview=overview,
        error=error,
        form=form,
        can_edit=is_administrator(request.user),
    )
    return render(request, "mappings/users_and_groups.html", context)


@require_POST
@administrator_required
def assignment_add(request: HttpRequest, slug: str) -> HttpResponse:

    application = get_application(slug)
    graph = GraphClient(application.entra)
    try:
        roles = graph.service_principal("id,appRoles").get("appRoles") or []
        form = AssignmentForm(request.POST, roles=role_choices(roles))
        if not form.is_valid():
            problems = [
                f"{form.fields[name].label}: {error}" if name in form.fields else error
                for name, errors in form.errors.items()
                for error in errors
            ]
            messages.error(request, "Nothing was assigned: " + "; ".join(problems))
            return redirect(_page_url(application))
        role_id = form.cleaned_data["role"]
        role = dict(form.fields["role"].choices)[role_id]
        _, kind, name = add_assignment(graph, form.cleaned_data["principal"], role_id)
    except RemoteError as exc:
        messages.error(request, f"Nothing was assigned: {exc}")
        return redirect(_page_url(application))
    return _assignments_changed(request, application, f"Assigned {kind.lower()} {name} the role {role}")


@require_POST
@administrator_required
def assignment_remove(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    assignment_id = request.POST.get("assignment", "").strip()
    label = request.POST.get("label", "").strip()[:200] or assignment_id
    if not assignment_id:
        messages.error(request, "No assignment was chosen.")
        return redirect(_page_url(application))
    try:
        GraphClient(application.entra).remove_assignment(assignment_id)
    except RemoteError as exc:
        messages.error(request, f"The assignment was not removed: {exc}")
        return redirect(_page_url(application))
    return _assignments_changed(request, application, f"Removed the assignment of {label}")


def _assignments_changed(request: HttpRequest, application, detail: str) -> HttpResponse:
    """Audit an assignment change made from this page, say so, and show the page again."""
    record_audit(
        AuditActivity.UPDATE_ASSIGNMENTS,
        actor=request.user,
        application=application,
        changed_fields=["appRoleAssignments"],
        detail=detail,
    )
    messages.success(request, f"{detail}.")
    return redirect(_page_url(application))


@require_POST
@administrator_required
def roles_import(request: HttpRequest, slug: str) -> HttpResponse:
    """Import roles: Salesforce profiles become app roles of the enterprise application."""
    application = get_application(slug)
    missing = [
        *(f"Salesforce {label}" for label in application.salesforce.missing_fields()),
        *(f"Entra {label}" for label in application.entra.missing_fields()),
    ]
    if missing:
        # Without this the default login URL would be tried and fail with a network error that hides the cause.
        messages.error(
            request, f"Import roles reads Salesforce and writes to Entra: fill in {', '.join(missing)} first."
        )
        return redirect(_page_url(application) + "#app-roles")
    try:
        result = import_roles(application, actor=request.user)
    except DuplicateRolesError as exc:
        messages.error(request, str(exc))
    except RemoteError as exc:
        messages.error(request, f"Import roles failed: {exc}")
    else:
        messages.success(request, f"Import roles: {result.summary()}.")
    return redirect(_page_url(application) + "#app-roles")
