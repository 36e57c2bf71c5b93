"""Template helpers of the Overview and log pages: durations, query strings."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django import template

register = template.Library()


@register.filter
def duration_text(value: timedelta | None) -> str:
    """A cycle's duration: "850 ms", "42 s", "3 min 05 s", "2 h 07 min"."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced or (value None/"") removed: "?a=1&b=2"."""
    request = context["request"]
    params = [(k, v) for k, values in request.GET.lists() for v in values if k not in changes]
    params += [(k, v) for k, v in changes.items() if v not in (None, "")]
    return "?" + urlencode(params) if params else "?"
