"""Small SVG charts (line and grouped bar), built as strings with no dependencies.

Each builder is a pure function returning one ``<svg class="chart" data-chart="ID">`` element
meant to be inlined in an HTML page (it also stands alone: fonts and colours are attributes, not
CSS). Every piece of text that reaches the markup -- ids, titles, axis labels, legend entries,
tooltips -- is escaped here, so callers pass raw data and cannot forget to.

Values that are ``None``, NaN or infinite are gaps: a line breaks there, a bar is not drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"
INK = "#1f2328"
MUTED = "#57606a"
GRID = "#e4e7eb"
AXIS = "#8c959f"

# Okabe & Ito's colour-blind-safe palette without the yellow that vanishes on white;
# a dark grey takes its place.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#555555", "#000000")
DASHES = (None, "7 4", "2 3", "10 3 2 3")
MARKERS = ("circle", "square", "diamond", "triangle")

FONT_SIZE = 12  # px, axis and legend text
TITLE_SIZE = 14  # px
# Average glyph width as a fraction of the font size; good enough to lay out a legend.
GLYPH_WIDTH = 0.58


@dataclass(frozen=True)
class Series:
    """One line of a line chart.

    ``points`` are ``(x, y)`` pairs; ``y=None`` breaks the line. ``errors`` (same length as
    ``points``, or ``None``) are ``(low, high)`` intervals drawn as error bars. ``tooltips``
    (same length) become ``<title>`` hover text on the markers. ``marker`` is one of ``MARKERS``.
    A series with ``in_legend=False`` is drawn but not listed (e.g. an "expected" twin of a line).
    """

    label: str
    points: Sequence[tuple[float, float | None]]
    color: str
    dash: str | None = None
    width: float = 2.25
    markers: bool = True
    errors: Sequence[tuple[float, float] | None] | None = None
    tooltips: Sequence[str] | None = None
    in_legend: bool = True
    marker: str = "circle"  # one of MARKERS; shapes tell overlapping lines apart


@dataclass(frozen=True)
class BarSeries:
    """One colour of a grouped bar chart: one value per category (``None`` = no bar)."""

    label: str
    values: Sequence[float | None]
    color: str
    tooltips: Sequence[str] | None = None


@dataclass(frozen=True)
class RefLine:
    """A horizontal reference line across the plot (e.g. "2 cores")."""

    y: float
    label: str
    color: str = MUTED


def finite(value: object) -> float | None:
    """``value`` as a float, or ``None`` when it is missing, not a number, NaN or infinite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round ticks covering ``[low, high]``: steps of 1, 2, 2.5 or 5 x 10^k.

    Returns ascending floats (rounded to 10 decimals); ``high <= low`` is widened to ``low + 1``.
    """
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    n = round((last - first) / step)
    return [round(first + i * step, 10) for i in range(n + 1)]


def log_ticks(low: float, high: float) -> list[float]:
    """Tick values 1, 2, 5 x 10^k spanning ``[low, high]``, thinned to powers of 10 above 8.

    Both bounds must be > 0 (``math.log10`` raises ValueError otherwise); with no tick inside,
    returns ``[low, high]``.
    """
    start = math.floor(math.log10(low))
    stop = math.ceil(math.log10(high))
    ticks = [m * 10**e for e in range(start, stop + 1) for m in (1, 2, 5)]
    ticks = [t for t in ticks if low / 1.0001 <= t <= high * 1.0001]
    if len(ticks) > 8:
        ticks = [t for t in ticks if math.isclose(t, 10 ** round(math.log10(t)))]
    return ticks or [low, high]


def format_tick(value: float) -> str:
    """A tick label: integers without a decimal point, others with at most 2 decimals."""
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


class _Axis:
    """Maps data values to pixels along one axis, linear or logarithmic."""

    def __init__(self, low: float, high: float, start_px: float, end_px: float, log: bool):
        self.log = log
        self.low, self.high = (math.log10(low), math.log10(high)) if log else (low, high)
        if self.high == self.low:
            self.high = self.low + 1.0
        self.start_px, self.end_px = start_px, end_px

    def __call__(self, value: float) -> float:
        v = math.log10(value) if self.log else value
        frac = (v - self.low) / (self.high - self.low)
        return self.start_px + frac * (self.end_px - self.start_px)


def _text_width(text: str, size: float = FONT_SIZE) -> float:
    return len(text) * size * GLYPH_WIDTH


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _n(value: float) -> str:
    """A coordinate, short: 2 decimals without trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _legend(
    entries: Sequence[tuple[str, str, str | None, str]],
    left: float,
    top: float,
    max_width: float,
) -> tuple[list[str], float]:
    """Lay out ``(label, color, dash, kind)`` entries in centred, wrapped rows.

    Returns ``(svg parts, height in px)``.

    ``kind`` is "bar" (a swatch), "line" (a stroke) or a marker shape (a stroke with that marker).
    """
    rows: list[list[tuple[float, tuple[str, str, str | None, str]]]] = [[]]
    used = 0.0
    for entry in entries:
        width = 22 + _text_width(entry[0]) + 14
        if rows[-1] and used + width > max_width:
            rows.append([])
            used = 0.0
        rows[-1].append((width, entry))
        used += width
    parts: list[str] = []
    row_height = FONT_SIZE + 8
    for r, row in enumerate(rows):
        x = left + (max_width - sum(w for w, _ in row)) / 2
        mid = top + r * row_height + row_height / 2
        for width, (label, color, dash, kind) in row:
            if kind == "bar":
                parts.append(
                    f'<rect x="{_n(x)}" y="{_n(mid - 5)}" width="14" height="10" rx="2" '
                    f'fill="{_attr(color)}"/>'
                )
            else:
                dash_attr = f' stroke-dasharray="{_attr(dash)}"' if dash else ""
                parts.append(
                    f'<line x1="{_n(x)}" y1="{_n(mid)}" x2="{_n(x + 16)}" y2="{_n(mid)}" '
                    f'stroke="{_attr(color)}" stroke-width="2.5"{dash_attr}/>'
                )
                if kind in MARKERS:
                    parts.append(_marker(kind, x + 8, mid, color, ""))
            parts.append(
                f'<text x="{_n(x + 22)}" y="{_n(mid + 4)}" fill="{INK}">{escape(label)}</text>'
            )
            x += width
    return parts, (len(rows) * row_height if entries else 0.0)


def _marker(shape: str, cx: float, cy: float, color: str, inner: str) -> str:
    """A hollow marker centred on (cx, cy); ``inner`` is its escaped ``<title>`` (or "")."""
    style = f'fill="#ffffff" stroke="{_attr(color)}" stroke-width="2"'
    if shape == "square":
        return (
            f'<rect x="{_n(cx - 3.5)}" y="{_n(cy - 3.5)}" width="7" height="7" {style}>'
            f"{inner}</rect>"
        )
    if shape == "diamond":
        d = (
            f"M{_n(cx)} {_n(cy - 5)}L{_n(cx + 5)} {_n(cy)}"
            f"L{_n(cx)} {_n(cy + 5)}L{_n(cx - 5)} {_n(cy)}Z"
        )
        return f'<path d="{d}" {style}>{inner}</path>'
    if shape == "triangle":
        d = f"M{_n(cx)} {_n(cy - 5)}L{_n(cx + 4.6)} {_n(cy + 3.5)}L{_n(cx - 4.6)} {_n(cy + 3.5)}Z"
        return f'<path d="{d}" {style}>{inner}</path>'
    return f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="4" {style}>{inner}</circle>'


def _frame(
    chart_id: str,
    title: str,
    width: float,
    height: float,
    body: Sequence[str],
) -> str:
    return (
        f'<svg class="chart" data-chart="{_attr(chart_id)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}" '
        f'role="img" aria-label="{_attr(title)}" font-family="{_attr(FONT)}" '
        f'font-size="{FONT_SIZE}">'
        f"<title>{escape(title)}</title>"
        f'<rect width="100%" height="100%" fill="#ffffff"/>'
        f'<text x="12" y="22" font-size="{TITLE_SIZE}" font-weight="600" fill="{INK}">'
        f"{escape(title)}</text>" + "".join(body) + "</svg>"
    )


def _axes(
    x: _Axis,
    y: _Axis,
    x_ticks: Sequence[float],
    y_ticks: Sequence[float],
    x_label: str,
    y_label: str,
    plot: tuple[float, float, float, float],
    y_format: Callable[[float], str],
    x_format: Callable[[float], str] = format_tick,
) -> list[str]:
    left, top, right, bottom = plot
    parts = ['<g class="grid">']
    for t in y_ticks:
        py = _n(y(t))
        parts.append(
            f'<line x1="{_n(left)}" y1="{py}" x2="{_n(right)}" y2="{py}" stroke="{GRID}"/>'
        )
    parts.append('</g><g class="axes">')
    parts.append(
        f'<line x1="{_n(left)}" y1="{_n(bottom)}" x2="{_n(right)}" y2="{_n(bottom)}" '
        f'stroke="{AXIS}"/>'
        f'<line x1="{_n(left)}" y1="{_n(top)}" x2="{_n(left)}" y2="{_n(bottom)}" stroke="{AXIS}"/>'
    )
    for t in y_ticks:
        parts.append(
            f'<text x="{_n(left - 6)}" y="{_n(y(t) + 4)}" text-anchor="end" fill="{MUTED}">'
            f"{escape(y_format(t))}</text>"
        )
    for t in x_ticks:
        px = _n(x(t))
        parts.append(
            f'<line x1="{px}" y1="{_n(bottom)}" x2="{px}" y2="{_n(bottom + 4)}" stroke="{AXIS}"/>'
            f'<text x="{px}" y="{_n(bottom + 17)}" text-anchor="middle" fill="{MUTED}">'
            f"{escape(x_format(t))}</text>"
        )
    mid_x, mid_y = (left + right) / 2, (top + bottom) / 2
    parts.append(
        f'<text x="{_n(mid_x)}" y="{_n(bottom + 36)}" text-anchor="middle" fill="{INK}">'
        f"{escape(x_label)}</text>"
        f'<text transform="translate(14 {_n(mid_y)}) rotate(-90)" text-anchor="middle" '
        f'fill="{INK}">{escape(y_label)}</text>'
    )
    parts.append("</g>")
    return parts


def _left_margin(ticks: Sequence[float], y_format: Callable[[float], str]) -> float:
    """Room for the rotated y label plus the widest tick label."""
    return 30.0 + max((_text_width(y_format(t)) for t in ticks), default=0.0) + 10.0


def _footnote(text: str | None, x: float, y: float, max_width: float) -> tuple[list[str], float]:
    """A small centred note under the legend, wrapped on spaces to ``max_width``."""
    if not text:
        return [], 0.0
    lines: list[str] = []
    for word in text.split():
        if lines and _text_width(f"{lines[-1]} {word}", 11) <= max_width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    parts = [
        f'<text x="{_n(x)}" y="{_n(y + 12 + 14 * k)}" font-size="11" fill="{MUTED}" '
        'text-anchor="middle">'
        f"{escape(line)}</text>"
        for k, line in enumerate(lines)
    ]
    return parts, 14.0 * len(lines) + 4


def tint(color: str, amount: float) -> str:
    """``color`` (#rrggbb) mixed with white: 0 keeps it, 1 makes it white; returns #rrggbb.

    Raises ValueError on a colour that is not six hex digits after '#'.
    """
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in rgb)


def _y_range(
    values: Sequence[float], y_min: float | None, y_max: float | None, log: bool
) -> tuple[float, float, list[float]]:
    """Axis bounds and ticks that contain ``values`` and the requested fixed bounds."""
    if log:
        positive = [v for v in values if v > 0] or [1.0]
        low = y_min if y_min and y_min > 0 else min(positive)
        high = y_max if y_max else max(positive)
        low = 10 ** math.floor(math.log10(low))
        high = 10 ** math.ceil(math.log10(high)) if high > low else low * 10
        return low, high, log_ticks(low, high)
    low = y_min if y_min is not None else min([0.0, *values])
    high = max([*values, low + 1e-9]) if y_max is None else max(y_max, *values, low)
    if high <= low:
        high = low + 1.0
    ticks = nice_ticks(low, high)
    return ticks[0], ticks[-1], ticks


def line_chart(
    chart_id: str,
    title: str,
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    width: float = 640,
    plot_height: float = 300,
    x_ticks: Sequence[float] | None = None,
    x_log: bool = False,
    y_log: bool = False,
    y_min: float | None = None,
    y_max: float | None = None,
    y_format: Callable[[float], str] = format_tick,
    ref_lines: Sequence[RefLine] = (),
    footnote: str | None = None,
) -> str:
    """A line chart with axes, grid, tick labels, markers, optional error bars and a legend.

    Returns one ``<svg>`` element as a string; ``width`` and ``plot_height`` are in px, the
    total height grows with the legend and ``footnote``.

    ``x_ticks`` defaults to the distinct x values of the data (measured worker counts or
    concurrency levels read best as exactly those numbers). Log axes ignore values <= 0.
    """
    clean = [[(finite(px), finite(py)) for px, py in s.points] for s in series]
    xs = sorted({px for pts in clean for px, _ in pts if px is not None and (px > 0 or not x_log)})
    ys = [py for pts in clean for _, py in pts if py is not None and (py > 0 or not y_log)]
    for s in series:
        for interval in s.errors or ():
            if interval is not None:
                ys.extend(
                    v for v in map(finite, interval) if v is not None and (v > 0 or not y_log)
                )
    ys.extend(r.y for r in ref_lines)

    top = 40.0
    right = width - 18.0
    bottom = top + plot_height
    ticks_x = sorted(t for t in (x_ticks if x_ticks is not None else xs) if t > 0 or not x_log)
    if not ticks_x:
        ticks_x = [1.0, 2.0]
    x_low, x_high = min(ticks_x), max(ticks_x)
    if x_high == x_low:
        x_low, x_high = (x_low / 2, x_low * 2) if x_log else (x_low - 1, x_high + 1)
    # Pad the x range by a few pixels' worth so end markers are not cut by the axis.
    pad = 14.0
    y_low, y_high, ticks_y = _y_range(ys, y_min, y_max, y_log)
    left = _left_margin(ticks_y, y_format)
    x_axis = _Axis(x_low, x_high, left + pad, right - pad, x_log)
    y_axis = _Axis(y_low, y_high, bottom, top, y_log)

    body = _axes(
        x_axis, y_axis, ticks_x, ticks_y, x_label, y_label, (left, top, right, bottom), y_format
    )
    for ref in ref_lines:
        py = _n(y_axis(ref.y))
        body.append(
            f'<line x1="{_n(left)}" y1="{py}" x2="{_n(right)}" y2="{py}" '
            f'stroke="{_attr(ref.color)}" '
            f'stroke-dasharray="4 3"/><text x="{_n(right - 4)}" y="{_n(y_axis(ref.y) - 5)}" '
            f'text-anchor="end" font-size="11" fill="{_attr(ref.color)}">{escape(ref.label)}</text>'
        )

    def inside(px: float | None, py: float | None) -> bool:
        return px is not None and py is not None and (px > 0 or not x_log) and (py > 0 or not y_log)

    body.append('<g class="series">')
    for s, pts in zip(series, clean, strict=True):
        body.append(f'<g data-series="{_attr(s.label)}">')
        runs: list[list[tuple[float, float]]] = [[]]
        for px, py in pts:
            if inside(px, py):
                runs[-1].append((x_axis(px), y_axis(py)))
            elif runs[-1]:
                runs.append([])
        dash = f' stroke-dasharray="{_attr(s.dash)}"' if s.dash else ""
        for run in runs:
            if len(run) >= 2:
                coords = " ".join(f"{_n(a)},{_n(b)}" for a, b in run)
                body.append(
                    f'<polyline points="{coords}" fill="none" stroke="{_attr(s.color)}" '
                    f'stroke-width="{_n(s.width)}" stroke-linejoin="round"{dash}/>'
                )
        for i, (px, py) in enumerate(pts):
            interval = s.errors[i] if s.errors and i < len(s.errors) else None
            if interval is not None and px is not None:
                lo, hi = finite(interval[0]), finite(interval[1])
                if lo is not None and hi is not None and inside(px, lo) and inside(px, hi):
                    cx, y1, y2 = x_axis(px), y_axis(lo), y_axis(hi)
                    body.append(
                        f'<path d="M{_n(cx)} {_n(y1)}V{_n(y2)}'
                        f'M{_n(cx - 4)} {_n(y1)}h8M{_n(cx - 4)} {_n(y2)}h8" '
                        f'stroke="{_attr(s.color)}" stroke-width="1.25" fill="none" opacity="0.8"/>'
                    )
            if s.markers and inside(px, py):
                tip = s.tooltips[i] if s.tooltips and i < len(s.tooltips) else ""
                tip_el = f"<title>{escape(tip)}</title>" if tip else ""
                body.append(_marker(s.marker, x_axis(px), y_axis(py), s.color, tip_el))
        body.append("</g>")
    body.append("</g>")
    if not any(inside(px, py) for pts in clean for px, py in pts):
        body.append(
            f'<text x="{_n((left + right) / 2)}" y="{_n((top + bottom) / 2)}" text-anchor="middle" '
            f'fill="{MUTED}">no data</text>'
        )

    entries = [
        (s.label, s.color, s.dash, s.marker if s.markers else "line") for s in series if s.in_legend
    ]
    legend, legend_h = _legend(entries, 12.0, bottom + 46, width - 24.0)
    note, note_h = _footnote(footnote, width / 2, bottom + 46 + legend_h, width - 24.0)
    height = bottom + 46 + legend_h + note_h + 8
    return _frame(
        chart_id, title, width, height, [*body, '<g class="legend">', *legend, "</g>", *note]
    )


def bar_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[BarSeries],
    *,
    x_label: str,
    y_label: str,
    width: float = 400,
    plot_height: float = 180,
    y_min: float = 0.0,
    y_max: float | None = None,
    y_format: Callable[[float], str] = format_tick,
    ref_lines: Sequence[RefLine] = (),
    footnote: str | None = None,
) -> str:
    """A grouped bar chart: one group per category, one bar per series within each group.

    Returns one ``<svg>`` element as a string; sizes in px. Values beyond the axis are clipped
    to it; extra values past ``len(categories)`` are ignored.
    """
    values = [v for s in series for v in map(finite, s.values) if v is not None]
    has_bars = bool(values)
    values.extend(r.y for r in ref_lines)
    top = 40.0
    right = width - 12.0
    bottom = top + plot_height
    y_low, y_high, ticks_y = _y_range(values, y_min, y_max, False)
    left = _left_margin(ticks_y, y_format)
    y_axis = _Axis(y_low, y_high, bottom, top, False)
    n_cat = max(len(categories), 1)
    # Categories sit at x = 0 .. n-1, half a slot of margin either side.
    x_axis = _Axis(-0.5, n_cat - 0.5, left, right, False)
    body = _axes(
        x_axis,
        y_axis,
        list(range(len(categories))),
        ticks_y,
        x_label,
        y_label,
        (left, top, right, bottom),
        y_format,
        x_format=lambda t: categories[int(t)] if 0 <= int(t) < len(categories) else "",
    )
    slot = (right - left) / n_cat
    n_bars = max(len(series), 1)
    bar_w = min(22.0, slot * 0.8 / n_bars)
    body.append('<g class="series">')
    for j, s in enumerate(series):
        body.append(f'<g data-series="{_attr(s.label)}">')
        for i, raw in enumerate(s.values[: len(categories)]):
            v = finite(raw)
            if v is None:
                continue
            x0 = x_axis(i) - bar_w * n_bars / 2 + j * bar_w
            y0, y1 = y_axis(max(min(v, y_high), y_low)), y_axis(max(y_low, 0.0))
            tip = s.tooltips[i] if s.tooltips and i < len(s.tooltips) else ""
            tip_el = f"<title>{escape(tip)}</title>" if tip else ""
            body.append(
                f'<rect x="{_n(x0 + 1)}" y="{_n(min(y0, y1))}" width="{_n(max(bar_w - 2, 1))}" '
                f'height="{_n(max(abs(y1 - y0), 1))}" fill="{_attr(s.color)}">{tip_el}</rect>'
            )
        body.append("</g>")
    body.append("</g>")
    for ref in ref_lines:
        py = y_axis(ref.y)
        body.append(
            f'<line x1="{_n(left)}" y1="{_n(py)}" x2="{_n(right)}" y2="{_n(py)}" '
            f'stroke="{_attr(ref.color)}" '
            f'stroke-dasharray="4 3"/><text x="{_n(right - 2)}" y="{_n(py - 4)}" text-anchor="end" '
            f'font-size="11" fill="{_attr(ref.color)}">{escape(ref.label)}</text>'
        )
    if not has_bars:
        body.append(
            f'<text x="{_n((left + right) / 2)}" y="{_n((top + bottom) / 2)}" text-anchor="middle" '
            f'fill="{MUTED}">no data</text>'
        )
    entries = [(s.label, s.color, None, "bar") for s in series]
    legend, legend_h = _legend(entries, 12.0, bottom + 46, width - 24.0)
    note, note_h = _footnote(footnote, width / 2, bottom + 46 + legend_h, width - 24.0)
    height = bottom + 46 + legend_h + note_h + 8
    return _frame(
        chart_id, title, width, height, [*body, '<g class="legend">', *legend, "</g>", *note]
    )
