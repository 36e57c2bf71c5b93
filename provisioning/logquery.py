"""Provisioning log search: the filters of the list (a form read from the URL), and keyset pagination over
(activity time, id).

The list is ordered newest first by (activity_at, id). A page boundary is a cursor "<ISO time>,<id>": the next
page is "rows strictly before the cursor", so a deep page costs what page 1 costs (an index range scan; no
OFFSET), and rows written while someone pages (always newer) never shift the pages already shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from console.lists import (
    ChoiceFilter,
    ColumnsField,
    DatalistInput,
    DateRangeFilter,
    DayFilter,
    ListFilters,
    TextFilter,
)
from provisioning.logcolumns import DEFAULT_COLUMNS, PAGE_COLUMNS
from provisioning.models import (
    CycleKind,
    LogAction,
    LogStatus,
    ProvisioningCycle,
    ProvisioningJob,
    ProvisioningLogEntry,
)

PAGE_SIZE = 50
CHUNK_SIZE = 2000
RECENT_CYCLES = 30

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SALESFORCE_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")


def identity_match(value: str) -> Q:
    """Exact ids, or the start of the UPN / display name in any case: every branch is an index probe (migration
    0003 on PostgreSQL), never a scan of the table."""
    match = Q(source_upn__istartswith=value) | Q(source_display_name__istartswith=value)
    if GUID.match(value):
        match |= Q(source_id=value.lower()) | Q(source_id=value)
    if SALESFORCE_ID.match(value):
        match |= Q(target_id=value)
    return match


def cycle_match(value: str) -> Q:
    """By the cycle's GUID, resolved to its key first so that the log is searched on its (cycle, time) index."""
    return Q(cycle_id__in=list(ProvisioningCycle.objects.filter(cycle_id=value).values_list("pk", flat=True)))


class LogFilters(ListFilters):
    """The filters of the Provisioning logs page; every filter maps onto an index that starts with the job (see
    ProvisioningLogEntry.Meta.indexes and migration 0003)."""

    identity = TextFilter(
        label="Identity",
        query=identity_match,
        limit=256,
        help_text="Start of the display name or UPN (any case), or an Entra object id or Salesforce user id.",
        widget=forms.TextInput(attrs={"size": 28}),
    )
    date = DateRangeFilter(label="Date", column="activity_at")
    start = DayFilter(label="From (custom range)")
    end = DayFilter(label="To (custom range)")
    status = ChoiceFilter(LogStatus, label="Status", lookup="status", noun="status", offer_present=True)
    action = ChoiceFilter(LogAction, label="Action", lookup="action", noun="action", offer_present=True)
    cycle = TextFilter(
        label="Cycle ID",
        query=cycle_match,
        limit=36,
        widget=DatalistInput(attrs={"size": 38, "autocomplete": "off", "list": "recent-cycles"}),
    )
    change = TextFilter(
        label="Change ID", query=lambda value: Q(change_id=value), limit=36, widget=forms.TextInput(attrs={"size": 38})
    )
    cols = ColumnsField(PAGE_COLUMNS, DEFAULT_COLUMNS, label="Columns to show")

    @property
    def columns(self) -> list[str]:
        return self.cleaned_data["cols"]

    def offer(self, job: ProvisioningJob) -> None:
        """Fill the inputs' choices from the job's data: statuses and actions with rows, the recent cycles."""
        rows = ProvisioningLogEntry.objects.filter(job=job)
        for name in ("status", "action"):
            self.fields[name].offer(rows, self.value(name) or "")
        recent = job.cycles.order_by("-created_at").values_list("cycle_id", "kind", "started_at")[:RECENT_CYCLES]
        self.fields["cycle"].widget.options = [
            (
                cycle_id,
                " ".join([CycleKind(kind).label, f"{timezone.localtime(started):%Y-%m-%d %H:%M}" if started else ""]),
            )
            for cycle_id, kind, started in recent
        ]


def parse_filters(params: Mapping) -> LogFilters:
    """The filters of a QueryDict (or a plain dict); unknown values are dropped with a message."""
    return LogFilters(params)


def filtered_entries(job: ProvisioningJob, filters: LogFilters) -> QuerySet:
    """The job's log entries matching the filters, newest first."""
    return filters.apply(ProvisioningLogEntry.objects.filter(job=job)).order_by("-activity_at", "-id")


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
    """As iter_keyset, but dicts of only `fields` (plus id): no model instances, no unused columns;
    what a download of a million rows needs."""
    for chunk in iter_keyset_chunks(entries, fields, dict, chunk_size):
        yield from chunk


def iter_keyset_chunks(
    entries: QuerySet, fields: tuple[str, ...], row: Callable[[Any], dict] = dict, chunk_size: int = CHUNK_SIZE
) -> Iterator[list[dict]]:
    """The rows of iter_keyset_values a chunk at a time, each made by `row` (a dict class) from (name, value)
    pairs: one mapping a row, built once. activity_at is only read when `fields` name it."""
    names = tuple(dict.fromkeys([*fields, "id"]))
    last = names.index("id")
    timed = "activity_at" in names  # else the last row's time is read alone: a time a row costs Python to load
    cursor: tuple[datetime, int] | None = None
    while True:
        query = older_than(entries, cursor) if cursor else entries
        values = list(query.order_by("-activity_at", "-id").values_list(*names)[:chunk_size])
        if values:
            yield [row(zip(names, value, strict=True)) for value in values]
        if len(values) < chunk_size:
            return
        pk = values[-1][last]
        if timed:
            moment = values[-1][names.index("activity_at")]
        else:
            moment = entries.model.objects.filter(pk=pk).values_list("activity_at", flat=True).first()
            if moment is None:  # purged meanwhile by retention, and with it every older row
                return
        cursor = (moment, pk)
