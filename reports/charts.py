"""Charts as SVG drawn on the server: no JavaScript, no CDN, and they print like the page.

Each chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>``, prints its numbers as text
next to the marks, and tells series apart by pattern, dash and marker shape as well as by colour.
The figures come in as Decimal and are only turned into coordinates here; the page shows the exact
figures in the table beside each chart.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import count

from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from coalition import numbers

#: Fills: (colour, pattern name). Patterns make the series distinct in greyscale and for colour blindness.
FILLS = [
    ("#0b4f8a", "solid"),
    ("#b35c00", "diagonal"),
    ("#1e6b32", "dots"),
    ("#6b3fa0", "cross"),
    ("#8a1c2b", "horizontal"),
]
LINE_STYLES = [
    ("#0b4f8a", "", "circle"),
    ("#b35c00", "8 4", "square"),
    ("#1e6b32", "2 3", "triangle"),
]
FONT = 'font-family="system-ui, sans-serif"'
_ids = count(1)


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value and the text printed at its end (the value, formatted)."""

    label: str
    value: Decimal
    text: str = ""


#: The one formatting of the portal's numbers (coalition.numbers): charts and tables share it.
money_short = numbers.money_short
percent = numbers.percent
_num = numbers.svg_number


def _short(label, limit):
    """``label`` cut to ``limit`` characters with an ellipsis (the full text goes in a <title>)."""
    label = str(label)
    return label if len(label) <= limit else label[: max(limit - 1, 1)].rstrip() + "…"


def _patterns(prefix):
    """<defs> with one pattern per FILLS entry, ids ``{prefix}-{n}``."""
    parts = ["<defs>"]
    for index, (colour, kind) in enumerate(FILLS):
        pid = f"{prefix}-{index}"
        if kind == "solid":
            parts.append(
                f'<pattern id="{pid}" width="8" height="8" patternUnits="userSpaceOnUse">'
                f'<rect width="8" height="8" fill="{colour}"/></pattern>'
            )
        elif kind == "diagonal":
            parts.append(
                f'<pattern id="{pid}" width="8" height="8" patternUnits="userSpaceOnUse" '
                f'patternTransform="rotate(45)"><rect width="8" height="8" fill="#fff"/>'
                f'<rect width="4" height="8" fill="{colour}"/></pattern>'
            )
        elif kind == "dots":
            parts.append(
                f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse">'
                f'<rect width="6" height="6" fill="#fff"/><circle cx="3" cy="3" r="2" fill="{colour}"/></pattern>'
            )
        elif kind == "cross":
            parts.append(
                f'<pattern id="{pid}" width="8" height="8" patternUnits="userSpaceOnUse">'
                f'<rect width="8" height="8" fill="#fff"/><path d="M0 0L8 8M8 0L0 8" stroke="{colour}" '
                f'stroke-width="2"/></pattern>'
            )
        else:
            parts.append(
                f'<pattern id="{pid}" width="8" height="8" patternUnits="userSpaceOnUse">'
                f'<rect width="8" height="8" fill="#fff"/><rect width="8" height="4" fill="{colour}"/></pattern>'
            )
    parts.append("</defs>")
    return "".join(parts)


def _open(width, height, title, desc):
    uid = f"chart{next(_ids)}"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{uid}-title {uid}-desc" {FONT} font-size="13">'
        f'<title id="{uid}-title">{escape(title)}</title><desc id="{uid}-desc">{escape(desc)}</desc>'
    )
    return uid, head


def _fill(uid, index):
    colour, _kind = FILLS[index % len(FILLS)]
    return f'fill="url(#{uid}-p-{index % len(FILLS)})" stroke="{colour}"'


def progress_bar(value, target, *, title, desc, width=640):
    """A bar of ``value`` against ``target``, the share written above it and both amounts below."""
    uid, head = _open(width, 84, title, desc)
    share = Decimal(value) / Decimal(target) if target else Decimal(0)
    inner = width - 2
    filled = inner * float(min(share, Decimal(1)))
    label = _("%(share)s of target") % {"share": percent(share)}
    parts = [
        head,
        _patterns(f"{uid}-p"),
        f'<text x="0" y="16" font-weight="700" fill="#1b1f24">{escape(label)}</text>',
        f'<rect x="1" y="24" width="{inner}" height="32" fill="#fff" stroke="#1b1f24" stroke-width="2"/>',
        f'<rect x="1" y="24" width="{_num(filled)}" height="32" {_fill(uid, 0)} stroke-width="0"/>',
        f'<text x="0" y="76" fill="#1b1f24">{escape(money_short(value))}</text>',
        f'<text x="{width}" y="76" text-anchor="end" fill="#1b1f24">{escape(_target_label(target))}</text>',
        "</svg>",
    ]
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def hbar_chart(bars, *, title, desc, width=640, label_width=170, value_width=110, row_height=26):
    """Horizontal bars, in the order given (rank them before), each labelled and with its value. A
    label too long for its column is abbreviated, its full text in the bar's <title>."""
    height = max(len(bars), 1) * row_height + 8
    uid, head = _open(width, height, title, desc)
    top = max((Decimal(b.value) for b in bars), default=Decimal(0)) or Decimal(1)
    area = width - label_width - value_width
    limit = max(label_width // 8, 4)
    parts = [head, _patterns(f"{uid}-p")]
    for index, bar in enumerate(bars):
        y = 4 + index * row_height
        length = area * float(Decimal(bar.value) / top)
        text = bar.text or money_short(bar.value)
        parts.append(
            f"<g><title>{escape(bar.label)}: {escape(text)}</title>"
            f'<text x="{label_width - 8}" y="{_num(y + row_height / 2 + 4)}" text-anchor="end" fill="#1b1f24">'
            f"{escape(_short(bar.label, limit))}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{_num(max(length, 1))}" height="{row_height - 8}" '
            f"{_fill(uid, 0)}/>"
            f'<text x="{_num(label_width + length + 6)}" y="{_num(y + row_height / 2 + 4)}" fill="#1b1f24">'
            f"{escape(text)}</text></g>"
        )
    if not bars:
        parts.append(f'<text x="0" y="20" fill="#5a6270">{escape(_no_figures())}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


@dataclass(frozen=True)
class Split:
    """One stacked bar of two shares of a whole (confirmed and announced-only), and its text."""

    label: str
    first: Decimal
    second: Decimal
    text: str = ""


def split_chart(rows, *, title, desc, legend, width=640, label_width=200, value_width=150, row_height=26):
    """Stacked horizontal bars on a 0-100 % scale: ``first`` (solid) then ``second`` (hatched), with a
    legend naming the two segments (``legend``: their two names) and a 100 % line."""
    legend_height = 24
    height = legend_height + max(len(rows), 1) * row_height + 8
    uid, head = _open(width, height, title, desc)
    area = width - label_width - value_width
    limit = max(label_width // 8, 4)
    parts = [head, _patterns(f"{uid}-p")]
    x = 0
    for index, name in enumerate(legend):
        parts.append(
            f'<rect x="{x}" y="4" width="14" height="14" {_fill(uid, index)} stroke-width="1"/>'
            f'<text x="{x + 20}" y="16" fill="#1b1f24">{escape(name)}</text>'
        )
        x += 28 + 8 * len(str(name))
    for index, row in enumerate(rows):
        y = legend_height + 4 + index * row_height
        first = area * float(min(Decimal(row.first), Decimal(1)))
        second = area * float(max(min(Decimal(row.first) + Decimal(row.second), Decimal(1)) - Decimal(row.first), 0))
        parts.append(
            f"<g><title>{escape(row.label)}: {escape(row.text)}</title>"
            f'<text x="{label_width - 8}" y="{_num(y + row_height / 2 + 4)}" text-anchor="end" fill="#1b1f24">'
            f"{escape(_short(row.label, limit))}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{area}" height="{row_height - 8}" fill="#fff" '
            f'stroke="#c9ced6"/>'
            f'<rect x="{label_width}" y="{y + 3}" width="{_num(first)}" height="{row_height - 8}" '
            f'{_fill(uid, 0)} stroke-width="0"/>'
            f'<rect x="{_num(label_width + first)}" y="{y + 3}" width="{_num(second)}" '
            f'height="{row_height - 8}" {_fill(uid, 1)} stroke-width="0"/>'
            f'<text x="{label_width + area + 6}" y="{_num(y + row_height / 2 + 4)}" fill="#1b1f24">'
            f"{escape(row.text)}</text></g>"
        )
    if not rows:
        parts.append(f'<text x="0" y="{legend_height + 20}" fill="#5a6270">{escape(_no_figures())}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def bar_chart(bars, *, title, desc, width=640, height=260):
    """Vertical bars, one pattern each, the label under and the value over every bar."""
    uid, head = _open(width, height, title, desc)
    top = max((Decimal(b.value) for b in bars), default=Decimal(0)) or Decimal(1)
    base, ceiling = height - 40, 28
    slot = width / max(len(bars), 1)
    bar_width = min(slot * 0.6, 120)
    parts = [head, _patterns(f"{uid}-p"), f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="#1b1f24"/>']
    for index, bar in enumerate(bars):
        x = slot * index + (slot - bar_width) / 2
        bar_height = (base - ceiling) * float(Decimal(bar.value) / top)
        y = base - bar_height
        parts.append(
            f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(bar_width)}" height="{_num(max(bar_height, 1))}" '
            f'{_fill(uid, index)} stroke-width="2"/>'
            f'<text x="{_num(x + bar_width / 2)}" y="{_num(y - 8)}" text-anchor="middle" font-weight="700" '
            f'fill="#1b1f24">{escape(bar.text or money_short(bar.value))}</text>'
            f'<text x="{_num(x + bar_width / 2)}" y="{base + 20}" text-anchor="middle" fill="#1b1f24">'
            f"{escape(bar.label)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _month_ticks(first, last, most=8):
    """First days of months from ``first`` to ``last``, every 1, 2, 3, 6, 12 or 24 months (calendar
    aligned: quarters start in January, April, ...), at most about ``most`` of them."""
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    step = next((s for s in (1, 2, 3, 6, 12, 24) if months / s <= most), 48)
    ticks, index = [], first.year * 12 + first.month - 1
    while (tick := date(index // 12, index % 12 + 1, 1)) <= last:
        if index % step == 0 and tick >= first:
            ticks.append(tick)
        index += 1
    return ticks or [date(first.year, first.month, 1)]


def time_chart(series, *, title, desc, meetings=(), target=None, width=640, height=320):
    """Cumulative figures on a true date axis: ``series`` is a list of ``(name, [(date, value), ...])``
    drawn as step lines (x proportional to time), each with its own dash pattern and marker and its
    name written at its end; ``meetings`` are ``(date, label)`` drawn as labelled vertical lines; an
    optional ``target`` is a labelled dashed line."""
    uid, head = _open(width, height, title, desc)
    left, right, top_margin, bottom = 70, 120, 50, height - 44
    plot_width = width - left - right
    dates = [when for _name, line in series for when, _value in line] + [when for when, _label in meetings]
    values = [Decimal(v) for _name, line in series for _when, v in line]
    top = max([*values, Decimal(target or 0)], default=Decimal(0)) or Decimal(1)
    parts = [head]
    if not dates:
        parts.append(f'<text x="{left}" y="{bottom - 10}" fill="#5a6270">{escape(_no_figures())}</text></svg>')
        return mark_safe("".join(parts))  # noqa: S308 - escaped
    first, last = min(dates), max(dates)
    first = date(first.year, first.month, 1)
    span = max((last - first).days, 1)

    def x_at(when):
        return left + plot_width * (when - first).days / span

    def y_at(value):
        return bottom - (bottom - top_margin) * float(Decimal(value) / top)

    for step in range(5):
        value = top * step / 4
        y = y_at(value)
        parts.append(
            f'<line x1="{left}" y1="{_num(y)}" x2="{left + plot_width}" y2="{_num(y)}" stroke="#c9ced6"/>'
            f'<text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" fill="#5a6270" font-size="11">'
            f"{escape(money_short(value))}</text>"
        )
    for tick in _month_ticks(first, last):
        x = x_at(tick)
        parts.append(
            f'<line x1="{_num(x)}" y1="{bottom}" x2="{_num(x)}" y2="{bottom + 5}" stroke="#1b1f24"/>'
            f'<text x="{_num(x)}" y="{bottom + 18}" text-anchor="middle" fill="#1b1f24" font-size="11">'
            f"{escape(formats.date_format(tick, 'M Y'))}</text>"
        )
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{left + plot_width}" y2="{bottom}" stroke="#1b1f24"/>')
    for index, (when, label) in enumerate(meetings):
        x = x_at(when)
        name = f"{label}, {formats.date_format(when, 'DATE_FORMAT')}"
        parts.append(
            f"<g><title>{escape(name)}</title>"
            f'<line x1="{_num(x)}" y1="{top_margin - 12 + (index % 3) * 12}" x2="{_num(x)}" y2="{bottom}" '
            f'stroke="#5a6270" stroke-width="1" stroke-dasharray="3 3"/>'
            f'<text x="{_num(x + 3)}" y="{top_margin - 14 + (index % 3) * 12}" fill="#5a6270" font-size="10">'
            f"{escape(_short(label, 14))}</text></g>"
        )
    if target:
        y = y_at(target)
        parts.append(
            f'<line x1="{left}" y1="{_num(y)}" x2="{left + plot_width}" y2="{_num(y)}" stroke="#8a1c2b" '
            f'stroke-width="2" stroke-dasharray="2 6"/>'
            f'<text x="{left + plot_width + 6}" y="{_num(y + 4)}" fill="#8a1c2b" font-size="12">'
            f"{escape(_target_label(target))}</text>"
        )
    end_labels = []
    for line_index, (name, line) in enumerate(series):
        colour, dash, marker = LINE_STYLES[line_index % len(LINE_STYLES)]
        if not line:
            continue
        path = [f"M{_num(x_at(line[0][0]))} {_num(y_at(line[0][1]))}"]
        for when, value in line[1:]:
            path.append(f"H{_num(x_at(when))} V{_num(y_at(value))}")
        path.append(f"H{_num(left + plot_width)}")
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="3"{dash_attr}/>')
        for when, value in line:
            parts.append(_marker(marker, x_at(when), y_at(value), colour))
        end_labels.append([y_at(line[-1][1]) + 4, name, colour, line[-1][1]])
    # Direct labels at the lines' ends, pushed apart when the lines end close together.
    end_labels.sort(key=lambda label: label[0])
    for index in range(1, len(end_labels)):
        end_labels[index][0] = max(end_labels[index][0], end_labels[index - 1][0] + 28)
    for y, name, colour, value in end_labels:
        parts.append(
            f'<text x="{left + plot_width + 6}" y="{_num(y)}" fill="{colour}" font-size="12" font-weight="700">'
            f'{escape(name)}<tspan x="{left + plot_width + 6}" dy="13" font-weight="400">'
            f"{escape(money_short(value))}</tspan></text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


# Strings are translated outside f-strings: xgettext (makemessages) does not read f-string fields.
def _target_label(target):
    return _("target %(value)s") % {"value": money_short(target)}


def _no_figures():
    return _("No figures yet.")


def _marker(shape, x, y, colour):
    if shape == "square":
        return f'<rect x="{_num(x - 4)}" y="{_num(y - 4)}" width="8" height="8" fill="{colour}"/>'
    if shape == "triangle":
        points = f"M{_num(x)} {_num(y - 5)}L{_num(x + 5)} {_num(y + 4)}L{_num(x - 5)} {_num(y + 4)}Z"
        return f'<path d="{points}" fill="{colour}"/>'
    return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="4" fill="{colour}"/>'
