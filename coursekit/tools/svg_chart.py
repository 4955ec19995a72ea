"""A scatter chart as SVG text: the results page's "FID against training CPU time".

Written by hand rather than with matplotlib because the page is checked byte for byte
against the reports (``make test``): the same points must give the same file on every
machine and matplotlib version. Introduced with the results page (``coursekit.tools.results``).
"""

from __future__ import annotations

import math
from html import escape

# Okabe & Ito's palette: told apart with every common colour-vision deficiency.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """Ticks 0, s, 2s, … up to the first one at or above ``high``, s = 1, 2 or 5 × 10^k
    chosen to give about ``count`` intervals."""
    if not high > 0:
        raise ValueError(f"the axis needs a positive extent, got {high}")
    raw = high / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [round(i * step, 10) for i in range(math.ceil(high / step - 1e-9) + 1)]


def _label(v: float) -> str:
    return f"{v:g}"


def scatter_svg(series: dict[str, list[tuple[float, float]]], x_label: str, y_label: str,
                title: str, width: int = 640, height: int = 400) -> str:
    """Each series (legend label → points (x, y)) in its own colour and marker; both axes
    start at 0. Returns the SVG document as text."""
    points = [p for values in series.values() for p in values]
    if not points:
        raise ValueError("nothing to plot: every series is empty")
    if len(series) > len(COLOURS):
        raise ValueError(f"at most {len(COLOURS)} series, got {len(series)}")
    left, right, top, bottom = 60, 190, 40, 50
    x_ticks = nice_ticks(max(x for x, _ in points))
    y_ticks = nice_ticks(max(y for _, y in points))

    def sx(x):
        return round(left + x / x_ticks[-1] * (width - left - right), 1)

    def sy(y):
        return round(height - bottom - y / y_ticks[-1] * (height - top - bottom), 1)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f"<title>{escape(title)}</title>",
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="14" font-weight="bold">{escape(title)}</text>']
    for x in x_ticks:
        out += [f'<line x1="{sx(x)}" y1="{sy(0)}" x2="{sx(x)}" y2="{sy(y_ticks[-1])}" '
                'stroke="#e5e5e5"/>',
                f'<text x="{sx(x)}" y="{sy(0) + 16}" text-anchor="middle">{_label(x)}</text>']
    for y in y_ticks:
        out += [f'<line x1="{sx(0)}" y1="{sy(y)}" x2="{sx(x_ticks[-1])}" y2="{sy(y)}" '
                'stroke="#e5e5e5"/>',
                f'<text x="{sx(0) - 6}" y="{sy(y) + 4}" text-anchor="end">{_label(y)}</text>']
    out += [f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(x_ticks[-1])}" y2="{sy(0)}" '
            'stroke="black"/>',
            f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(0)}" y2="{sy(y_ticks[-1])}" '
            'stroke="black"/>',
            f'<text x="{(sx(0) + sx(x_ticks[-1])) / 2}" y="{height - 12}" '
            f'text-anchor="middle">{escape(x_label)}</text>',
            f'<text transform="translate(16 {(sy(0) + sy(y_ticks[-1])) / 2}) rotate(-90)" '
            f'text-anchor="middle">{escape(y_label)}</text>']
    for i, (name, values) in enumerate(series.items()):
        colour, filled = COLOURS[i], i % 2 == 0  # alternate filled and open markers
        style = f'fill="{colour}"' if filled else f'fill="white" stroke="{colour}" stroke-width="2"'
        out += [f'<circle cx="{sx(x)}" cy="{sy(y)}" r="5" {style}><title>{escape(name)}: '
                f"{x:.3g}, {y:.3g}</title></circle>" for x, y in values]
        ly = top + 10 + 20 * i
        out += [f'<circle cx="{width - right + 20}" cy="{ly}" r="5" {style}/>',
                f'<text x="{width - right + 32}" y="{ly + 4}">{escape(name)}</text>']
    return "\n".join(out + ["</svg>"]) + "\n"
