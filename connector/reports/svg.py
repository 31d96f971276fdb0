"""Small inline SVG charts for the HTML reports: nothing fetched at run time, no JavaScript.

Each chart is one ``<svg role="img">`` with a ``<title>`` saying what it shows, sized by its viewBox
so it scales with the page. Values arrive already formatted where they are printed (the caller knows
the reader's locale); bars and lines are drawn from the plain numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from html import escape

INK = "#1f2933"
MUTED = "#6b7785"
GRID = "#e3e8ee"
ACCENT = "#2f6fb3"
GOOD = "#2e8b57"
WARN = "#d08a1e"
BAD = "#c0392b"


def _svg(width: int, height: int, title: str, body: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="12">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", fill: str = INK, weight: str = "normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" font-weight="{weight}">'
        f"{escape(text)}</text>"
    )


def line_chart(
    points: Sequence[tuple[str, Decimal | None, str]],
    title: str,
    *,
    width: int = 520,
    height: int = 200,
    colour: str = ACCENT,
) -> str:
    """(x label, value or None, value as printed) per point; a gap where the value is None."""
    left, right, top, bottom = 44, 16, 18, 28
    known = [float(v) for _, v, _ in points if v is not None]
    if not known:
        return _svg(width, 60, title, _text(8, 34, "No data in this period.", fill=MUTED))
    tick = nice_step(max(known) * 1.1 / 4)
    high = tick * 4
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(points) - 1)

    def y(value: float) -> float:
        return top + plot_h - value / high * plot_h

    parts = []
    for i in range(5):  # grid lines at round values
        v = tick * i
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 6, y(v) + 4, f"{v:g}", "end", MUTED))
    segment: list[str] = []
    segments = []
    for i, (_, value, _) in enumerate(points):
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{left + i * step:.1f},{y(float(value)):.1f}")
    if segment:
        segments.append(segment)
    for seg in segments:
        parts.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
    every = max(1, len(points) // 6)  # at most about six x labels
    for i, (label, value, printed) in enumerate(points):
        x = left + i * step
        if value is not None:
            parts.append(f'<circle cx="{x:.1f}" cy="{y(float(value)):.1f}" r="3.5" fill="{colour}">')
            parts.append(f"<title>{escape(label)}: {escape(printed)}</title></circle>")
        if i % every == 0 or i == len(points) - 1:
            parts.append(_text(x, height - 8, label, "middle", MUTED))
    last = next(((i, v, p) for i, (_, v, p) in reversed(list(enumerate(points))) if v is not None), None)
    if last is not None:
        i, value, printed = last
        parts.append(_text(left + i * step - 6, y(float(value)) - 8, printed, "end", colour, "bold"))
    return _svg(width, height, title, "".join(parts))


def bar_rows(
    rows: Sequence[tuple[str, Decimal, str]],
    title: str,
    *,
    width: int = 520,
    colour: str = ACCENT,
    label_width: int = 150,
) -> str:
    """Horizontal bars: (label, value, value as printed) per row, lengths proportional to the values."""
    if not rows:
        return _svg(width, 40, title, _text(8, 24, "Nothing to show in this period.", fill=MUTED))
    row_h, value_w = 24, 90
    height = row_h * len(rows) + 8
    high = max((float(v) for _, v, _ in rows), default=0.0) or 1.0
    plot_w = width - label_width - value_w
    parts = []
    for i, (label, value, printed) in enumerate(rows):
        top = 4 + i * row_h
        length = max(0.0, float(value)) / high * plot_w
        parts.append(_text(label_width - 8, top + 16, _clip(label, label_width), "end"))
        parts.append(
            f'<rect x="{label_width}" y="{top + 4}" width="{length:.1f}" height="{row_h - 8}" rx="2" fill="{colour}"/>'
        )
        parts.append(_text(label_width + length + 6, top + 16, printed, "start", INK))
    return _svg(width, height, title, "".join(parts))


def share_bar(fraction: Decimal | None, printed: str, title: str, *, width: int = 520, colour: str = GOOD) -> str:
    """One bar filled to ``fraction`` (0–1) of its length, with the share printed after it."""
    height, bar_w = 30, width - 80
    if fraction is None:
        return _svg(width, height, title, _text(0, 20, "No invoices to measure in this period.", fill=MUTED))
    filled = max(0.0, min(1.0, float(fraction))) * bar_w
    body = (
        f'<rect x="0" y="6" width="{bar_w}" height="18" rx="3" fill="{GRID}"/>'
        f'<rect x="0" y="6" width="{filled:.1f}" height="18" rx="3" fill="{colour}"/>'
        + _text(bar_w + 8, 20, printed, "start", INK, "bold")
    )
    return _svg(width, height, title, body)


def stacked_bar(
    parts: Sequence[tuple[str, Decimal, str]], title: str, *, width: int = 520, palette: Sequence[str] = ()
) -> str:
    """One bar split into parts proportional to their values, with a legend line under it."""
    colours = list(palette) or [ACCENT, GOOD, WARN, "#7b61c4", BAD, MUTED]
    total = sum((float(v) for _, v, _ in parts), 0.0)
    if total <= 0:
        return _svg(width, 40, title, _text(0, 24, "Nothing to show in this period.", fill=MUTED))
    legend_rows = (len(parts) + 2) // 3
    height = 34 + 20 * legend_rows
    x, body = 0.0, []
    for i, (label, value, printed) in enumerate(parts):
        w = float(value) / total * width
        colour = colours[i % len(colours)]
        body.append(f'<rect x="{x:.1f}" y="4" width="{w:.1f}" height="20" fill="{colour}">')
        body.append(f"<title>{escape(label)}: {escape(printed)}</title></rect>")
        x += w
        lx, ly = (i % 3) * (width / 3), 44 + (i // 3) * 20
        body.append(f'<rect x="{lx:.1f}" y="{ly - 10}" width="10" height="10" fill="{colour}"/>')
        body.append(_text(lx + 14, ly, _clip(f"{label}: {printed}", int(width / 3) - 16)))
    return _svg(width, height, title, "".join(body))


def nice_step(raw: float) -> float:
    """The round step (1, 2, 2.5 or 5 times a power of ten) at or above ``raw``: axis ticks people read."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _clip(text: str, width: int) -> str:
    """Cut a label to about what fits ``width`` pixels at 12 px (about 6.5 px a character)."""
    room = max(4, int(width / 6.5))
    return text if len(text) <= room else text[: room - 1] + "…"
