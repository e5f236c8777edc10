"""Small inline SVG plots (lines and points on linear axes), so the report needs no plotting library."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 44
Scale = Callable[[float], float]
COLOURS = {"pass": "#2e7d32", "warn": "#ef6c00", "fail": "#c62828", "error": "#6a1b9a"}


@dataclass
class Series:
    """One lot's points, drawn in the colour of its verdict."""

    name: str
    verdict: str
    points: list[tuple[float, float]]


@dataclass
class Plot:
    title: str
    x_label: str
    y_label: str
    series: list[Series]
    lines: bool = True
    x_band: tuple[float, float, str] | None = None  # a shaded x range, e.g. the production window
    y_rules: list[tuple[float, str]] = field(default_factory=list)  # horizontal limit lines
    css_class: str = "plot"


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round tick values covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if raw <= step * m)
    first = math.floor(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step) + 2)
            if first + i * step <= high + step * 0.999]


def _fmt(value: float) -> str:
    return f"{value:g}"


def _bounds(plot: Plot) -> tuple[list[float], list[float]]:
    xs = [x for s in plot.series for x, _ in s.points] + ([plot.x_band[0], plot.x_band[1]] if plot.x_band else [])
    ys = [y for s in plot.series for _, y in s.points] + [y for y, _ in plot.y_rules] + [0.0]
    return nice_ticks(min(xs, default=0.0), max(xs, default=1.0)), nice_ticks(min(ys), max(ys))


def render(plot: Plot) -> str:
    """The plot as an `<svg>` element."""
    xt, yt = _bounds(plot)
    w, h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + (x - xt[0]) / (xt[-1] - xt[0]) * w

    def sy(y: float) -> float:
        return TOP + h - (y - yt[0]) / (yt[-1] - yt[0]) * h

    parts = [f'<svg class="{plot.css_class}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(plot.title)}">',
             f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" class="title">{escape(plot.title)}</text>']
    if plot.x_band:
        lo, hi, label = plot.x_band
        parts.append(f'<rect class="band" x="{sx(lo):.1f}" y="{TOP}" width="{sx(hi) - sx(lo):.1f}" height="{h}" '
                     f'fill="#1565c0" fill-opacity="0.10"><title>{escape(label)}</title></rect>')
    parts += _axes(xt, yt, sx, sy, plot)
    for y, label in plot.y_rules:
        parts.append(f'<line class="limit" x1="{LEFT}" x2="{LEFT + w}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" '
                     f'stroke="#b71c1c" stroke-dasharray="6 4"/><text x="{LEFT + w - 4}" y="{sy(y) - 4:.1f}" '
                     f'text-anchor="end" class="small">{escape(label)}</text>')
    parts += [_series(s, sx, sy, plot.lines) for s in plot.series if s.points]
    parts.append("</svg>")
    return "\n".join(parts)


def _axes(xt: list[float], yt: list[float], sx: Scale, sy: Scale, plot: Plot) -> list[str]:
    fx, fy = sx, sy
    out = [f'<g class="axes" stroke="#555" fill="none"><line x1="{LEFT}" y1="{fy(yt[0]):.1f}" x2="{fx(xt[-1]):.1f}" '
           f'y2="{fy(yt[0]):.1f}"/><line x1="{LEFT}" y1="{fy(yt[0]):.1f}" x2="{LEFT}" y2="{fy(yt[-1]):.1f}"/></g>']
    for x in xt:
        out.append(f'<text x="{fx(x):.1f}" y="{fy(yt[0]) + 16:.1f}" text-anchor="middle" class="small">'
                   f'{_fmt(x)}</text>')
    for y in yt:
        out.append(f'<line x1="{LEFT}" x2="{fx(xt[-1]):.1f}" y1="{fy(y):.1f}" y2="{fy(y):.1f}" stroke="#eee"/>'
                   f'<text x="{LEFT - 6}" y="{fy(y) + 4:.1f}" text-anchor="end" class="small">{_fmt(y)}</text>')
    out.append(f'<text x="{LEFT + (WIDTH - LEFT - RIGHT) / 2}" y="{HEIGHT - 8}" text-anchor="middle">'
               f'{escape(plot.x_label)}</text>')
    out.append(f'<text transform="translate(14 {TOP + (HEIGHT - TOP - BOTTOM) / 2}) rotate(-90)" '
               f'text-anchor="middle">{escape(plot.y_label)}</text>')
    return out


def _series(series: Series, sx: Scale, sy: Scale, lines: bool) -> str:
    fx, fy = sx, sy
    colour = COLOURS.get(series.verdict, "#455a64")
    title = f"<title>{escape(series.name)} ({escape(series.verdict)})</title>"
    if lines and len(series.points) > 1:
        pts = " ".join(f"{fx(x):.1f},{fy(y):.1f}" for x, y in sorted(series.points))
        return (f'<polyline class="lot {escape(series.verdict)}" points="{pts}" fill="none" stroke="{colour}" '
                f'stroke-opacity="0.55" stroke-width="1.4">{title}</polyline>')
    return "".join(f'<circle class="lot {escape(series.verdict)}" cx="{fx(x):.1f}" cy="{fy(y):.1f}" r="3" '
                   f'fill="{colour}" fill-opacity="0.6">{title}</circle>' for x, y in series.points)


def bars(title: str, counts: dict[str, int]) -> str:
    """A horizontal bar per verdict."""
    top = max(counts.values(), default=0) or 1
    rows = [f'<svg class="bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 420 {24 * len(counts) + 30}" '
            f'width="420" height="{24 * len(counts) + 30}" role="img" aria-label="{escape(title)}">',
            f'<text x="0" y="16" class="title">{escape(title)}</text>']
    for i, (name, value) in enumerate(counts.items()):
        y, width = 26 + 24 * i, 300 * value / top
        rows.append(f'<text x="0" y="{y + 14}" class="small">{escape(name)}</text>'
                    f'<rect x="60" y="{y}" width="{width:.1f}" height="18" fill="{COLOURS.get(name, "#455a64")}"/>'
                    f'<text x="{64 + width:.1f}" y="{y + 14}" class="small">{value}</text>')
    rows.append("</svg>")
    return "\n".join(rows)
