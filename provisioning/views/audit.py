"""The Audit logs page: configuration changes of one application, filtered by activity, actor and date in the URL."""

from __future__ import annotations

from datetime import timedelta

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from console.models import AuditActivity, AuditEntry
from console.permissions import reader_required
from provisioning.logquery import DATE_RANGES, day_start, parse_day
from provisioning.views.base import blade_context, get_application

AUDIT_PAGE_SIZE = 50


@require_GET
@reader_required
def audit_logs(request: HttpRequest, slug: str) -> HttpResponse:
    """Newest first. ?activity=<Entra activity name>&actor=<user name>&date=24h|7d|30d|custom&start=&end=."""
    application = get_application(slug)
    entries = AuditEntry.objects.filter(application=application)
    activity = request.GET.get("activity", "")
    if activity in AuditActivity.values:
        entries = entries.filter(activity=activity)
    else:
        activity = ""
    actor = request.GET.get("actor", "").strip()[:150]
    if actor:
        entries = entries.filter(actor_name__iexact=actor) if actor != "system" else entries.filter(actor=None)
    date = request.GET.get("date", "")
    if date not in DATE_RANGES:
        date = ""
    start = end = None
    span = DATE_RANGES[date][1]
    if span is not None:
        entries = entries.filter(created_at__gte=timezone.now() - span)
    elif date == "custom":
        start, end = parse_day(request.GET.get("start", "")), parse_day(request.GET.get("end", ""))
        if start:
            entries = entries.filter(created_at__gte=day_start(start))
        if end:
            entries = entries.filter(created_at__lt=day_start(end + timedelta(days=1)))
    actors = (
        AuditEntry.objects.filter(application=application).order_by().values_list("actor_name", flat=True).distinct()
    )
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = blade_context(
        application,
        "audit_logs",
        page=page,
        activity=activity,
        activities=AuditActivity.choices,
        actor=actor,
        actors=sorted({name or "system" for name in actors}),
        date=date,
        start=start,
        end=end,
        date_ranges=[(key, label) for key, (label, _) in DATE_RANGES.items()],
        filtered=bool(activity or actor or date),
    )
    return render(request, "provisioning/audit_logs.html", context)
