"""Charts as SVG drawn on the server: no JavaScript, no CDN, and they print like the page.

Each chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>``, prints its numbers as text
next to the marks, and tells series apart by pattern, dash and marker shape as well as by colour.
The figures come in as Decimal and are only turned into coordinates here; the page shows the exact
figures in the table beside each chart.
"""

from dataclasses import dataclass
from decimal import Decimal
from itertools import count

from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

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


def _num(value):
    return f"{float(value):.1f}"


def money_short(value):
    """EUR amounts as the charts print them: 12.3 M, 850 k, 1,234 (localised separators)."""
    value = Decimal(value)
    magnitude = abs(value)
    if magnitude >= Decimal("1000000000"):
        return _("%(value)s bn") % {"value": formats.number_format(value / Decimal("1e9"), 1, use_l10n=True)}
    if magnitude >= Decimal("1000000"):
        return _("%(value)s M") % {"value": formats.number_format(value / Decimal("1e6"), 1, use_l10n=True)}
    if magnitude >= Decimal("10000"):
        return _("%(value)s k") % {"value": formats.number_format(value / Decimal("1e3"), 0, use_l10n=True)}
    return formats.number_format(value, 0, use_l10n=True, force_grouping=True)


def percent(fraction, places=1):
    """A Decimal fraction as a localised percentage: 0.4567 -> 45.7 %."""
    return _("%(value)s %%") % {"value": formats.number_format(Decimal(fraction) * 100, places, use_l10n=True)}


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
    """Horizontal bars, in the order given (rank them before), each labelled and with its value."""
    height = max(len(bars), 1) * row_height + 8
    uid, head = _open(width, height, title, desc)
    top = max((Decimal(b.value) for b in bars), default=Decimal(0)) or Decimal(1)
    area = width - label_width - value_width
    parts = [head, _patterns(f"{uid}-p")]
    for index, bar in enumerate(bars):
        y = 4 + index * row_height
        length = area * float(Decimal(bar.value) / top)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + row_height / 2 + 4}" text-anchor="end" fill="#1b1f24">'
            f"{escape(bar.label)}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{_num(max(length, 1))}" height="{row_height - 8}" '
            f"{_fill(uid, 0)}/>"
            f'<text x="{_num(label_width + length + 6)}" y="{y + row_height / 2 + 4}" fill="#1b1f24">'
            f"{escape(bar.text or money_short(bar.value))}</text>"
        )
    if not bars:
        parts.append(f'<text x="0" y="20" fill="#5a6270">{escape(_no_figures())}</text>')
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


def step_chart(points, series, *, title, desc, target=None, width=640, height=300):
    """Cumulative figures as step lines: ``points`` are the x labels (months), ``series`` a list of
    ``(name, values)`` with one value per point. Each line has its own dash and marker, and its name
    is written at its end; an optional ``target`` is a labelled dashed line."""
    uid, head = _open(width, height, title, desc)
    left, right, top_margin, bottom = 70, 120, 16, height - 44
    plot_width = width - left - right
    values = [Decimal(v) for _name, line in series for v in line]
    top = max([*values, Decimal(target or 0)], default=Decimal(0)) or Decimal(1)
    parts = [head]

    def x_at(index):
        return left + (plot_width * index / max(len(points) - 1, 1) if len(points) > 1 else plot_width / 2)

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
    label_every = max(1, len(points) // 8 + (1 if len(points) % 8 else 0))
    for index, point in enumerate(points):
        if index % label_every == 0 or index == len(points) - 1:
            parts.append(
                f'<text x="{_num(x_at(index))}" y="{bottom + 18}" text-anchor="middle" fill="#1b1f24" '
                f'font-size="11">{escape(point)}</text>'
            )
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{left + plot_width}" y2="{bottom}" stroke="#1b1f24"/>')
    if target:
        y = y_at(target)
        parts.append(
            f'<line x1="{left}" y1="{_num(y)}" x2="{left + plot_width}" y2="{_num(y)}" stroke="#8a1c2b" '
            f'stroke-width="2" stroke-dasharray="2 6"/>'
            f'<text x="{left + plot_width + 6}" y="{_num(y + 4)}" fill="#8a1c2b" font-size="12">'
            f"{escape(_target_label(target))}</text>"
        )
    for line_index, (name, line) in enumerate(series):
        colour, dash, marker = LINE_STYLES[line_index % len(LINE_STYLES)]
        if not line:
            continue
        path = [f"M{_num(x_at(0))} {_num(y_at(line[0]))}"]
        for index in range(1, len(line)):
            path.append(f"H{_num(x_at(index))} V{_num(y_at(line[index]))}")
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="3"{dash_attr}/>')
        for index, value in enumerate(line):
            parts.append(_marker(marker, x_at(index), y_at(value), colour))
        end_y = y_at(line[-1]) + 4 + (14 if line_index % 2 else 0)
        parts.append(
            f'<text x="{left + plot_width + 6}" y="{_num(end_y)}" fill="{colour}" font-size="12" font-weight="700">'
            f"{escape(name)}</text>"
        )
    if not points:
        parts.append(f'<text x="{left}" y="{bottom - 10}" fill="#5a6270">{escape(_no_figures())}</text>')
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
