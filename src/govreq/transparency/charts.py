"""Charts drawn on the server as SVG: no script, no inline style, every text escaped. Pure.

One chart: requests received per half-year as bars (left axis), those put on hold and those still
on hold at the end of the half-year drawn inside them, the percentage with some data produced as
a line (right axis), on a true time axis (a half-year with no report is a gap, and the line
breaks there), with each jurisdiction hold drawn as a shaded band from the moment it took effect,
labelled, with its public reason as the tooltip. Titles and axis labels are drawn in the chart;
its text description lists every figure, and the page gives the same figures as a table.

Two layouts of the same chart: a wide one, and a narrow one whose text stays at least 11 px on a
phone (the page shows one or the other by its width).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

from govreq.transparency.selectors import Series, public_reason

WIDTH, HEIGHT = 720, 300
NARROW_WIDTH, NARROW_HEIGHT = 340, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 52, 58, 52
HELD_COLOUR, STILL_HELD_COLOUR = "#e39a2d", "#8a4b00"
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
    held: str = "Put on hold"
    still_held: str = "Still on hold at the end"
    time_axis: str = "Half-year received"
    held_summary: str = "{held} put on hold, {still_held} still on hold at the end"
    period_name: Callable[[str], str] = field(default=str)


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


def requests_chart(series: Series, *, text: ChartText, chart_id: str, narrow: bool = False) -> str:
    """The SVG markup of the chart of ``series`` (``narrow``: the phone layout)."""
    width, height = (NARROW_WIDTH, NARROW_HEIGHT) if narrow else (WIDTH, HEIGHT)
    small, label_size = (12, 12) if narrow else (12, 13)
    ident = _text(chart_id)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart{" narrow" if narrow else " wide"}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{_text(text.title)}</title>'
    )
    points = series.points
    if not points:
        return (
            head + f'<desc id="{ident}-desc">{_text(text.empty)}</desc>'
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" font-size="{small}" '
            f'fill="{TEXT_COLOUR}">{_text(text.empty)}</text></svg>'
        )
    name = text.period_name
    summary = "; ".join(
        text.summary.format(
            period=name(p.period.label),
            requests=p.requests,
            percent="-" if p.percent is None else f"{p.percent}%",
        )
        + (
            " (" + text.held_summary.format(held=p.held, still_held=p.still_held) + ")"
            if p.held
            else ""
        )
        for p in points
    )
    start, end = points[0].period.start, points[-1].period.end
    span = (end - start).total_seconds()
    left_margin, right_margin = (40, 40) if narrow else (LEFT, RIGHT)
    x0, x1, y0, y1 = left_margin, width - right_margin, TOP, height - BOTTOM

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
        anchor = "end" if left > (x0 + x1) / 2 and narrow else "start"
        label_x = left - 4 if anchor == "end" else left + 4
        parts.append(
            f'<g class="chart-hold"><title>{_text(label)}: {_text(public_reason(hold))}</title>'
            f'<rect x="{left}" y="{y0}" width="{max(1.0, round(right - left, 1))}" '
            f'height="{y1 - y0}" fill="{HOLD_COLOUR}"/>'
            f'<line x1="{left}" y1="{y0 - 6}" x2="{left}" y2="{y1}" stroke="{HOLD_EDGE}" '
            f'stroke-width="2"/>'
            f'<text x="{label_x}" y="{y0 - 8}" font-size="{small}" text-anchor="{anchor}" '
            f'fill="{HOLD_EDGE}">{_text(label)}</text></g>'
        )
    for fraction in (0, 0.5, 1):
        count = round(top * fraction)
        level = y_requests(count)
        parts.append(
            f'<line x1="{x0}" y1="{level}" x2="{x1}" y2="{level}" stroke="{GRID_COLOUR}"/>'
            f'<text x="{x0 - 6}" y="{level + 4}" font-size="{small}" text-anchor="end" '
            f'fill="{BAR_COLOUR}">{count}</text>'
            f'<text x="{x1 + 6}" y="{level + 4}" font-size="{small}" fill="{LINE_COLOUR}">'
            f"{round(100 * fraction)}%</text>"
        )
    # Axis labels: the left axis counts requests, the right one is a percentage.
    middle_y = round((y0 + y1) / 2, 1)
    parts.append(
        f'<text class="chart-axis" font-size="{small}" fill="{BAR_COLOUR}" text-anchor="middle" '
        f'transform="translate(12 {middle_y}) rotate(-90)">{_text(text.requests)}</text>'
        + (
            ""
            if narrow  # no room beside the ticks, which say % themselves
            else f'<text class="chart-axis" font-size="{small}" fill="{LINE_COLOUR}" '
            f'text-anchor="middle" '
            f'transform="translate({width - 8} {middle_y}) rotate(90)">%</text>'
        )
        + f'<text class="chart-axis" x="{round((x0 + x1) / 2, 1)}" y="{height - 6}" '
        f'font-size="{small}" text-anchor="middle" fill="{TEXT_COLOUR}">'
        f"{_text(text.time_axis)}</text>"
    )
    # One tick label a year on a phone (each centred on its year), every half-year otherwise.
    for point in points:
        left, right = x(point.period.start), x(point.period.end)
        gap = (right - left) * 0.15
        bar_left, bar_width = round(left + gap, 1), round(right - left - 2 * gap, 1)
        height_of = round(y1 - y_requests(point.requests), 1)
        parts.append(
            f'<rect class="chart-bar" x="{bar_left}" y="{y_requests(point.requests)}" '
            f'width="{bar_width}" height="{height_of}" fill="{BAR_COLOUR}">'
            f"<title>{_text(name(point.period.label))}: {point.requests}</title></rect>"
        )
        if point.held:
            parts.append(
                f'<rect class="chart-held" x="{bar_left}" y="{y_requests(point.held)}" '
                f'width="{bar_width}" height="{round(y1 - y_requests(point.held), 1)}" '
                f'fill="{HELD_COLOUR}"><title>{_text(name(point.period.label))}: '
                f"{_text(text.held)} {point.held}</title></rect>"
            )
        if point.still_held:
            inset = round(bar_width / 4, 1)
            parts.append(
                f'<rect class="chart-still-held" x="{round(bar_left + inset, 1)}" '
                f'y="{y_requests(point.still_held)}" width="{round(bar_width - 2 * inset, 1)}" '
                f'height="{round(y1 - y_requests(point.still_held), 1)}" '
                f'fill="{STILL_HELD_COLOUR}"><title>{_text(name(point.period.label))}: '
                f"{_text(text.still_held)} {point.still_held}</title></rect>"
            )
        if narrow:
            if point.period.start.month == 1:
                parts.append(
                    f'<text x="{right}" y="{y1 + 16}" font-size="{small}" text-anchor="middle" '
                    f'fill="{TEXT_COLOUR}">{point.period.start.year}</text>'
                )
        else:
            parts.append(
                f'<text x="{round((left + right) / 2, 1)}" y="{y1 + 16}" font-size="{small}" '
                f'text-anchor="middle" fill="{TEXT_COLOUR}">'
                f"{_text(name(point.period.label))}</text>"
            )
    # The line breaks where a half-year has no figure or no report (a gap in time).
    runs: list[list[tuple[float, float, str]]] = [[]]
    previous_end: datetime | None = None
    for point in points:
        if point.percent is None or (
            previous_end is not None and point.period.start != previous_end
        ):
            runs.append([])
        previous_end = point.period.end
        if point.percent is None:
            continue
        middle = x(point.period.start) + (x(point.period.end) - x(point.period.start)) / 2
        runs[-1].append(
            (
                round(middle, 1),
                y_percent(point.percent),
                f"{name(point.period.label)}: {point.percent}%",
            )
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
    parts.append(_legend(text, x0=x0, width=width, size=label_size, narrow=narrow))
    parts.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="{TEXT_COLOUR}"/></svg>')
    return "".join(parts)


def _legend(text: ChartText, *, x0: float, width: int, size: int, narrow: bool) -> str:
    """Four keys: in one row on the wide chart, two rows of two on the narrow one."""
    keys = [
        ("rect", BAR_COLOUR, text.requests),
        ("rect", HELD_COLOUR, text.held),
        ("rect", STILL_HELD_COLOUR, text.still_held),
        ("line", LINE_COLOUR, text.percent),
    ]
    column = (width - x0) / 2 if narrow else (width - x0) / 4
    parts = []
    for index, (shape, colour, label) in enumerate(keys):
        row, col = (index // 2, index % 2) if narrow else (0, index)
        kx, ky = round(8 + col * column if narrow else x0 + col * column, 1), 8 + row * 18
        mark = (
            f'<rect x="{kx}" y="{ky}" width="12" height="12" fill="{colour}"/>'
            if shape == "rect"
            else f'<line x1="{kx}" y1="{ky + 6}" x2="{kx + 12}" y2="{ky + 6}" stroke="{colour}" '
            f'stroke-width="2"/>'
        )
        parts.append(
            f'{mark}<text x="{kx + 16}" y="{ky + 10}" font-size="{size}" '
            f'fill="{TEXT_COLOUR}">{_text(label)}</text>'
        )
    return "".join(parts)


def chart_table(series: Series, *, text: ChartText, caption: str) -> str:
    """The chart's figures as a table, for screen readers (and anyone who prefers numbers)."""
    name = text.period_name
    rows = "".join(
        f'<tr><th scope="row">{_text(name(p.period.label))}</th><td>{p.requests}</td>'
        f"<td>{p.held}</td><td>{p.still_held}</td>"
        f"<td>{'-' if p.percent is None else f'{p.percent}%'}</td></tr>"
        for p in series.points
    )
    return (
        f'<table class="chart-data"><caption>{_text(caption)}</caption><thead><tr>'
        f'<th scope="col">{_text(text.time_axis)}</th><th scope="col">{_text(text.requests)}</th>'
        f'<th scope="col">{_text(text.held)}</th><th scope="col">{_text(text.still_held)}</th>'
        f'<th scope="col">{_text(text.percent)}</th></tr></thead><tbody>{rows}</tbody></table>'
    )
