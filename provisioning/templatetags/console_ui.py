"""Template helpers of the console pages: status badges and short durations."""

from __future__ import annotations

from datetime import timedelta

from django import template

from console.choices import badge_html
from provisioning.views import badges  # noqa: F401  (declares the ChoiceSets only pages use)

register = template.Library()


@register.simple_tag
def badge(value: object, choices_name: str) -> str:
    """``{% badge cycle.status "CycleStatus" %}`` -> the coloured label of any ChoiceSet; nothing for a blank
    value."""
    return badge_html(value, choices_name)


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
