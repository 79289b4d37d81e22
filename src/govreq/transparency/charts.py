"""Charts drawn on the server as SVG: no script, no inline style, every text escaped. Pure.

One chart: requests per half-year as bars (left axis), the percentage with some data produced as
a line (right axis), on a time axis on which each jurisdiction hold is drawn as a shaded span
from the day it took effect, labelled, with its public reason as the tooltip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from govreq.transparency.selectors import Series

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 48, 34, 44
BAR_COLOUR, LINE_COLOUR, HOLD_COLOUR, HOLD_EDGE, GRID_COLOUR, TEXT_COLOUR = (
    "#3f6593",
    "#b5452c",
    "#f3d3cc",
    "#9c2f1c",
    "#d8d8d8",
    "#222222",
)


@dataclass(frozen=True, kw_only=True)
class ChartText:
    """The chart's words, in the page's language."""

    title: str
    requests: str  # "Requests"
    percent: str  # "% with data produced"
    hold_from: str  # "Hold from {date}"
    empty: str  # "No published data yet"
    summary: str  # "{period}: {requests} requests, {percent} with data produced"


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


def requests_chart(series: Series, *, text: ChartText, chart_id: str) -> str:
    """The SVG markup of the chart of ``series``."""
    ident = _text(chart_id)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{_text(text.title)}</title>'
    )
    points = series.points
    if not points:
        return (
            head + f'<desc id="{ident}-desc">{_text(text.empty)}</desc>'
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" '
            f'fill="{TEXT_COLOUR}">{_text(text.empty)}</text></svg>'
        )
    summary = "; ".join(
        text.summary.format(
            period=p.period.label,
            requests=p.requests,
            percent="-" if p.percent is None else f"{p.percent}%",
        )
        for p in points
    )
    start, end = points[0].period.start, points[-1].period.end
    span = (end - start).total_seconds()
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM

    def x(moment: datetime) -> float:
        share = (moment - start).total_seconds() / span
        return round(x0 + min(1.0, max(0.0, share)) * (x1 - x0), 1)

    top = nice_ceiling(max(p.requests for p in points))

    def y_requests(count: int) -> float:
        return round(y1 - count / top * (y1 - y0), 1)

    def y_percent(value: int) -> float:
        return round(y1 - value / 100 * (y1 - y0), 1)

    parts = [head, f'<desc id="{ident}-desc">{_text(summary)}</desc>']
    for hold in series.holds:
        begins = _when(hold.starts)
        ends = _when(hold.ends) if hold.ends else end
        if begins >= end or ends <= start:
            continue
        left, right = x(max(begins, start)), x(min(ends, end))
        label = text.hold_from.format(date=f"{begins:%Y-%m-%d}")
        parts.append(
            f'<g class="chart-hold"><title>{_text(label)}: {_text(hold.reason)}</title>'
            f'<rect x="{left}" y="{y0}" width="{max(1.0, round(right - left, 1))}" '
            f'height="{y1 - y0}" fill="{HOLD_COLOUR}"/>'
            f'<line x1="{left}" y1="{y0 - 6}" x2="{left}" y2="{y1}" stroke="{HOLD_EDGE}" '
            f'stroke-width="2"/>'
            f'<text x="{left + 4}" y="{y0 - 8}" font-size="11" fill="{HOLD_EDGE}">'
            f"{_text(label)}</text></g>"
        )
    for fraction in (0, 0.5, 1):
        count = round(top * fraction)
        level = y_requests(count)
        parts.append(
            f'<line x1="{x0}" y1="{level}" x2="{x1}" y2="{level}" stroke="{GRID_COLOUR}"/>'
            f'<text x="{x0 - 6}" y="{level + 4}" font-size="11" text-anchor="end" '
            f'fill="{BAR_COLOUR}">{count}</text>'
            f'<text x="{x1 + 6}" y="{level + 4}" font-size="11" fill="{LINE_COLOUR}">'
            f"{round(100 * fraction)}%</text>"
        )
    every = max(1, math.ceil(len(points) / 12))
    for index, point in enumerate(points):
        left, right = x(point.period.start), x(point.period.end)
        gap = (right - left) * 0.15
        height = round(y1 - y_requests(point.requests), 1)
        parts.append(
            f'<rect class="chart-bar" x="{round(left + gap, 1)}" y="{y_requests(point.requests)}" '
            f'width="{round(right - left - 2 * gap, 1)}" height="{height}" fill="{BAR_COLOUR}">'
            f"<title>{_text(point.period.label)}: {point.requests}</title></rect>"
        )
        if index % every == 0:
            parts.append(
                f'<text x="{round((left + right) / 2, 1)}" y="{y1 + 16}" font-size="11" '
                f'text-anchor="middle" fill="{TEXT_COLOUR}">{_text(point.period.label)}</text>'
            )
    runs: list[list[tuple[float, float, str]]] = [[]]
    for point in points:
        if point.percent is None:
            runs.append([])
            continue
        middle = x(point.period.start) + (x(point.period.end) - x(point.period.start)) / 2
        runs[-1].append(
            (round(middle, 1), y_percent(point.percent), f"{point.period.label}: {point.percent}%")
        )
    for run in runs:
        if len(run) > 1:
            coordinates = " ".join(f"{px},{py}" for px, py, _ in run)
            parts.append(
                f'<polyline points="{coordinates}" fill="none" stroke="{LINE_COLOUR}" '
                f'stroke-width="2"/>'
            )
        for px, py, label in run:
            parts.append(
                f'<circle cx="{px}" cy="{py}" r="3.5" fill="{LINE_COLOUR}">'
                f"<title>{_text(label)}</title></circle>"
            )
    parts.append(
        f'<rect x="{x0}" y="8" width="12" height="12" fill="{BAR_COLOUR}"/>'
        f'<text x="{x0 + 16}" y="18" font-size="12" fill="{TEXT_COLOUR}">'
        f"{_text(text.requests)}</text>"
        f'<line x1="{x0 + 190}" y1="14" x2="{x0 + 210}" y2="14" stroke="{LINE_COLOUR}" '
        f'stroke-width="2"/>'
        f'<text x="{x0 + 216}" y="18" font-size="12" fill="{TEXT_COLOUR}">'
        f"{_text(text.percent)}</text>"
        f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="{TEXT_COLOUR}"/>'
        "</svg>"
    )
    return "".join(parts)
