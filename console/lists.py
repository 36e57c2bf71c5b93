"""Declarative list pages: filters, columns and pages, each declared once.

Filters are a Django form read from the URL (so a filtered list can be bookmarked and downloaded). Each field is
a Filter that also knows how it narrows the queryset, how it reads in the "active filters" line and which query
parameters carry it. A value that does not validate is dropped with its message and the list still shows: a
stale bookmark never breaks the page. Columns are (key, heading, value, render) rows that the page, the detail
page and the downloads all read. Keyset pages a list in an ascending (key, id) order with signed page tokens.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from operator import attrgetter as _attrgetter
from typing import Any

from django import forms
from django.core import signing
from django.db.models import Q, QuerySet
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

DATE_RANGES: dict[str, tuple[str, timedelta | None]] = {
    "": ("Any time", None),
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
    "custom": ("Custom range", None),
}
CUSTOM = "custom"


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


# Filters -----------------------------------------------------------------------------------------------------


class Filter:
    """What a form field adds to be a filter of a list. A field with a value takes part; a blank one does not."""

    def narrow(self, value: Any, form: ListFilters) -> Q | None:
        """The condition rows must meet; None when this field only helps another one (the custom dates)."""
        raise NotImplementedError

    def describe(self, value: Any, form: ListFilters) -> str | None:
        """The value as the "active filters" line shows it; None to leave it out."""
        return str(value)

    def params(self, name: str, value: Any, form: ListFilters) -> list[tuple[str, str]]:
        """The query parameters that carry this value."""
        return [(name, str(value))]

    def settle(self, name: str, cleaned: dict, form: ListFilters) -> None:
        """Adjust the cleaned values once every field is read (a filter whose value depends on another's)."""


class DatalistInput(forms.TextInput):
    """A text input with suggestions (<datalist>) that the view fills per request: `options` of (value, text)."""

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs)
        self.options: list[tuple[str, str]] = []

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        list_id = self.attrs["list"]
        suggestions = format_html_join("", '<option value="{}">{}</option>', self.options)
        rendered = super().render(name, value, attrs, renderer)
        return format_html('{}\n<datalist id="{}">{}</datalist>', rendered, list_id, suggestions)


class TextFilter(Filter, forms.CharField):
    """Free text, trimmed and cut at `limit` characters (a longer value is a typo, not a reason to refuse the
    page). `query` turns the text into the condition."""

    def __init__(self, *, query: Callable[[str], Q], limit: int, **kwargs) -> None:
        self.query, self.limit = query, limit
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> str:
        return super().to_python(value)[: self.limit]

    def narrow(self, value: str, form: ListFilters) -> Q:
        return self.query(value)


class SearchFilter(TextFilter):
    """A search box: unlike TextFilter, a text longer than `limit` or holding control or invisible characters (NUL
    included, which PostgreSQL refuses) is not applied, and the message says why."""

    def __init__(self, *, query: Callable[[str], Q], limit: int, **kwargs) -> None:
        super().__init__(query=query, limit=limit, **kwargs)
        self.validators = []  # Django's null-character check: validate() names every control character

    def to_python(self, value: Any) -> str:
        return forms.CharField.to_python(self, value)

    def validate(self, value: str) -> None:
        super().validate(value)
        if len(value) > self.limit:
            raise forms.ValidationError(
                f"The search was not applied: type at most {self.limit} characters (this one has {len(value)})."
            )
        if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in value):
            raise forms.ValidationError(
                "The search was not applied: remove the control or invisible characters (names, UPNs, mails and "
                "object IDs have none)."
            )


class ChoiceFilter(Filter, forms.ChoiceField):
    """One value of a choices class, compared with the model field `lookup`. With `offer_present`, the page offers
    only values some row has (Entra offers no "Create" when nothing was created)."""

    def __init__(self, choices, *, lookup: str, noun: str, offer_present: bool = False, **kwargs) -> None:
        self.lookup, self.offer_present = lookup, offer_present
        super().__init__(
            choices=[("", "All"), *choices.choices],
            required=False,
            error_messages={"invalid_choice": f"Unknown {noun} %(value)r; showing every {noun}."},
            **kwargs,
        )

    def narrow(self, value: str, form: ListFilters) -> Q:
        return Q(**{self.lookup: value})

    def describe(self, value: str, form: ListFilters) -> str:
        return str(dict(self.choices).get(value, value))

    def offer(self, rows: QuerySet, selected: str) -> None:
        """Offer only values with rows behind them, and the selected one even when no row has it any more. One
        index probe per value: the same cost at any table size."""
        self.widget.choices = [
            (value, label)
            for value, label in self.choices
            if value in ("", selected) or rows.filter(**{self.lookup: value}).exists()
        ]


class DateRangeFilter(Filter, forms.ChoiceField):
    """Any time, a last-N range, or a custom one between two DayFilter fields (both days included), by default
    those named `start` and `end`."""

    def __init__(self, *, column: str, start: str = "start", end: str = "end", **kwargs) -> None:
        self.column, self.start, self.end = column, start, end
        super().__init__(
            choices=[(key, label) for key, (label, _) in DATE_RANGES.items()],
            required=False,
            error_messages={"invalid_choice": "Unknown date range; showing any time."},
            **kwargs,
        )

    def settle(self, name: str, cleaned: dict, form: ListFilters) -> None:
        if cleaned.get(name) != CUSTOM:
            for day in (self.start, self.end):
                cleaned[day] = None
                form.errors.pop(day, None)  # not read, so not worth a message
            return
        start, end = cleaned.get(self.start), cleaned.get(self.end)
        if start and end and end < start:
            cleaned[self.start], cleaned[self.end] = end, start
            form.notes.append("The end date is before the start date; the range was swapped.")

    def narrow(self, value: str, form: ListFilters) -> Q:
        span = DATE_RANGES[value][1]
        if span is not None:
            return Q(**{f"{self.column}__gte": timezone.now() - span})
        start, end = form.value(self.start), form.value(self.end)
        condition = Q()
        if start:
            condition &= Q(**{f"{self.column}__gte": day_start(start)})
        if end:
            condition &= Q(**{f"{self.column}__lt": day_start(end + timedelta(days=1))})
        return condition

    def describe(self, value: str, form: ListFilters) -> str:
        if value != CUSTOM:
            return DATE_RANGES[value][0]
        start, end = form.value(self.start), form.value(self.end)
        if start and end:
            return f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"
        if start or end:
            return f"from {start:%Y-%m-%d}" if start else f"until {end:%Y-%m-%d}"
        return DATE_RANGES[CUSTOM][0]


class DayFilter(Filter, forms.DateField):
    """One end of the custom date range: read only when the date filter says "custom"."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def __init__(self, **kwargs) -> None:
        super().__init__(
            required=False,
            input_formats=["%Y-%m-%d"],
            error_messages={"invalid": "Dates are written YYYY-MM-DD."},
            **kwargs,
        )

    def narrow(self, value: date, form: ListFilters) -> None:
        return None  # DateRangeFilter reads it

    def describe(self, value: date, form: ListFilters) -> None:
        return None

    def params(self, name: str, value: date, form: ListFilters) -> list[tuple[str, str]]:
        return [(name, value.isoformat())]


class ColumnsField(forms.MultipleChoiceField):
    """The columns a user chose (?cols=a&cols=b, or "a,b"), in the table's order; unknown keys are dropped and
    none left means the defaults."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, columns: Mapping[str, str], default: tuple[str, ...], **kwargs) -> None:
        self.default = list(default)
        super().__init__(choices=list(columns.items()), required=False, **kwargs)

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, str):
            value = value.split(",")
        return [str(key) for key in value or () if key]

    def validate(self, value: list[str]) -> None:
        pass  # unknown keys are dropped in clean(), not refused

    def clean(self, value: Any) -> list[str]:
        chosen = set(self.to_python(value))
        return [key for key, _ in self.choices if key in chosen] or self.default


class ListFilters(forms.Form):
    """The filters of one list page, bound to the URL's query parameters (a QueryDict, or a plain dict)."""

    def __init__(self, params: Mapping) -> None:
        super().__init__(data=params)
        self.notes: list[str] = []  # values adjusted rather than dropped
        self.dropped = ErrorDict()
        self.full_clean()
        # Values that did not validate are dropped, not errors: the inputs show what is applied (dropped values
        # blank, swapped dates swapped, text as cut), so nothing on the page is invalid; messages() says why.
        self.dropped, self._errors = self._errors, ErrorDict()
        self.data = QueryDict(mutable=True)
        for name, value in self.query_items() + self._column_params(always=True):
            self.data.appendlist(name, value)

    def clean(self) -> dict:
        cleaned = super().clean()
        for name, field in self.fields.items():
            if isinstance(field, Filter):
                field.settle(name, cleaned, self)
        return cleaned

    def value(self, name: str) -> Any:
        """The applied value of a field: None when blank or dropped."""
        if name in self.dropped:
            return None
        value = self.cleaned_data.get(name)
        return value if value not in (None, "", [], ()) else None

    def _filters(self):
        for name, field in self.fields.items():
            value = self.value(name)
            if isinstance(field, Filter) and value is not None:
                yield name, field, value

    def apply(self, rows: QuerySet) -> QuerySet:
        for _, field, value in self._filters():
            condition = field.narrow(value, self)
            if condition is not None:
                rows = rows.filter(condition)
        return rows

    @property
    def active(self) -> list[tuple[str, str]]:
        """(label, value) of every filter applied, for the "active filters" line; empty when none is."""
        shown = ((field.label, field.describe(value, self)) for _, field, value in self._filters())
        return [(label, text) for label, text in shown if text is not None]

    def query_items(self) -> list[tuple[str, str]]:
        """The applied filters as query parameters: for download links and "Newest"."""
        return [item for name, field, value in self._filters() for item in field.params(name, value, self)]

    def page_params(self) -> list[tuple[str, str]]:
        """query_items and the columns chosen, when they are not the defaults: for the paging links."""
        return self.query_items() + self._column_params(always=False)

    def _column_params(self, *, always: bool) -> list[tuple[str, str]]:
        return [
            (name, key)
            for name, field in self.fields.items()
            if isinstance(field, ColumnsField) and (always or self.cleaned_data[name] != field.default)
            for key in self.cleaned_data[name]
        ]

    @property
    def messages(self) -> list[str]:
        """What was dropped or adjusted, once each."""
        dropped = (message for errors in self.dropped.values() for message in errors)
        return list(dict.fromkeys([*dropped, *self.notes]))

    def filter_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, field in self.fields.items() if isinstance(field, Filter)]


# Columns -----------------------------------------------------------------------------------------------------


def attrgetter(name: str) -> Callable[[Any, Any], Any]:
    """value(row, context) of one attribute of the row."""
    get = _attrgetter(name)
    return lambda row, context: get(row)


def plain(value: Any) -> Any:
    return "" if value is None else value


def time_html(moment: datetime) -> SafeString:
    """A moment in the console's time zone, to the second, machine-readable in the datetime attribute."""
    moment = timezone.localtime(moment)
    return format_html('<time datetime="{}">{}</time>', moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M:%S"))


@dataclass(frozen=True)
class Column:
    """One column: `value(row, context)` is the plain value (JSON takes it as is), `text` the spreadsheet cell
    made from it, `html` the page cell: a format string for the text, or a function of (row, context). `fields`
    are the model fields it reads, so that a download selects only those; `export` is its heading in downloads
    where that differs from the page's. `field` names the one model field a column shows as stored (Column.of):
    a download reads it straight from its row, a mapping, without a call per cell."""

    key: str
    heading: str
    value: Callable[[Any, Any], Any]
    fields: tuple[str, ...] = ()
    text: Callable[[Any], Any] = plain
    html: str | Callable[[Any, Any], str] = "{}"
    export: str = ""
    field: str = ""

    @classmethod
    def of(cls, key: str, heading: str, name: str, **options) -> Column:
        """A column that shows one model field as it is stored."""
        return cls(key, heading, attrgetter(name), (name,), field=name, **options)

    def cell(self, row: Any, context: Any) -> str:
        if isinstance(self.html, str):
            return format_html(self.html, self.text(self.value(row, context)))
        return self.html(row, context)

    @property
    def export_heading(self) -> str:
        return self.export or self.heading


def column_fields(columns: Mapping[str, Column] | list[Column], keys: tuple[str, ...] | None = None) -> tuple:
    """The model fields the columns read, once each."""
    chosen = columns.values() if isinstance(columns, Mapping) else columns
    return tuple(dict.fromkeys(f for c in chosen if keys is None or c.key in keys for f in c.fields))


# Keyset pages --------------------------------------------------------------------------------------------------

PAGE_TOKEN_PROBLEM = (
    "The page link was changed or cut short, so it cannot say where the page starts: showing the first page. "
    "Use the Next and Previous links rather than editing the address."
)


class BadPageToken(Exception):
    """A page token that was not made here (changed by hand, or cut short)."""


@dataclass
class KeysetPage:
    rows: list
    previous: str | None  # token for ?before=
    next: str | None  # token for ?after=
    first: bool = True
    problem: str = ""  # a page token that was refused, in words


class Keyset:
    """Pages of a list in ascending (`key`, id) order. A page boundary is a signed token of the boundary row's
    (key, id): the next page is "rows strictly after it", so a deep page costs what page 1 costs (an index range
    scan, no OFFSET), and a token changed by hand is refused with a message rather than read."""

    def __init__(self, key: str, salt: str, *, ids_first: bool = False) -> None:
        """With `ids_first`, a page is read in two steps: the ids of its rows in (key, id) order, then those rows.
        The first step can then be answered from an index that holds the key, the id and every column the filters
        test (an index-only scan on PostgreSQL, a covering index on SQLite): walking it past many rows that do not
        match costs little, where reading each of those rows to test it cost most of a page."""
        self.key, self.salt, self.ids_first = key, salt, ids_first

    def order(self, rows: QuerySet) -> QuerySet:
        return rows.order_by(self.key, "id")

    def encode(self, row: Any) -> str:
        return signing.dumps([getattr(row, self.key), row.pk], salt=self.salt, compress=True)

    def decode(self, text: str) -> tuple[Any, int]:
        try:
            value = signing.loads(text, salt=self.salt)
        except signing.BadSignature:
            raise BadPageToken from None
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)):
            raise BadPageToken
        return value[0], value[1]

    def _after(self, rows: QuerySet, position: tuple[Any, int]) -> QuerySet:
        """Rows after the position; the redundant `>=` bounds the index range (the OR alone would filter)."""
        key, pk = position
        return rows.filter(**{f"{self.key}__gte": key}).filter(Q(**{f"{self.key}__gt": key}) | Q(id__gt=pk))

    def _before(self, rows: QuerySet, position: tuple[Any, int]) -> QuerySet:
        key, pk = position
        return rows.filter(**{f"{self.key}__lte": key}).filter(Q(**{f"{self.key}__lt": key}) | Q(id__lt=pk))

    def _fetch(self, ordered: QuerySet, limit: int) -> list:
        if not self.ids_first:
            return list(ordered[:limit])
        ids = list(ordered.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        by_pk = {row.pk: row for row in ordered.order_by().filter(pk__in=ids)}
        return [by_pk[pk] for pk in ids if pk in by_pk]

    def page(self, rows: QuerySet, *, after: str = "", before: str = "", size: int) -> KeysetPage:
        """One page of `rows` after the `after` token, or before the `before` token, or the first."""
        try:
            after_at = self.decode(after) if after else None
            before_at = self.decode(before) if before and not after else None
        except BadPageToken:
            first = self.page(rows, size=size)
            first.problem = PAGE_TOKEN_PROBLEM
            return first
        if before_at is not None:
            found = self._fetch(self._before(rows, before_at).order_by(f"-{self.key}", "-id"), size + 1)
            if len(found) <= size:  # back at the start: a full first page rather than a short one
                return self.page(rows, size=size)
            found = found[:size][::-1]
            return KeysetPage(found, self.encode(found[0]), self.encode(found[-1]), first=False)
        query = self._after(rows, after_at) if after_at else rows
        found = self._fetch(self.order(query), size + 1)
        more = len(found) > size
        found = found[:size]
        previous = self.encode(found[0]) if after_at and found else None
        return KeysetPage(found, previous, self.encode(found[-1]) if more and found else None, first=after_at is None)
