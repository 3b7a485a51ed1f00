"""iCalendar export: the files parse with an independent parser and say the right things."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import ics, services

pytestmark = pytest.mark.django_db

STARTS = datetime(2024, 5, 31, 7, 0, tzinfo=UTC)


def make_meeting(coalition, **extra):
    defaults = {"title": "Steering group, Tallinn", "starts_at": STARTS, "location": "Tallinn; Estonia"}
    defaults.update(extra)
    return services.meeting_create(acting_user=None, coalition=coalition, **defaults)


def parse(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def test_one_meeting_parses_with_its_fields(client, steering, coalition):
    meeting = make_meeting(coalition, ends_at=datetime(2024, 5, 31, 10, 30, tzinfo=UTC))
    calendar = parse(client_for(client, steering).get(reverse("meetings:ics", args=[meeting.pk])))
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    (event,) = calendar.walk("VEVENT")
    assert event["UID"] == f"meeting-{meeting.pk}@127.0.0.1"
    assert event["SUMMARY"] == "Steering group, Tallinn"
    assert event["LOCATION"] == "Tallinn; Estonia"
    assert event.decoded("DTSTART") == STARTS
    assert event.decoded("DTEND") == datetime(2024, 5, 31, 10, 30, tzinfo=UTC)
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert f"/meetings/{meeting.pk}/" in str(event["URL"])


def test_times_are_written_in_utc(client, steering, coalition):
    meeting = make_meeting(coalition, starts_at=timezone.make_aware(datetime(2024, 5, 31, 10, 0)))  # Kyiv, UTC+3
    body = client_for(client, steering).get(reverse("meetings:ics", args=[meeting.pk])).content.decode()
    assert "DTSTART:20240531T070000Z\r\n" in body
    assert "DTEND:20240531T090000Z\r\n" in body  # no end recorded: the default length


def test_cancelled_meeting_is_status_cancelled(client, steering, coalition):
    meeting = make_meeting(coalition, starts_at=timezone.now() + timedelta(days=5))
    services.meeting_cancel(acting_user=None, meeting=meeting)
    calendar = parse(client_for(client, steering).get(reverse("meetings:ics", args=[meeting.pk])))
    (event,) = calendar.walk("VEVENT")
    assert event["STATUS"] == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1  # changed once since created: calendars replace their copy


def test_coalition_calendar_has_every_meeting_of_that_coalition_only(client, steering, coalition, other_coalition):
    first = make_meeting(coalition, title="One")
    second = make_meeting(coalition, title="Two", starts_at=datetime(2024, 6, 1, 7, tzinfo=UTC))
    make_meeting(other_coalition, title="Not ours")
    client_for(client, steering)
    for url in (
        reverse("coalition_calendar", args=[coalition.slug]),
        reverse("meetings:calendar") + f"?coalition={coalition.slug}",
        reverse("meetings:calendar"),  # the user's only coalition
    ):
        calendar = parse(client.get(url))
        assert calendar["X-WR-CALNAME"] == "Test Coalition"
        uids = {str(e["UID"]) for e in calendar.walk("VEVENT")}
        assert uids == {f"meeting-{first.pk}@127.0.0.1", f"meeting-{second.pk}@127.0.0.1"}


def test_lines_end_in_crlf_and_fold_at_75_octets_without_splitting_characters(coalition):
    title = "Засідання керівної групи ІТ-коаліції з питань закупівель, пріоритетів і наступних кроків"
    meeting = make_meeting(coalition, title=title, location="Line one\nLine two, with a comma")
    body = ics.calendar([meeting], name="Коаліція")
    text = body.decode("utf-8")  # a split multi-byte character would not decode
    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines)  # the long summary was folded
    (event,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert event["SUMMARY"] == title
    assert event["LOCATION"] == "Line one\nLine two, with a comma"
    assert "LOCATION:Line one\\nLine two\\, with a comma" in text.replace("\r\n ", "")


def test_escape_text():
    assert ics.escape_text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"


def client_for(client, user):
    client.force_login(user)
    return client
