"""Draw the number of records per year as an SVG bar chart, on the server (no script, no CDN)."""

from __future__ import annotations

from typing import Callable

from markupsafe import Markup, escape

WIDTH, HEIGHT = 800, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 34


def timeline_svg(years: dict[str, int], link: Callable[[str], str] | None = None) -> Markup:
    """Return an accessible SVG: one bar per year from first to last (empty years drawn as gaps).

    Each bar has a ``<title>`` (its year and count) and links to that year's records when ``link``
    is given; the chart as a whole is labelled for screen readers.
    """
    counts = {int(y): n for y, n in years.items() if y.isdigit()}
    if not counts:
        return Markup("")
    first, last = min(counts), max(counts)
    span = last - first + 1
    top = max(counts.values())
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bar_w = plot_w / span
    total = sum(counts.values())
    label = f"Records per year, {first} to {last}: {total} records; the busiest year, {max(counts, key=counts.get)}, has {top}."
    out = [f'<svg class="timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="timeline-title '
           f'timeline-desc" xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
           f'<title id="timeline-title">Timeline of records</title><desc id="timeline-desc">{escape(label)}</desc>',
           f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}"/>']
    for tick in (0, top // 2, top) if top > 1 else (0, top):
        y = TOP + plot_h - (tick / top) * plot_h if top else TOP + plot_h
        out.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100) if span / s <= 12)
    for i, year in enumerate(range(first, last + 1)):
        n = counts.get(year, 0)
        x = LEFT + i * bar_w
        if year % step == 0 or year == first:
            out.append(f'<text class="year" x="{x + bar_w / 2:.1f}" y="{HEIGHT - 12}" text-anchor="middle">{year}</text>')
        if not n:
            continue
        h = max(1.0, n / top * plot_h)
        rect = (f'<rect class="bar" x="{x + bar_w * 0.1:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(bar_w * 0.8, 1):.1f}" '
                f'height="{h:.1f}"><title>{year}: {n} record{"s" if n != 1 else ""}</title></rect>')
        if link:
            rect = f'<a href="{escape(link(str(year)))}" aria-label="{year}: {n} records">{rect}</a>'
        out.append(rect)
    out.append("</svg>")
    return Markup("".join(out))
