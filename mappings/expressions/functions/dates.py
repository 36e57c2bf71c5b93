"""Date functions: CDate, DateAdd, DateDiff, DateFromNum, FormatDateTime, Now, NumFromDate.
Dates come out in UTC as `M/d/yyyy h:mm:ss tt`, as Entra writes them."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

from mappings.expressions.dotnet_datetime import (
    format_datetime,
    from_filetime,
    parse_date,
    parse_exact,
    to_filetime,
)
from mappings.expressions.errors import EvaluationError
from mappings.expressions.functions.registry import function
from mappings.expressions.values import MISSING, is_empty, is_null, to_int, to_str

INTERVALS = ("yyyy", "q", "m", "y", "d", "w", "ww", "h", "n", "s")
_FIXED = {
    "y": timedelta(days=1),
    "d": timedelta(days=1),
    "w": timedelta(days=1),
    "ww": timedelta(weeks=1),
    "h": timedelta(hours=1),
    "n": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}
_NEVER = 0x7FFFFFFFFFFFFFFF  # accountExpires "never"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _interval(value) -> str:
    text = to_str(value)
    if text not in INTERVALS:
        raise EvaluationError(f"interval must be one of {', '.join(INTERVALS)}; got {text!r}")
    return text


def _add_months(moment: datetime, months: int) -> datetime:
    total = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise EvaluationError("the resulting date is out of range")
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@function("CDate(expression)", 1)
def cdate(ctx, value):
    """A date string read (ISO 8601, M/d/yyyy h:mm:ss tt, AD generalized time) and written back in UTC."""
    if is_empty(value):
        return None
    return format_datetime(parse_date(to_str(value)))


@function("DateAdd(interval, value, dateTime)", 3)
def date_add(ctx, interval, value, date_time):
    """dateTime plus `value` intervals (yyyy, q, m, y/d/w days, ww weeks, h, n minutes, s); value may be
    negative. Adding months keeps the day, clamped to the month's end (Jan 31 + 1 m = Feb 28/29)."""
    unit = _interval(interval)
    amount = to_int(value, "DateAdd value")
    if is_empty(date_time):
        return None
    moment = parse_date(to_str(date_time))
    try:
        if unit in ("yyyy", "q", "m"):
            moment = _add_months(moment, amount * {"yyyy": 12, "q": 3, "m": 1}[unit])
        else:
            moment = moment + _FIXED[unit] * amount
    except OverflowError:
        raise EvaluationError("the resulting date is out of range") from None
    return format_datetime(moment)


@function("DateDiff(interval, date1, date2)", 3)
def date_diff(ctx, interval, date1, date2):
    """How many interval boundaries lie between date1 and date2 (negative when date2 is earlier), as VBScript's
    DateDiff counts them, on the UTC dates: yyyy years, q quarters and m months by their numbers (Dec 31 to Jan 1
    is 1 yyyy); d and y by calendar day; w whole weeks of days; ww calendar weeks, i.e. the Sundays passed (date2
    counted, date1 not: week starts compared); h, n and s by the clock's hours, minutes and seconds (10:59 to
    11:01 is 1 h)."""
    unit = _interval(interval)
    if is_empty(date1) or is_empty(date2):
        return None
    first, second = parse_date(to_str(date1)), parse_date(to_str(date2))
    if unit == "yyyy":
        return second.year - first.year
    if unit == "q":
        return (second.year * 4 + (second.month - 1) // 3) - (first.year * 4 + (first.month - 1) // 3)
    if unit == "m":
        return (second.year - first.year) * 12 + second.month - first.month
    days = (second.date() - first.date()).days
    if unit in ("d", "y"):
        return days
    if unit == "w":
        return int(days / 7)
    if unit == "ww":
        return (_week_start(second) - _week_start(first)).days // 7
    return (second - _EPOCH) // _FIXED[unit] - (first - _EPOCH) // _FIXED[unit]


def _week_start(moment: datetime) -> date:
    """The Sunday on or before the moment's date (VBScript's default first day of the week)."""
    day = moment.date()
    return day - timedelta(days=(day.weekday() + 1) % 7)


@function("DateFromNum(value)", 1)
def date_from_num(ctx, value):
    """An AD file-time number (100 ns since 1601-01-01 UTC) as a date. Choice: 0 and the largest value, which
    AD uses for "never" (lastLogonTimestamp, accountExpires), give null."""
    if is_null(value) or to_str(value) == "":
        return None
    number = to_int(value, "DateFromNum value")
    if number <= 0 or number >= _NEVER:
        return None
    try:
        return format_datetime(from_filetime(number))
    except OverflowError:
        raise EvaluationError(f"{number} is out of the date range") from None


@function("FormatDateTime(source, [dateTimeStyles], inputFormat, outputFormat)", 3, 4, skippable=(1,))
def format_date_time(ctx, source, *rest):
    """source read with the .NET inputFormat and written with outputFormat (yyyy, yy, MM, M, dd, d, HH, H, hh, h,
    mm, m, ss, s, tt, f.., F.., zzz, K, 'literal', \\escape). The result is in UTC. dateTimeStyles is accepted and
    ignored beyond the documented default (white space around the value allowed). Choice: the older
    three-argument form FormatDateTime(source, inputFormat, outputFormat) is accepted too."""
    if len(rest) == 3 and rest[2] is MISSING:  # three arguments given: (source, inputFormat, outputFormat)
        input_format, output_format = rest[0], rest[1]
    else:
        input_format, output_format = rest[-2], rest[-1]
    if is_empty(source):
        return None
    in_fmt, out_fmt = to_str(input_format), to_str(output_format)
    if not in_fmt or not out_fmt:
        raise EvaluationError("inputFormat and outputFormat are required")
    return format_datetime(parse_exact(to_str(source), in_fmt), out_fmt)


@function("Now()", 0)
def now(ctx):
    """The current UTC time (fixed for one evaluation), `M/d/yyyy h:mm:ss tt`."""
    return format_datetime(ctx.now)


@function("NumFromDate(value)", 1)
def num_from_date(ctx, value):
    """A date (ISO 8601 such as 2012-01-01T23:00:00Z, with any offset) as an AD file-time number."""
    if is_empty(value):
        return None
    return to_filetime(parse_date(to_str(value)))
