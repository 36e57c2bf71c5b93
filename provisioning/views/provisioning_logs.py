"""The Provisioning logs list (filters and columns in the URL, keyset pages) and an entry's detail tabs."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from console.choices import badge_html
from console.permissions import reader_required
from provisioning.logexport import SOURCE_SYSTEM, TARGET_SYSTEM
from provisioning.logquery import (
    COLUMNS,
    DATE_RANGES,
    DEFAULT_COLUMNS,
    filtered_entries,
    keyset_page,
    parse_filters,
    present_choices,
)
from provisioning.models import LogAction, LogStatus, ProvisioningLogEntry
from provisioning.templatetags import log_ui  # noqa: F401  (registers the log and cycle badges)
from provisioning.views.base import blade_context, get_application, is_htmx

RECENT_CYCLES = 30
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
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
    choices = present_choices(job)
    detail_base = reverse("provisioning_log_detail", args=[application.slug, "CHANGE"])
    # The selected value stays offered even when no row has it any more.
    for key, value, all_choices in (
        ("statuses", filters.status, LogStatus.choices),
        ("actions", filters.action, LogAction.choices),
    ):
        if value and value not in dict(choices[key]):
            choices[key] = [c for c in all_choices if c[0] == value or c[0] in dict(choices[key])]
    base = [*filters.query_items(), *(("cols", c) for c in filters.columns if filters.columns != list(DEFAULT_COLUMNS))]
    context = blade_context(
        application,
        "provisioning_logs",
        filters=filters,
        page=page,
        rows=[
            (entry, [cell(entry, key) for key in filters.columns], detail_base.replace("CHANGE", entry.change_id))
            for entry in page.entries
        ],
        columns=[(key, COLUMNS[key]) for key in filters.columns],
        shown=set(filters.columns),
        all_columns=list(COLUMNS.items()),
        date_ranges=[(key, label) for key, (label, _) in DATE_RANGES.items()],
        statuses=choices["statuses"],
        actions=choices["actions"],
        recent_cycles=job.cycles.order_by("-created_at").values_list("cycle_id", "kind", "started_at")[:RECENT_CYCLES],
        newer_url=_page_url(base, before=page.newer) if page.newer else None,
        older_url=_page_url(base, after=page.older) if page.older else None,
        download_query=urlencode(filters.query_items()),
        detail_suffix="?" + urlencode({"back": "?" + request.META["QUERY_STRING"]})
        if request.META.get("QUERY_STRING")
        else "",
        source_system=SOURCE_SYSTEM,
        target_system=TARGET_SYSTEM,
    )
    template = "provisioning/partials/log_table.html" if is_htmx(request) else "provisioning/provisioning_logs.html"
    return render(request, template, context)


def cell(entry: ProvisioningLogEntry, key: str) -> SafeString:
    """One cell of the list. Built here rather than in the template: 50 rows x N columns of template branching
    cost more than the query."""
    if key == "date":
        moment = timezone.localtime(entry.activity_at)
        return format_html('<time datetime="{}">{}</time>', moment.isoformat(), moment.strftime(DATE_FORMAT))
    if key == "identity":
        return format_html(
            '{}<br><small class="muted"><code>{}</code></small>',
            entry.source_display_name or entry.source_upn,
            entry.source_id,
        )
    if key == "action":
        dry = mark_safe(' <span class="badge badge-grey">Dry run</span>') if entry.dry_run else ""
        return format_html("{}{}", badge_html(entry.action, "LogAction"), dry)
    if key == "status":
        return badge_html(entry.status, "LogStatus")
    text = {
        "source_system": SOURCE_SYSTEM,
        "target_system": TARGET_SYSTEM,
        "upn": entry.source_upn,
        "error_code": entry.error_code,
        "duration": entry.duration_ms,
    }
    if key in text:
        return format_html("{}", text[key])
    code = {"target_id": entry.target_id, "cycle": entry.cycle.cycle_id, "change": entry.change_id}[key]
    return format_html("<code>{}</code>", code)


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
    failed_steps = [s for s in entry.steps or [] if s.get("status") == "failure"]
    context = blade_context(
        application,
        "provisioning_logs",
        page_title=f"{entry.get_action_display()} {entry.source_upn or entry.source_display_name or entry.source_id}",
        entry=entry,
        tab=tab,
        tabs=DETAIL_TABS,
        failed_steps=failed_steps,
        back_url=request.GET.get("back", "") if _is_local_query(request.GET.get("back", "")) else "",
        source_system=SOURCE_SYSTEM,
        target_system=TARGET_SYSTEM,
    )
    return render(request, "provisioning/log_detail.html", context)


def _is_local_query(value: str) -> bool:
    """Only a query string of the list page is accepted as the "back" link (no open redirect)."""
    return value.startswith("?") and "//" not in value and "\\" not in value
