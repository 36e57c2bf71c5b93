"""The Provisioning logs list (filters and columns in the URL, keyset pages) and an entry's detail tabs."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from console.permissions import reader_required
from provisioning.engine.log import TARGET_SYSTEM
from provisioning.logcolumns import DETAIL_COLUMNS, LOG_COLUMNS, PROPERTY_COLUMNS, LogContext, cells, parts
from provisioning.logquery import filtered_entries, keyset_page, parse_filters
from provisioning.models import ProvisioningLogEntry
from provisioning.views.base import blade_context, get_application, is_htmx

DETAIL_TABS = (
    ("steps", "Steps"),
    ("troubleshooting", "Troubleshooting & Recommendations"),
    ("properties", "Modified Properties"),
    ("summary", "Summary"),
)


@require_GET
@reader_required
def provisioning_logs(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_application(slug)
    job = application.job
    filters = parse_filters(request.GET)
    entries = filtered_entries(job, filters).select_related("cycle").defer("steps", "modified_properties")
    page = keyset_page(entries, after=request.GET.get("after"), before=request.GET.get("before"))
    logs_url = reverse("provisioning_logs", args=[application.slug])
    ctx = LogContext(job, cycles={e.cycle_id: e.cycle.cycle_id for e in page.entries}, logs_url=logs_url)
    detail_base = reverse("provisioning_log_detail", args=[application.slug, "CHANGE"])
    columns = [LOG_COLUMNS[key] for key in filters.columns]
    if not is_htmx(request):
        filters.offer(job)
    context = blade_context(
        application,
        "provisioning_logs",
        filters=filters,
        page=page,
        headings=[column.heading for column in columns],
        rows=[
            (entry, [column.cell(entry, ctx) for column in columns], detail_base.replace("CHANGE", entry.change_id))
            for entry in page.entries
        ],
        newer_url=_page_url(filters.page_params(), before=page.newer) if page.newer else None,
        older_url=_page_url(filters.page_params(), after=page.older) if page.older else None,
        download_query=urlencode(filters.query_items()),
        detail_suffix="?" + urlencode({"back": "?" + request.META["QUERY_STRING"]})
        if request.META.get("QUERY_STRING")
        else "",
    )
    template = "provisioning/partials/log_table.html" if is_htmx(request) else "provisioning/provisioning_logs.html"
    return render(request, template, context)


def _page_url(base: list[tuple[str, str]], **cursor: str) -> str:
    return "?" + urlencode([*base, *cursor.items()])


@require_GET
@reader_required
def log_detail(request: HttpRequest, slug: str, change_id: str) -> HttpResponse:
    application = get_application(slug)
    entry = (
        ProvisioningLogEntry.objects.select_related("cycle", "job")
        .filter(job=application.job, change_id=change_id)
        .first()
    )
    if entry is None:
        raise Http404("No such provisioning log entry")
    tab = request.GET.get("tab", "steps")
    if tab not in dict(DETAIL_TABS):
        tab = "steps"
    ctx = LogContext(
        application.job,
        cycles={entry.cycle_id: entry.cycle.cycle_id},
        logs_url=reverse("provisioning_logs", args=[application.slug]),
    )
    property_columns = [column for key, column in PROPERTY_COLUMNS.items() if key != "change"]
    context = blade_context(
        application,
        "provisioning_logs",
        page_title=f"{entry.get_action_display()} {entry.source_upn or entry.source_display_name or entry.source_id}",
        entry=entry,
        tab=tab,
        tabs=DETAIL_TABS,
        badges=[LOG_COLUMNS[key].cell(entry, ctx) for key in ("action", "status")],
        failed_steps=[s for s in entry.steps or [] if s.get("status") == "failure"],
        summary=cells(entry, DETAIL_COLUMNS, ctx),
        property_headings=[column.heading for column in property_columns],
        properties=[
            [column.cell(part, ctx) for column in property_columns] for part in parts(entry, "modified_properties")
        ],
        back_url=request.GET.get("back", "") if _is_local_query(request.GET.get("back", "")) else "",
        target_system=TARGET_SYSTEM,
    )
    return render(request, "provisioning/log_detail.html", context)


def _is_local_query(value: str) -> bool:
    """Only a query string of the list page is accepted as the "back" link (no open redirect)."""
    return value.startswith("?") and "//" not in value and "\\" not in value
