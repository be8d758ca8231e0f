"""Static SVG bar charts for the public site, drawn in Python (no script, no charting service).

Every text that reaches a chart (option and district names come from the record, which is
untrusted) is escaped; the charts are inline ``<svg>`` elements with a ``<title>`` and an
``aria-label``, so a screen reader reads them and a page without JavaScript shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Bar", "bar_chart", "percent"]

_WIDTH = 640
_LABEL_HEIGHT = 18
_BAR_HEIGHT = 16
_GAP = 10
_BAR_SPACE = 470  # the bar's full length; the number goes to its right
_COLOURS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#16a085", "#7f8c8d")


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its label, its value and what a full bar stands for."""

    label: str
    value: int
    full: int


def percent(value: int, total: int, decimal: str) -> str:
    """``value`` of ``total`` as a percentage with one decimal (``decimal``: "," in Russian)."""
    if total <= 0:
        return "—"
    tenths = (value * 1000 + total // 2) // total
    return f"{tenths // 10}{decimal}{tenths % 10} %"


def bar_chart(title: str, bars: Sequence[Bar], decimal: str, *, outline: bool = False) -> str:
    """An SVG of labelled horizontal bars, each ``value`` against its ``full`` (with its percentage).

    ``outline`` draws each bar's full length as a frame (turnout: voted against the list);
    without it the longest bar spans the chart (a contest's leader) and the others are to scale.
    """
    row = _LABEL_HEIGHT + _BAR_HEIGHT + _GAP
    height = max(1, len(bars)) * row + 4
    label = escape(title)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{label}"'
        f' viewBox="0 0 {_WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f"<title>{label}</title>",
    ]
    longest = max((bar.value for bar in bars), default=0)
    for i, bar in enumerate(bars):
        top = i * row + 2
        scale = bar.full if outline else longest
        share = 0.0 if scale <= 0 else min(1.0, bar.value / scale)
        length = round(share * _BAR_SPACE, 1)
        colour = _COLOURS[i % len(_COLOURS)]
        y_bar = top + _LABEL_HEIGHT
        out.append(f'<text x="0" y="{top + 13}" font-size="14" fill="#222">{escape(bar.label)}</text>')
        if outline:
            out.append(
                f'<rect x="0.5" y="{y_bar + 0.5}" width="{_BAR_SPACE}" height="{_BAR_HEIGHT - 1}"'
                ' fill="#eef1f5" stroke="#9aa5b1"/>'
            )
        out.append(f'<rect x="0" y="{y_bar}" width="{length}" height="{_BAR_HEIGHT}" fill="{colour}"/>')
        number = f"{bar.value:,}".replace(",", "\u202f")
        out.append(
            f'<text x="{_BAR_SPACE + 8}" y="{y_bar + 13}" font-size="13" fill="#222">'
            f"{number} ({percent(bar.value, bar.full, decimal)})</text>"
        )
    out.append("</svg>")
    return "".join(out)
