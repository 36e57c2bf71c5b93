"""A small server-rendered SVG chart of the last cycles: created / updated / disabled / failed per cycle.

No JavaScript and no build step; the <title>/<desc> pair and a table on the same page carry the numbers for
screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from provisioning.models import ProvisioningCycle

SERIES = (("created", "#107c10"), ("updated", "#0078d4"), ("disabled", "#c19c00"), ("failed", "#d13438"))
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 180, 36, 22, 10


def cycle_chart(cycles: Sequence[ProvisioningCycle], *, chart_id: str = "cycle-chart") -> SafeString:
    """Grouped bars, oldest cycle on the left. `cycles` come newest first (as the history table lists them)."""
    ordered = list(reversed(cycles))
    if not ordered:
        return mark_safe("")
    peak = max([max(getattr(c, name) for name, _ in SERIES) for c in ordered] + [1])
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    group_w = plot_w / len(ordered)
    bar_w = max(1.0, group_w * 0.8 / len(SERIES))
    bars = []
    for index, cycle in enumerate(ordered):
        x0 = PAD_LEFT + index * group_w + group_w * 0.1
        for offset, (name, colour) in enumerate(SERIES):
            value = getattr(cycle, name)
            h = plot_h * value / peak
            bars.append(
                (
                    f"{x0 + offset * bar_w:.1f}",
                    f"{PAD_TOP + plot_h - h:.1f}",
                    f"{bar_w:.1f}",
                    f"{h:.1f}",
                    colour,
                    f"{cycle.started_at or cycle.created_at:%Y-%m-%d %H:%M}: {value} {name}",
                )
            )
    bar_svg = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
        bars,
    )
    legend = format_html_join(
        "",
        '<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}" font-size="11">{}</text>',
        (
            (PAD_LEFT + i * 90, HEIGHT - 11, colour, PAD_LEFT + i * 90 + 14, HEIGHT - 2, name.capitalize())
            for i, (name, colour) in enumerate(SERIES)
        ),
    )
    totals = {name: sum(getattr(c, name) for c in ordered) for name, _ in SERIES}
    description = (
        f"{len(ordered)} cycles, oldest first. Totals: "
        + ", ".join(f"{value} {name}" for name, value in totals.items())
        + f". Highest bar: {peak}."
    )
    axis = format_html(
        '<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#8a8886"/>'
        '<text x="{3}" y="{4}" font-size="10" text-anchor="end">{5}</text>'
        '<text x="{3}" y="{1}" font-size="10" text-anchor="end">0</text>',
        PAD_LEFT,
        PAD_TOP + plot_h,
        WIDTH - 8,
        PAD_LEFT - 4,
        PAD_TOP + 8,
        peak,
    )
    return format_html(
        '<svg class="cycle-chart" role="img" viewBox="0 0 {w} {h}" width="100%" '
        'aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">Created, updated, disabled and failed users per cycle</title>'
        '<desc id="{id}-desc">{desc}</desc>{axis}{bars}{legend}</svg>',
        w=WIDTH,
        h=HEIGHT,
        id=escape(chart_id),
        desc=description,
        axis=axis,
        bars=bar_svg,
        legend=legend,
    )
