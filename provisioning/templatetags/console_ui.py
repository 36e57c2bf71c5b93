"""Template helpers of the console pages: status badges and short durations."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils.html import format_html

from provisioning.views.badges import badge_for

register = template.Library()


@register.simple_tag
def badge(value: object, choices_name: str) -> str:
    """``{% badge job_status "ProvisioningStatus" %}`` -> a coloured label; nothing for a blank value."""
    found = badge_for(value, choices_name)
    if found is None:
        return ""
    return format_html('<span class="badge badge-{}">{}</span>', found.colour, found.label)


@register.filter
def minutes_words(value: timedelta | None) -> str:
    """A cool-off period in words ("15 minutes", "1 hour")."""
    if not value:
        return ""
    minutes = max(1, round(value.total_seconds() / 60))
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
