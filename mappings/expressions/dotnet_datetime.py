"""Dates the way Entra prints and reads them: .NET custom format strings, file-time numbers, and the default
`M/d/yyyy h:mm:ss tt` in UTC."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from mappings.expressions.errors import EvaluationError

DEFAULT_FORMAT = "M/d/yyyy h:mm:ss tt"
FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_MONTHS = list(calendar.month_name)[1:]
_DAYS = list(calendar.day_name)

# .NET standard (one-letter) formats in the invariant culture, as custom patterns.
STANDARD_FORMATS = {
    "d": "MM/dd/yyyy",
    "D": "dddd, dd MMMM yyyy",
    "g": "MM/dd/yyyy HH:mm",
    "G": "MM/dd/yyyy HH:mm:ss",
    "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "t": "HH:mm",
    "T": "HH:mm:ss",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
}
_SPECIFIERS = frozenset("yMdHhmsfFtzKg")


@lru_cache(maxsize=256)
def tokens(fmt: str) -> tuple[tuple[str, str], ...]:
    """("spec", "yyyy") and ("text", "-") pieces of a .NET custom format: quotes and backslash escape text,
    `%x` is a lone specifier, any other character is copied as is."""
    fmt = STANDARD_FORMATS.get(fmt, fmt)
    out: list[tuple[str, str]] = []
    i, n = 0, len(fmt)
    while i < n:
        c = fmt[i]
        if c in "'\"":
            end = fmt.find(c, i + 1)
            if end < 0:
                raise EvaluationError(f"unterminated quoted text in date format {fmt!r}")
            out.append(("text", fmt[i + 1 : end]))
            i = end + 1
        elif c == "\\":
            out.append(("text", fmt[i + 1 : i + 2]))
            i += 2
        elif c == "%" and i + 1 < n and fmt[i + 1] in _SPECIFIERS:
            i += 1
        elif c in _SPECIFIERS:
            j = i
            while j < n and fmt[j] == c:
                j += 1
            out.append(("spec", fmt[i:j]))
            i = j
        else:
            out.append(("text", c))
            i += 1
    return tuple(out)


def _offset(moment: datetime, width: int) -> str:
    delta = moment.utcoffset() or timedelta(0)
    sign = "-" if delta < timedelta(0) else "+"
    minutes = abs(int(delta.total_seconds())) // 60
    hours, minutes = divmod(minutes, 60)
    if width == 1:
        return f"{sign}{hours}"
    if width == 2:
        return f"{sign}{hours:02}"
    return f"{sign}{hours:02}:{minutes:02}"


def _format_spec(moment: datetime, spec: str) -> str:
    c, width = spec[0], len(spec)
    hour12 = moment.hour % 12 or 12
    if c == "y":
        return (
            str(moment.year % 100)
            if width == 1
            else f"{moment.year % 100:02}"
            if width == 2
            else f"{moment.year:0{width}}"
        )
    if c == "M":
        return (
            (str(moment.month), f"{moment.month:02}", _MONTHS[moment.month - 1][:3])[width - 1]
            if width < 4
            else _MONTHS[moment.month - 1]
        )
    if c == "d":
        if width >= 3:
            day = _DAYS[moment.weekday()]
            return day if width >= 4 else day[:3]
        return str(moment.day) if width == 1 else f"{moment.day:02}"
    values = {"H": moment.hour, "h": hour12, "m": moment.minute, "s": moment.second}
    if c in values:
        return str(values[c]) if width == 1 else f"{values[c]:02}"
    if c in "fF":
        digits = f"{moment.microsecond:06}0"[: min(width, 7)]
        return digits.rstrip("0") if c == "F" else digits
    if c == "t":
        marker = "AM" if moment.hour < 12 else "PM"
        return marker if width >= 2 else marker[0]
    if c == "z":
        return _offset(moment, min(width, 3))
    if c == "K":
        return "Z" if moment.utcoffset() == timedelta(0) else _offset(moment, 3)
    return "A.D."  # g: the era


def format_datetime(moment: datetime, fmt: str = DEFAULT_FORMAT) -> str:
    return "".join(_format_spec(moment, v) if kind == "spec" else v for kind, v in tokens(fmt))


_PARSE_PARTS = {
    "y": r"\d{1,2}",
    "yy": r"\d{2}",
    "M": r"\d{1,2}",
    "MM": r"\d{2}",
    "MMM": "|".join(m[:3] for m in _MONTHS),
    "MMMM": "|".join(_MONTHS),
    "d": r"\d{1,2}",
    "dd": r"\d{2}",
    "ddd": "|".join(d[:3] for d in _DAYS),
    "dddd": "|".join(_DAYS),
    "t": "A|P",
    "tt": "AM|PM",
}


@lru_cache(maxsize=256)
def _parser(fmt: str) -> tuple[re.Pattern, tuple[str, ...]]:
    regex, fields = [], []
    for kind, value in tokens(fmt):
        if kind == "text":
            regex.append(re.escape(value))
            continue
        c, width = value[0], len(value)
        if value in _PARSE_PARTS:
            part = _PARSE_PARTS[value]
        elif c == "y":
            part = rf"\d{{{width}}}" if width > 2 else r"\d{1,2}"
        elif c in "Hhms":
            part = r"\d{2}" if width >= 2 else r"\d{1,2}"
        elif c == "f":
            part = rf"\d{{{width}}}"
        elif c == "F":
            part = rf"\d{{0,{width}}}"
        elif c == "K":
            part = r"(?:Z|[+-]\d{2}:?\d{2})?"
        elif c == "z":
            part = r"[+-]\d{2}:?\d{2}" if width >= 3 else r"[+-]\d{1,2}"
        else:
            part = r"\S+"
        regex.append(f"(?P<f{len(fields)}>{part})")
        fields.append(value)
    return re.compile("".join(regex), re.IGNORECASE), tuple(fields)


def parse_exact(text: str, fmt: str) -> datetime:
    """DateTime.ParseExact in the invariant culture, leading/trailing white space allowed; the result in UTC
    (a value without an offset is taken as UTC)."""
    pattern, fields = _parser(fmt)
    match = pattern.fullmatch(text.strip())
    if not match:
        raise EvaluationError(f"{text!r} does not match the date format {fmt!r}")
    parts = {"year": 1, "month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0, "micro": 0}
    pm = None
    tz = None
    for i, spec in enumerate(fields):
        raw = match.group(f"f{i}")
        c = spec[0]
        if raw is None or raw == "":
            continue
        if c == "y":
            year = int(raw)
            parts["year"] = year + 2000 if len(spec) <= 2 and year < 50 else year + 1900 if len(spec) <= 2 else year
        elif c == "M":
            parts["month"] = (
                int(raw) if len(spec) <= 2 else [m.lower()[: len(raw)] for m in _MONTHS].index(raw.lower()) + 1
            )
        elif c == "d" and len(spec) <= 2:
            parts["day"] = int(raw)
        elif c in "Hh":
            parts["hour"] = int(raw)
        elif c == "m":
            parts["minute"] = int(raw)
        elif c == "s":
            parts["second"] = int(raw)
        elif c in "fF":
            parts["micro"] = int((raw + "000000")[:6])
        elif c == "t":
            pm = raw.upper().startswith("P")
        elif c in "zK":
            tz = _tz(raw)
    if pm is not None and parts["hour"] <= 12:
        parts["hour"] = parts["hour"] % 12 + (12 if pm else 0)
    try:
        moment = datetime(
            parts["year"],
            parts["month"],
            parts["day"],
            parts["hour"],
            parts["minute"],
            parts["second"],
            parts["micro"],
            tzinfo=tz or UTC,
        )
    except ValueError as exc:
        raise EvaluationError(f"{text!r} is not a valid date: {exc}") from None
    return moment.astimezone(UTC)


def _tz(raw: str) -> timezone:
    if raw.upper() == "Z":
        return UTC
    sign = -1 if raw[0] == "-" else 1
    digits = raw[1:].replace(":", "")
    hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


_GENERALIZED = re.compile(r"(\d{14})(?:\.(\d+))?(Z|[+-]\d{4})?")
# A date with a UTC offset and no time, as Workday sends hire dates: midnight at that offset. Python's ISO reader
# takes "2021-06-30+08:00" for 08:00 without an offset (and "-07:00" for 07:00, right only by coincidence).
_DATE_WITH_OFFSET = re.compile(r"(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:?\d{2})", re.IGNORECASE)
_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp][Mm]))?)?")
_ISO_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_date(value) -> datetime:
    """A date from what attributes and functions hold: ISO 8601, `M/d/yyyy h:mm:ss tt`, AD generalized time
    (`20150123105347.0Z`) or a datetime. Naive values are UTC."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or UTC).astimezone(UTC)
    text = str(value).strip()
    if match := _US.fullmatch(text):
        month, day, year, hour, minute, second, marker = match.groups()
        h = int(hour or 0)
        if marker:
            h = h % 12 + (12 if marker.upper() == "PM" else 0)
        try:
            return datetime(int(year), int(month), int(day), h, int(minute or 0), int(second or 0), tzinfo=UTC)
        except ValueError:
            pass
    elif match := _DATE_WITH_OFFSET.fullmatch(text):
        year, month, day, offset = match.groups()
        try:
            return datetime(int(year), int(month), int(day), tzinfo=_tz(offset)).astimezone(UTC)
        except ValueError:
            pass
    elif match := _GENERALIZED.fullmatch(text):
        return parse_exact(
            text, "yyyyMMddHHmmss" + (".FFFFFFF" if match.group(2) else "") + ("K" if match.group(3) else "")
        )
    else:
        try:
            moment = datetime.fromisoformat(_ISO_FRACTION.sub(r"\1", text).replace("z", "Z"))
        except ValueError:
            moment = None
        if moment is not None:
            return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)
    raise EvaluationError(f"{text!r} is not a date Entra can read (use ISO 8601 or M/d/yyyy h:mm:ss tt)")


def to_filetime(moment: datetime) -> int:
    delta = moment - FILETIME_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def from_filetime(number: int) -> datetime:
    return FILETIME_EPOCH + timedelta(microseconds=number // 10)
