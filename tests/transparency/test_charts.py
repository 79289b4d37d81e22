"""The SVG chart (pure): well-formed, escaped, holds on the time axis."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from govreq.transparency.charts import (
    RIGHT,
    WIDTH,
    ChartText,
    chart_table,
    nice_ceiling,
    requests_chart,
)
from govreq.transparency.periods import parse_period
from govreq.transparency.selectors import HoldSpan, Series, SeriesPoint

SVG = "{http://www.w3.org/2000/svg}"
TEXT = ChartText(
    title="Hong Kong <&> requests",
    requests="Requests",
    percent="% produced",
    hold_from="Hold from {date}",
    empty="Nothing yet",
    summary="{period}: {requests} requests, {percent}",
)


def point(label: str, requests: int, percent: int | None) -> SeriesPoint:
    return SeriesPoint(
        period=parse_period(label), requests=requests, data_produced=0, percent=percent
    )


def hong_kong() -> Series:
    return Series(
        jurisdiction="HK",
        name="Hong Kong",
        points=[
            point("2019-H2", 241, 46),
            point("2020-H1", 262, 24),
            point("2020-H2", 202, 0),
            point("2021-H1", 152, None),
        ],
        holds=[
            HoldSpan(
                id=1,
                jurisdiction="HK",
                starts="2020-06-30T15:00:00+00:00",
                ends=None,
                reason='Paused "pending" <due diligence>',
            )
        ],
    )


def test_chart_is_well_formed_and_accessible():
    root = ET.fromstring(requests_chart(hong_kong(), text=TEXT, chart_id="c1"))  # noqa: S314 - our own markup
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Hong Kong <&> requests"  # type: ignore[union-attr]
    desc = root.find(f"{SVG}desc").text  # type: ignore[union-attr]
    assert desc == (
        "2019-H2: 241 requests, 46%; 2020-H1: 262 requests, 24%; "
        "2020-H2: 202 requests, 0%; 2021-H1: 152 requests, -"
    )
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "chart-bar"]
    assert len(bars) == 4
    heights = [float(b.get("height", 0)) for b in bars]
    assert heights[1] == max(heights)  # 262 is the tallest
    assert len(list(root.iter(f"{SVG}circle"))) == 3  # no dot where there is no percentage


def test_the_hold_starts_where_it_took_effect_on_the_time_axis():
    root = ET.fromstring(requests_chart(hong_kong(), text=TEXT, chart_id="c1"))  # noqa: S314 - our own markup
    (hold,) = [g for g in root.iter(f"{SVG}g") if g.get("class") == "chart-hold"]
    band = hold.find(f"{SVG}rect")
    assert band is not None
    left = float(band.get("x", 0))
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "chart-bar"]
    # 30 June 2020 lies between the 2020-H1 bar and the 2020-H2 bar.
    first_half_right = float(bars[1].get("x", 0)) + float(bars[1].get("width", 0))
    assert first_half_right < left < float(bars[2].get("x", 0))
    assert left + float(band.get("width", 0)) == WIDTH - RIGHT  # open-ended: to the axis' end
    title = hold.find(f"{SVG}title").text  # type: ignore[union-attr]
    assert title == 'Hold from 2020-06-30: Paused "pending" <due diligence>'


def test_empty_series():
    svg = requests_chart(
        Series(jurisdiction="HK", name="HK", points=[], holds=[]), text=TEXT, chart_id="e"
    )
    root = ET.fromstring(svg)  # noqa: S314 - our own markup
    assert "Nothing yet" in "".join(root.itertext())


def test_nice_ceiling():
    assert [nice_ceiling(n) for n in (0, 1, 3, 7, 10, 11, 262, 1001)] == [
        1,
        1,
        5,
        10,
        10,
        20,
        500,
        2000,
    ]


def test_held_requests_are_drawn_inside_the_bars_and_gaps_stay_gaps():
    series = Series(
        jurisdiction="HK",
        name="Hong Kong",
        points=[
            point("2018-H1", 10, 50),
            # 2018-H2 .. 2019-H2: no report; the line must not run across the gap
            SeriesPoint(
                period=parse_period("2020-H1"),
                requests=20,
                data_produced=1,
                percent=5,
                held=18,
                still_held=12,
            ),
            point("2020-H2", 10, 10),
        ],
        holds=[],
    )
    root = ET.fromstring(requests_chart(series, text=TEXT, chart_id="g"))  # noqa: S314
    held = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "chart-held"]
    still = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "chart-still-held"]
    assert len(held) == 1 and len(still) == 1
    assert float(held[0].get("height", 0)) > float(still[0].get("height", 0)) > 0
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 1 and len(lines[0].get("points", "").split()) == 2  # 2020 only
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "chart-bar"]
    # True spacing: two missing years lie between the first bar and the second.
    step = float(bars[2].get("x", 0)) - float(bars[1].get("x", 0))
    assert float(bars[1].get("x", 0)) - float(bars[0].get("x", 0)) == pytest.approx(4 * step, 0.02)
    words = "".join(root.itertext())
    assert "Half-year received" in words  # the time axis is labelled


def test_the_narrow_chart_keeps_its_text_readable_on_a_phone():
    root = ET.fromstring(  # noqa: S314 - our own markup
        requests_chart(hong_kong(), text=TEXT, chart_id="n", narrow=True)
    )
    width = float(root.get("viewBox", "0 0 0 0").split()[2])
    sizes = [float(t.get("font-size", 0)) for t in root.iter(f"{SVG}text")]
    # Shown at least 328 px wide (a 360 px screen less the page margins).
    assert min(sizes) * 328 / width >= 11


def test_the_data_table_gives_every_figure():
    html = chart_table(hong_kong(), text=TEXT, caption="Hong Kong")
    assert html.count("<tr>") == 5 and "241" in html and "46%" in html
