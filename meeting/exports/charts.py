"""SVG charts for the report: readable without colour (patterns, shapes and printed numbers)
and always next to a table with the same numbers. Vector in the HTML and in the PDF."""
from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

# Fills told apart without colour: solid, hatched, dotted, cross-hatched, empty.
PATTERNS = ("solid", "hatch", "dots", "cross", "empty")
MARKERS = ("circle", "square", "triangle", "diamond", "cross")
FONT = 'font-size="12" font-family="Noto Sans CJK JP, sans-serif"'


def _defs(uid: str) -> str:
    return (f'<defs><pattern id="{uid}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="#222" stroke-width="2"/></pattern>'
            f'<pattern id="{uid}-dots" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#fff"/>'
            f'<circle cx="3" cy="3" r="1.4" fill="#222"/></pattern>'
            f'<pattern id="{uid}-cross" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#fff"/>'
            f'<path d="M0 0L6 6M6 0L0 6" stroke="#222" stroke-width="1"/></pattern></defs>')


def _fill(uid: str, i: int) -> str:
    name = PATTERNS[i % len(PATTERNS)]
    return {"solid": "#444", "empty": "#fff"}.get(name, f"url(#{uid}-{name})")


@dataclass
class Bar:
    label: str
    value: float
    text: str  # the number printed beside the bar


def bar_chart(uid: str, title: str, bars: list[Bar], *, maximum: float | None = None, width: int = 560) -> str:
    """Horizontal bars, one per row, each with its label and number printed."""
    row, label_w, pad = 26, 190, 6
    height = row * len(bars) + 2 * pad
    top = maximum if maximum else max([b.value for b in bars] + [1e-9])
    span = width - label_w - 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}"><title>{escape(title)}</title>', _defs(uid)]
    for i, b in enumerate(bars):
        y = pad + i * row
        w = max(0.0, (b.value or 0) / top * span) if top else 0
        label = b.label if len(b.label) <= 16 else b.label[:15] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" {FONT}>{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{_fill(uid, i)}" '
                     f'stroke="#000" stroke-width="1"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" {FONT}>{escape(b.text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _marker(kind: str, x: float, y: float, r: float = 4) -> str:
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="#fff" stroke="#000"/>'
    if kind == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" fill="#444" stroke="#000"/>'
    if kind == "triangle":
        d = f"M{x:.1f} {y - r:.1f}L{x + r:.1f} {y + r:.1f}L{x - r:.1f} {y + r:.1f}Z"
        return f'<path d="{d}" fill="#888" stroke="#000"/>'
    if kind == "diamond":
        d = f"M{x:.1f} {y - r:.1f}L{x + r:.1f} {y:.1f}L{x:.1f} {y + r:.1f}L{x - r:.1f} {y:.1f}Z"
        return f'<path d="{d}" fill="#fff" stroke="#000"/>'
    d = f"M{x - r:.1f} {y - r:.1f}L{x + r:.1f} {y + r:.1f}M{x + r:.1f} {y - r:.1f}L{x - r:.1f} {y + r:.1f}"
    return f'<path d="{d}" stroke="#000"/>'


def marker_name(group: int | None) -> str:
    return MARKERS[group % len(MARKERS)] if group is not None else "cross"


def scatter(title: str, points: list[tuple[float, float, int | None]], legend: list[tuple[int | None, str]],
            size: int = 360) -> str:
    """Participants on the opinion map: one marker shape per group, a legend in words."""
    pad = 16
    xs = [p[0] for p in points if p[0] is not None] or [0.0]
    ys = [p[1] for p in points if p[1] is not None] or [0.0]
    span = max(max(map(abs, xs)), max(map(abs, ys)), 1e-9)
    half = (size - 2 * pad) / 2
    legend_h = 18 * len(legend) + 8

    def at(v, flip=False):
        return pad + half + (-v if flip else v) / span * half

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{size}" '
             f'height="{size + legend_h}" viewBox="0 0 {size} {size + legend_h}" aria-label="{escape(title)}">'
             f'<title>{escape(title)}</title>',
             f'<rect x="{pad}" y="{pad}" width="{size - 2 * pad}" height="{size - 2 * pad}" fill="none" stroke="#999"/>',
             f'<line x1="{size / 2}" y1="{pad}" x2="{size / 2}" y2="{size - pad}" stroke="#ccc"/>',
             f'<line x1="{pad}" y1="{size / 2}" x2="{size - pad}" y2="{size / 2}" stroke="#ccc"/>']
    for x, y, g in points:
        if x is None or y is None:
            continue
        parts.append(_marker(marker_name(g), at(x), at(y, flip=True)))
    for i, (g, text) in enumerate(legend):
        y = size + 12 + i * 18
        parts.append(_marker(marker_name(g), pad + 6, y))
        parts.append(f'<text x="{pad + 18}" y="{y + 4}" {FONT}>{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
