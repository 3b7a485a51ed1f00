"""iCalendar (RFC 5545) export of meetings: one meeting, or a coalition's calendar.

Written by hand rather than with a library: the portal needs one component type (VEVENT) and the
rules that matter are few: CRLF line ends, content lines folded at 75 octets (never inside a UTF-8
sequence), TEXT values escaped, times in UTC. The tests read the output back with the
``icalendar`` package, an independent parser.
"""

from datetime import UTC, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from meetings.models import Meeting

PRODID = "-//Coalition Contributions Portal//Meetings//EN"
#: A meeting with no recorded end is shown in calendars as lasting this long.
DEFAULT_DURATION = timedelta(hours=2)
STATUS = {
    Meeting.Status.PLANNED: "CONFIRMED",
    Meeting.Status.HELD: "CONFIRMED",
    Meeting.Status.CANCELLED: "CANCELLED",
}


def escape_text(value):
    """Escape a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines."""
    value = str(value).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line):
    """Fold a content line into chunks of at most 75 octets, continuation lines starting with a space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts, current, size, limit = [], [], 0, 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, 74  # the leading space of a continuation counts
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def format_utc(value):
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _uid_domain():
    return urlsplit(settings.SITE_URL).hostname or "coalition.invalid"


def _event_lines(meeting, stamp):
    url = settings.SITE_URL + reverse("meetings:detail", args=[meeting.pk])
    location = meeting.location or (_("Online") if meeting.online else "")
    description = f"{meeting.get_kind_display()} — {meeting.coalition.name}\n{url}"
    ends_at = meeting.ends_at or meeting.starts_at + DEFAULT_DURATION
    lines = [
        "BEGIN:VEVENT",
        f"UID:meeting-{meeting.pk}@{_uid_domain()}",
        f"DTSTAMP:{format_utc(stamp)}",
        f"DTSTART:{format_utc(meeting.starts_at)}",
        f"DTEND:{format_utc(ends_at)}",
        f"SUMMARY:{escape_text(meeting.title)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"STATUS:{STATUS[meeting.status]}",
        f"SEQUENCE:{meeting.version - 1}",
        f"LAST-MODIFIED:{format_utc(meeting.updated_at)}",
        f"URL:{url}",
    ]
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    lines.append("END:VEVENT")
    return lines


def calendar(meetings, *, name=None, now=None):
    """A VCALENDAR with one VEVENT per meeting, as the bytes of a ``text/calendar`` file."""
    stamp = now or timezone.now()
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    if name:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    for meeting in meetings:
        lines.extend(_event_lines(meeting, stamp))
    lines.append("END:VCALENDAR")
    return ("".join(fold(line) + "\r\n" for line in lines)).encode("utf-8")
