"""Users and groups: the enterprise application's assignments from the stored snapshot (no Graph call on a page
view), paged, searchable and filtered, with the warnings counted at the last refresh, each group's members, the app
roles (imported Salesforce profiles) and Import roles. Administrators add and remove assignments and ask for a
Refresh from Entra; readers see everything and change nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from connections.clients.errors import NotFound, RemoteError
from connections.clients.graph import GraphClient
from connections.models import Application
from console.concurrency import Conflict, EditConflict, posted_version
from console.models import AuditActivity, record_audit
from console.permissions import administrator_required, is_administrator, reader_required
from mappings import assignment_list
from mappings.access.effective import AccessDefinition, EffectiveAccess
from mappings.access.models import AccessSettings
from mappings.assignment_list import (
    PAGES,
    AssignmentFilters,
    MemberFilters,
    filtered_assignments,
    members_of,
    role_choices,
    users_through_groups,
)
from mappings.assignments import claim, resolve_principal, roles_listed, settle
from mappings.directory import warnings
from mappings.directory.assignments import DETAILS_SELECT, AppRoles, AssignmentReader
from mappings.directory.models import (
    AssignmentSnapshot,
    PrincipalType,
    SnapshotAssignment,
    SnapshotGrant,
    SnapshotUser,
)
from mappings.directory.snapshot import apply, request_refresh, snapshot_of
from mappings.forms import AssignmentForm
from mappings.models import AttributeMapping
from mappings.role_import import DuplicateRolesError, import_roles
from mappings.views.base import blade_context, get_application, is_htmx

MEMBERS_PAGE_SIZE = 25
POLL_SECONDS = 2
WORKER_PATIENCE = timedelta(minutes=5)  # a refresh still waiting after this: no worker is taking tasks
NO_CREDENTIALS = "Enter the Microsoft Entra credentials (with the enterprise application's object ID) first."


def _page_url(application: Application) -> str:
    return reverse("users_and_groups", args=[application.slug])


def _profile_default(application: Application) -> str | None:
    row = AttributeMapping.objects.filter(
        object_mapping__application=application, target_attribute="ProfileName"
    ).first()
    return (row.default_value or None) if row else None


def _profile_by_precedence(application: Application) -> bool:
    return AccessSettings.objects.filter(application=application, profile_by_precedence=True).exists()


@dataclass
class UserView:
    """What a row shows of a user: the roles a cycle gives them (and through what), warnings, Salesforce access."""

    stored: SnapshotUser
    roles: list[tuple[str, str]] = field(default_factory=list)  # (role label, "direct" | "through group X")
    badges: list[tuple[warnings.Kind, bool]] = field(default_factory=list)  # (kind, counts as a warning)
    access: EffectiveAccess | None = None

    @property
    def extra(self) -> int:
        """Pieces of Salesforce access beyond the profile."""
        access = self.access
        return 0 if access is None else len(access.items) + len(access.flags) + (access.user_role is not None)


class Presenter:
    """Turns stored rows into what the templates show, with one query per page for the users behind them."""

    def __init__(self, application: Application, snapshot: AssignmentSnapshot) -> None:
        self.application = application
        self.book = AppRoles(snapshot.app_roles or [])
        self.precedence = _profile_by_precedence(application)
        self.kinds = warnings.active_kinds(self.precedence)
        self.definition = AccessDefinition.for_application(application)

    def badges(self, bits: int) -> list[tuple[warnings.Kind, bool]]:
        return [(kind, kind in self.kinds) for kind in warnings.kinds_in(bits)]

    def role_label(self, role_id: str) -> str:
        role, default = self.book.role(role_id)
        if default:
            return "Default Access"
        return role.get("displayName") or role.get("value") or f"Role not defined ({role_id})"

    def users(self, user_ids: list[str]) -> dict[str, UserView]:
        stored = SnapshotUser.objects.filter(application=self.application, user_id__in=user_ids)
        views = {user.user_id: UserView(user) for user in stored}
        grants = SnapshotGrant.objects.filter(application=self.application, user_id__in=list(views))
        pairs = list(grants.values_list("user_id", "assignment_id"))
        rows = {
            r.assignment_id: r
            for r in SnapshotAssignment.objects.filter(
                application=self.application, assignment_id__in={a for _, a in pairs}
            ).only("assignment_id", "principal_type", "display_name", "role_id", "default_access")
        }
        for user_id, assignment_id in pairs:
            row = rows.get(assignment_id)
            if row is None:
                continue
            how = f"through group {row.display_name}" if row.principal_type == PrincipalType.GROUP else "direct"
            views[user_id].roles.append((self.role_label(row.role_id), how))
        for view in views.values():
            view.roles.sort(key=lambda r: (r[1] != "direct", r[1].casefold(), r[0].casefold()))
            view.badges = self.badges(view.stored.warnings)
            values = [v for v in (self.book.assigned(r) for r in view.stored.role_ids.split()) if v is not None]
            view.access = self.definition.effective(values) if values else None
        return views


def _snapshot_context(application: Application, snapshot: AssignmentSnapshot) -> dict:
    asked = snapshot.refresh_requested_at
    return {
        "snapshot": snapshot,
        "pending": asked is not None,
        "waiting_long": asked is not None and timezone.now() - asked > WORKER_PATIENCE,
        "poll_seconds": POLL_SECONDS,
        "has_credentials": bool(application.entra.service_principal_id),
    }


@require_GET
@reader_required
def users_and_groups(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    snapshot = snapshot_of(application)
    if snapshot.refreshed_at is None and snapshot.refresh_requested_at is None and snapshot.error_at is None:
        if application.entra.service_principal_id:
            request_refresh(application)  # the first read: nothing to show before it
            snapshot.refresh_from_db()
    return _page(request, application, snapshot)


def _page(
    request: HttpRequest,
    application: Application,
    snapshot: AssignmentSnapshot,
    *,
    form: AssignmentForm | None = None,
    conflict: Conflict | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page (or, for htmx, its table); with a refused change, the conflict above the form that keeps it."""
    present = Presenter(application, snapshot)
    params = request.GET if request.method == "GET" else {}
    filters = AssignmentFilters(params, book=present.book, kinds=present.kinds, counts=snapshot.warning_counts or {})
    pages, rows = filtered_assignments(application, filters)
    page = pages.page(
        rows,
        after=params.get("after", ""),
        before=params.get("before", ""),
        size=assignment_list.PAGE_SIZE,
    )
    users = present.users([r.principal_id for r in page.rows if r.principal_type == PrincipalType.USER])
    lines = [(row, users.get(row.principal_id), present.badges(row.warnings)) for row in page.rows]
    search = filters.search
    through = users_through_groups(application, search) if search else []
    base = filters.page_params()
    warning_list, notes = warnings.summary(
        snapshot.warning_counts or {},
        profile_default=_profile_default(application),
        profile_by_precedence=present.precedence,
    )
    can_edit = is_administrator(request.user)
    context = blade_context(
        application,
        "users_and_groups",
        "Users and groups",
        **_snapshot_context(application, snapshot),
        filters=filters,
        page=page,
        lines=lines,
        through=list(present.users([u.user_id for u in through]).values()) if through else [],
        search=search,
        warnings=[(k, n, text, "?" + urlencode({"warning": k.key})) for k, n, text in warning_list],
        notes=[(k, n, text, "?" + urlencode({"warning": k.key})) for k, n, text in notes],
        **_page_links("", base, page),
        roles=present.book.roles,
        form=(form or AssignmentForm(roles=role_choices(present.book), auto_id="assign_%s")) if can_edit else None,
        can_edit=can_edit,
        precedence=present.precedence,
        conflict=conflict,
    )
    htmx_table = is_htmx(request) and request.method == "GET"
    template = "mappings/partials/assignment_table.html" if htmx_table else "mappings/users_and_groups.html"
    return render(request, template, context, status=status)


def _page_links(here: str, base: list[tuple[str, str]], page) -> dict[str, str | None]:
    """The First, Previous and Next links of a keyset page, keeping the filters."""
    return {
        "next_url": f"{here}?" + urlencode([*base, ("after", page.next)]) if page.next else None,
        "previous_url": f"{here}?" + urlencode([*base, ("before", page.previous)]) if page.previous else None,
        "first_url": f"{here}?" + urlencode(base) if not page.first else None,
    }


@require_GET
@reader_required
def snapshot_status(request: HttpRequest, slug: str) -> HttpResponse:
    """The snapshot's line, polled while a Refresh from Entra runs; once it is done the page reloads."""
    application = get_application(slug)
    snapshot = snapshot_of(application)
    was_pending = request.GET.get("pending") == "1"
    response = render(request, "mappings/partials/snapshot_status.html", _snapshot_context(application, snapshot))
    if was_pending and snapshot.refresh_requested_at is None and is_htmx(request):
        response["HX-Refresh"] = "true"
    return response


@require_GET
@reader_required
def assignment_members(request: HttpRequest, slug: str, assignment_id: str) -> HttpResponse:
    """The users a group's assignment reaches (nested groups included), paged, with the roles each receives."""
    application = get_application(slug)
    row = SnapshotAssignment.objects.filter(application=application, assignment_id=assignment_id).first()
    if row is None:
        raise Http404("No such assignment in the stored snapshot")
    snapshot = snapshot_of(application)
    present = Presenter(application, snapshot)
    filters = MemberFilters(request.GET)
    page = PAGES.page(
        members_of(application, assignment_id, filters),
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        size=MEMBERS_PAGE_SIZE,
    )
    users = present.users([grant.user_id for grant in page.rows])
    here = reverse("assignment_members", args=[application.slug, assignment_id])
    context = blade_context(
        application,
        "users_and_groups",
        f"Members of {row.display_name}",
        row=row,
        role_label=present.role_label(row.role_id),
        members=[(grant, users.get(grant.user_id)) for grant in page.rows],
        page=page,
        filters=filters,
        here=here,
        **_page_links(here, filters.page_params(), page),
        precedence=present.precedence,
        snapshot=snapshot,
    )
    template = "mappings/partials/members.html" if is_htmx(request) else "mappings/assignment_members.html"
    return render(request, template, context)


@require_POST
@administrator_required
def assignments_refresh(request: HttpRequest, slug: str) -> HttpResponse:
    """Refresh from Entra: a live read of every assignment, stored as the new snapshot."""
    application = get_application(slug)
    if not application.entra.service_principal_id:
        messages.error(request, NO_CREDENTIALS)
        return redirect(_page_url(application))
    request_refresh(application)
    messages.info(request, "Reading the assignments from Microsoft Entra ID; the list below is updated when done.")
    return redirect(_page_url(application))


@require_POST
@administrator_required
def assignment_add(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    graph = GraphClient(application.entra)
    reader = AssignmentReader(graph)
    expected = posted_version(request)
    try:
        book = reader.book()
        form = AssignmentForm(request.POST, roles=role_choices(book), auto_id="assign_%s")
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
        principal = resolve_principal(graph, form.cleaned_data["principal"])
    except RemoteError as exc:
        messages.error(request, f"Nothing was assigned: {exc}")
        return redirect(_page_url(application))
    detail = f"Assigned {principal.type.lower()} {principal.name} the role {role}"
    snapshot = snapshot_of(application)
    now = roles_listed(application, principal.id)
    try:
        record = claim(
            snapshot,
            expected=expected,
            principal_id=principal.id,
            label=f"Roles of {principal.name}",
            before=now,
            after=", ".join(sorted({*filter(None, now.split(", ")), role}, key=str.casefold)),
            actor=request.user,
            summary=detail,
        )
    except EditConflict as exc:
        return _refused(request, application, exc, form=form)
    try:
        created = graph.add_assignment(principal.id, role_id)
    except RemoteError as exc:
        settle(record, done=False, summary=f"Not assigned: {exc}")
        messages.error(request, f"Nothing was assigned: {exc}")
        return redirect(_page_url(application))
    try:
        if principal.type == PrincipalType.GROUP:
            reached = next(graph.groups_user_members([principal.id], list(DETAILS_SELECT)))[1]
        else:
            reached = [principal.details]
        stored = apply(application, book, added=[(book.row({**created, "principalType": principal.type}), reached)])
    except RemoteError as exc:
        stored = False
        messages.warning(request, f"The list could not take the change ({exc}); it is read again from Entra now.")
    if not stored:
        request_refresh(application)
    return _assignments_changed(request, application, detail)


@require_POST
@administrator_required
def assignment_remove(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    assignment_id = request.POST.get("assignment", "").strip()[:100]
    if not assignment_id:
        messages.error(request, "No assignment was chosen.")
        return redirect(_page_url(application))
    row = SnapshotAssignment.objects.filter(application=application, assignment_id=assignment_id).first()
    label = f"{row.display_name} ({row.role_label})" if row else assignment_id
    principal_id = row.principal_id if row else request.POST.get("principal", "").strip()[:64]
    snapshot = snapshot_of(application)
    record = None
    if principal_id:
        now = roles_listed(application, principal_id)
        left = [r for r in filter(None, now.split(", ")) if not row or r != row.role_label]
        try:
            record = claim(
                snapshot,
                expected=posted_version(request),
                principal_id=principal_id,
                label=f"Roles of {row.display_name if row else principal_id}",
                before=now,
                after=", ".join(left),
                actor=request.user,
                summary=f"Removed the assignment of {label}",
            )
        except EditConflict as exc:
            return _refused(request, application, exc)
    try:
        GraphClient(application.entra).remove_assignment(assignment_id)
    except NotFound:
        messages.warning(request, f"The assignment of {label} no longer exists in Entra; it is gone from the list too.")
    except RemoteError as exc:
        if record is not None:
            settle(record, done=False, summary=f"Not removed: {exc}")
        messages.error(request, f"The assignment was not removed: {exc}")
        return redirect(_page_url(application))
    if not apply(application, AppRoles(snapshot.app_roles or []), removed=[assignment_id]):
        request_refresh(application)
    return _assignments_changed(request, application, f"Removed the assignment of {label}")


def _refused(
    request: HttpRequest, application: Application, exc: EditConflict, *, form: AssignmentForm | None = None
) -> HttpResponse:
    """Someone changed the same user's or group's assignments after the page was loaded: nothing was changed in
    Entra; the page shows their change beside yours, with the form as you filled it (Add again then means it)."""
    snapshot = snapshot_of(application)  # its current version goes into the forms: sending again means it
    return _page(request, application, snapshot, form=form, conflict=exc.conflict, status=409)


def _assignments_changed(request: HttpRequest, application: Application, detail: str) -> HttpResponse:
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
        request_refresh(application)  # the stored app roles name the new roles once read again
    return redirect(_page_url(application) + "#app-roles")
