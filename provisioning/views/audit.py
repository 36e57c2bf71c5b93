"""The Audit logs page: configuration changes of one application, filtered by activity, actor and date in the URL."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from console.lists import (
    ChoiceFilter,
    Column,
    DatalistInput,
    DateRangeFilter,
    DayFilter,
    ListFilters,
    TextFilter,
    time_html,
)
from console.models import AuditActivity, AuditEntry
from console.permissions import reader_required
from provisioning.views.base import blade_context, get_application

AUDIT_PAGE_SIZE = 50
SYSTEM = "system"  # the actor of changes made by the console itself


def actor_match(name: str) -> Q:
    return Q(actor=None) if name == SYSTEM else Q(actor_name__iexact=name)


class AuditFilters(ListFilters):
    activity = ChoiceFilter(AuditActivity, label="Activity", lookup="activity", noun="activity")
    actor = TextFilter(
        label="Initiated by",
        query=actor_match,
        limit=150,
        widget=DatalistInput(attrs={"autocomplete": "off", "list": "audit-actors"}),
    )
    date = DateRangeFilter(label="Date", column="created_at")
    start = DayFilter(label="From (custom range)")
    end = DayFilter(label="To (custom range)")

    def offer(self, entries) -> None:
        names = entries.order_by().values_list("actor_name", flat=True).distinct()
        self.fields["actor"].widget.options = [(name, "") for name in sorted({name or SYSTEM for name in names})]


def _changed_fields(entry: AuditEntry, ctx: None) -> SafeString | str:
    if not entry.changed_fields:
        return "—"
    return format_html_join(", ", "<code>{}</code>", ((name,) for name in entry.changed_fields))


AUDIT_COLUMNS = (
    Column("date", "Date", lambda entry, ctx: entry.created_at, html=lambda entry, ctx: time_html(entry.created_at)),
    Column("activity", "Activity", lambda entry, ctx: entry.activity),
    Column("actor", "Initiated by", lambda entry, ctx: entry.actor_name or SYSTEM),
    Column("changed_fields", "Changed fields", lambda entry, ctx: entry.changed_fields, html=_changed_fields),
    Column("detail", "Detail", lambda entry, ctx: entry.detail or "—"),
)


@require_GET
@reader_required
def audit_logs(request: HttpRequest, slug: str) -> HttpResponse:
    """Newest first. ?activity=<Entra activity name>&actor=<user name>&date=24h|7d|30d|custom&start=&end=."""
    application = get_application(slug)
    entries = AuditEntry.objects.filter(application=application)
    filters = AuditFilters(request.GET)
    filters.offer(entries)
    page = Paginator(filters.apply(entries), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = blade_context(
        application,
        "audit_logs",
        filters=filters,
        page=page,
        headings=[column.heading for column in AUDIT_COLUMNS],
        rows=[[column.cell(entry, None) for column in AUDIT_COLUMNS] for entry in page.object_list],
    )
    return render(request, "provisioning/audit_logs.html", context)
