"""Provisioning log search: filters read from the URL, and keyset pagination over (activity time, id).

The list is ordered newest first by (activity_at, id). A page boundary is a cursor "<ISO time>,<id>": the next
page is "rows strictly before the cursor", so a deep page costs what page 1 costs (an index range scan; no
OFFSET), and rows written while someone pages (always newer) never shift the pages already shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from provisioning.models import LogAction, LogStatus, ProvisioningCycle, ProvisioningJob, ProvisioningLogEntry

PAGE_SIZE = 50
CHUNK_SIZE = 2000

DATE_RANGES: dict[str, tuple[str, timedelta | None]] = {
    "": ("Any time", None),
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
    "custom": ("Custom range", None),
}

# Columns of the list: key -> heading. The first ones are Entra's defaults.
COLUMNS: dict[str, str] = {
    "date": "Date",
    "identity": "Identity",
    "action": "Action",
    "source_system": "Source System",
    "target_system": "Target System",
    "status": "Status",
    "upn": "User principal name",
    "target_id": "Salesforce user id",
    "cycle": "Cycle ID",
    "change": "Change ID",
    "error_code": "Error code",
    "duration": "Duration (ms)",
}
DEFAULT_COLUMNS = ("date", "identity", "action", "source_system", "target_system", "status")

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SALESFORCE_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")


@dataclass
class LogFilters:
    """The filters of the Provisioning logs page, as the URL carries them (names are the query parameters)."""

    identity: str = ""
    date: str = ""
    start: date | None = None
    end: date | None = None
    status: str = ""
    action: str = ""
    cycle: str = ""
    change: str = ""
    columns: list[str] = field(default_factory=lambda: list(DEFAULT_COLUMNS))
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return any((self.identity, self.date, self.status, self.action, self.cycle, self.change))

    def query_items(self) -> list[tuple[str, str]]:
        """The filters as query parameters (without columns and cursors), e.g. for download links."""
        items = [
            (name, getattr(self, name))
            for name in ("identity", "date", "status", "action", "cycle", "change")
            if getattr(self, name)
        ]
        if self.date == "custom":
            items += [(name, getattr(self, name).isoformat()) for name in ("start", "end") if getattr(self, name)]
        return items


def parse_day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


def parse_filters(params: Mapping) -> LogFilters:
    """Read the filters from a QueryDict (or a plain dict); unknown values are dropped with a message."""
    get = params.get
    filters = LogFilters(identity=(get("identity") or "").strip()[:256])
    filters.status = get("status") or ""
    if filters.status and filters.status not in LogStatus.values:
        filters.errors["status"] = f"Unknown status {filters.status!r}; showing every status."
        filters.status = ""
    filters.action = get("action") or ""
    if filters.action and filters.action not in LogAction.values:
        filters.errors["action"] = f"Unknown action {filters.action!r}; showing every action."
        filters.action = ""
    filters.date = get("date") or ""
    if filters.date not in DATE_RANGES:
        filters.errors["date"] = "Unknown date range; showing any time."
        filters.date = ""
    if filters.date == "custom":
        filters.start, filters.end = parse_day(get("start") or ""), parse_day(get("end") or "")
        if (get("start") and not filters.start) or (get("end") and not filters.end):
            filters.errors["date"] = "Dates are written YYYY-MM-DD."
        if filters.start and filters.end and filters.end < filters.start:
            filters.errors["date"] = "The end date is before the start date; the range was swapped."
            filters.start, filters.end = filters.end, filters.start
    filters.cycle = (get("cycle") or "").strip()[:36]
    filters.change = (get("change") or "").strip()[:36]
    getlist = getattr(params, "getlist", None)
    columns = getlist("cols") if getlist else [c for c in (get("cols") or "").split(",") if c]
    if columns:
        filters.columns = [c for c in COLUMNS if c in columns] or list(DEFAULT_COLUMNS)
    return filters


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def filtered_entries(job: ProvisioningJob, filters: LogFilters, *, now: datetime | None = None) -> QuerySet:
    """The job's log entries matching the filters, newest first. Each filter maps onto an index that starts with
    the job (see ProvisioningLogEntry.Meta.indexes and migration 0003)."""
    entries = ProvisioningLogEntry.objects.filter(job=job)
    now = now or timezone.now()
    if filters.identity:
        value = filters.identity
        # Exact ids, or the start of the UPN / display name in any case: every branch is an index probe
        # (migration 0003 on PostgreSQL), never a scan of the table.
        match = Q(source_upn__istartswith=value) | Q(source_display_name__istartswith=value)
        if GUID.match(value):
            match |= Q(source_id=value.lower()) | Q(source_id=value)
        if SALESFORCE_ID.match(value):
            match |= Q(target_id=value)
        entries = entries.filter(match)
    span = DATE_RANGES[filters.date][1]
    if span is not None:
        entries = entries.filter(activity_at__gte=now - span)
    elif filters.date == "custom":
        if filters.start:
            entries = entries.filter(activity_at__gte=day_start(filters.start))
        if filters.end:
            entries = entries.filter(activity_at__lt=day_start(filters.end + timedelta(days=1)))
    if filters.status:
        entries = entries.filter(status=filters.status)
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.cycle:
        cycle_pk = ProvisioningCycle.objects.filter(job=job, cycle_id=filters.cycle).values_list("pk", flat=True)
        entries = entries.filter(cycle_id__in=list(cycle_pk))
    if filters.change:
        entries = entries.filter(change_id=filters.change)
    return entries.order_by("-activity_at", "-id")


# Cursors -----------------------------------------------------------------------------------------------------


def encode_cursor(entry: ProvisioningLogEntry) -> str:
    moment = entry.activity_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{moment},{entry.pk}"


def decode_cursor(text: str | None) -> tuple[datetime, int] | None:
    """The (activity_at, id) of a cursor; None for a missing or malformed one (the page then starts at the top)."""
    if not text or "," not in text:
        return None
    moment, _, pk = text.rpartition(",")
    try:
        when = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return when, int(pk)
    except ValueError:
        return None


def older_than(entries: QuerySet, cursor: tuple[datetime, int]) -> QuerySet:
    """Rows after the cursor in newest-first order. The redundant `activity_at <= t` is the index range bound;
    the OR alone would make the database filter instead of seek."""
    when, pk = cursor
    return entries.filter(activity_at__lte=when).filter(Q(activity_at__lt=when) | Q(id__lt=pk))


def newer_than(entries: QuerySet, cursor: tuple[datetime, int]) -> QuerySet:
    when, pk = cursor
    return entries.filter(activity_at__gte=when).filter(Q(activity_at__gt=when) | Q(id__gt=pk))


@dataclass
class LogPage:
    entries: list[ProvisioningLogEntry]
    newer: str | None  # cursor for ?before=
    older: str | None  # cursor for ?after=


def keyset_page(
    entries: QuerySet, *, after: str | None = None, before: str | None = None, size: int = PAGE_SIZE
) -> LogPage:
    """One page of `entries` (newest first) after the `after` cursor, or before the `before` cursor."""
    after_cursor, before_cursor = decode_cursor(after), decode_cursor(before)
    if before_cursor and not after_cursor:
        rows = list(newer_than(entries, before_cursor).order_by("activity_at", "id")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        if not more_newer:
            # Back at the top: show a full first page rather than a short one.
            rows = list(entries[:size])
            return LogPage(rows, None, encode_cursor(rows[-1]) if len(rows) == size else None)
        return LogPage(rows, encode_cursor(rows[0]), encode_cursor(rows[-1]) if rows else None)
    query = older_than(entries, after_cursor) if after_cursor else entries
    rows = list(query[: size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    newer = (encode_cursor(rows[0]) if rows else after) if after_cursor else None
    return LogPage(rows, newer, encode_cursor(rows[-1]) if more_older and rows else None)


def iter_keyset(entries: QuerySet, chunk_size: int = CHUNK_SIZE) -> Iterator[ProvisioningLogEntry]:
    """Every row of `entries`, newest first, read in keyset chunks: memory stays flat and no transaction or
    server-side cursor stays open between chunks (rows purged meanwhile are simply not seen)."""
    cursor: tuple[datetime, int] | None = None
    while True:
        query = older_than(entries, cursor) if cursor else entries
        rows = list(query.order_by("-activity_at", "-id")[:chunk_size])
        yield from rows
        if len(rows) < chunk_size:
            return
        cursor = (rows[-1].activity_at, rows[-1].pk)


def iter_keyset_values(entries: QuerySet, fields: tuple[str, ...], chunk_size: int = CHUNK_SIZE) -> Iterator[dict]:
    """As iter_keyset, but dicts of only `fields` (plus activity_at and id): no model instances, no unused columns;
    what a download of a million rows needs."""
    names = list(dict.fromkeys([*fields, "activity_at", "id"]))
    cursor: tuple[datetime, int] | None = None
    while True:
        query = older_than(entries, cursor) if cursor else entries
        rows = list(query.order_by("-activity_at", "-id").values(*names)[:chunk_size])
        yield from rows
        if len(rows) < chunk_size:
            return
        cursor = (rows[-1]["activity_at"], rows[-1]["id"])


def present_choices(job: ProvisioningJob) -> dict[str, list[tuple[str, str]]]:
    """Filter choices with data behind them (Entra offers no "Create" when nothing was created): one index
    probe per value, so this costs the same at any table size."""
    entries = ProvisioningLogEntry.objects.filter(job=job)
    return {
        "statuses": [(v, label) for v, label in LogStatus.choices if entries.filter(status=v).exists()],
        "actions": [(v, label) for v, label in LogAction.choices if entries.filter(action=v).exists()],
    }
