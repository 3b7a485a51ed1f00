"""The weekly digest's beat entry: due Monday 08:00 in Kyiv (whatever Celery's own time zone), not on
Sunday, and configurable by settings."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from config.celery_app import app
from reports.schedules import ZonedCrontab

KYIV = ZoneInfo("Europe/Kyiv")
UTC = ZoneInfo("UTC")


def at(schedule, now):
    """The schedule with a fixed clock."""
    schedule.nowfun = lambda: now
    schedule.app = app
    return schedule


def digest_entry():
    return settings.CELERY_BEAT_SCHEDULE["reports-weekly-digest"]


def test_beat_runs_the_digest_fan_out_task():
    entry = digest_entry()
    assert entry["task"] == "reports.tasks.send_digests"
    assert entry["task"] in app.tasks
    assert app.conf.beat_schedule["reports-weekly-digest"]["schedule"] == entry["schedule"]


def test_the_default_is_monday_0800_in_kyiv():
    schedule = digest_entry()["schedule"]
    assert (schedule.zone, schedule.day_of_week, schedule.hour, schedule.minute) == ("Europe/Kyiv", {1}, {8}, {0})


def test_due_on_monday_at_eight_in_kyiv_after_last_weeks_run():
    last_run = datetime(2024, 6, 3, 8, 0, tzinfo=KYIV)
    schedule = at(ZonedCrontab(day_of_week="mon", hour=8, minute=0, zone="Europe/Kyiv"), last_run + timedelta(days=7))

    due, next_in = schedule.is_due(last_run)

    assert due is True
    assert next_in == timedelta(days=7).total_seconds()


def test_not_due_on_sunday_and_the_next_run_is_monday_morning():
    last_run = datetime(2024, 6, 3, 8, 0, tzinfo=KYIV)
    sunday_noon = datetime(2024, 6, 9, 12, 0, tzinfo=KYIV)
    schedule = at(ZonedCrontab(day_of_week="mon", hour=8, minute=0, zone="Europe/Kyiv"), sunday_noon)

    due, next_in = schedule.is_due(last_run)

    assert due is False
    assert next_in == timedelta(hours=20).total_seconds()
    assert schedule.remaining_estimate(last_run) == timedelta(hours=20)


@pytest.mark.parametrize(
    ("now_utc", "due"),
    [
        (datetime(2024, 6, 10, 5, 0, tzinfo=UTC), True),  # 08:00 summer time in Kyiv (UTC+3)
        (datetime(2024, 6, 10, 4, 59, tzinfo=UTC), False),
        (datetime(2024, 12, 9, 6, 0, tzinfo=UTC), True),  # 08:00 winter time in Kyiv (UTC+2)
        (datetime(2024, 12, 9, 5, 30, tzinfo=UTC), False),
    ],
)
def test_the_hour_is_kyivs_wall_clock_across_daylight_saving(now_utc, due):
    last_run = now_utc - timedelta(days=6, hours=12)
    schedule = at(ZonedCrontab(day_of_week="mon", hour=8, minute=0, zone="Europe/Kyiv"), now_utc)
    assert schedule.is_due(last_run).is_due is due


def test_day_hour_and_zone_come_from_settings(monkeypatch):
    monkeypatch.setenv("REPORTS_DIGEST_DAY_OF_WEEK", "fri")
    monkeypatch.setenv("REPORTS_DIGEST_HOUR", "17")
    monkeypatch.setenv("REPORTS_DIGEST_MINUTE", "30")
    monkeypatch.setenv("REPORTS_DIGEST_TIME_ZONE", "Europe/Brussels")
    import importlib

    import config.settings as settings_module

    try:
        fresh = importlib.reload(settings_module)
        schedule = fresh.CELERY_BEAT_SCHEDULE["reports-weekly-digest"]["schedule"]
    finally:
        monkeypatch.undo()
        importlib.reload(settings_module)
    assert (schedule.zone, schedule.day_of_week, schedule.hour, schedule.minute) == ("Europe/Brussels", {5}, {17}, {30})
    friday = datetime(2024, 6, 7, 17, 30, tzinfo=ZoneInfo("Europe/Brussels"))
    assert at(schedule, friday).is_due(friday - timedelta(days=7)).is_due


def test_the_schedule_survives_beats_pickled_schedule_file():
    import pickle

    stored = pickle.dumps(ZonedCrontab(day_of_week="mon", hour=8, minute=0, zone="Europe/Kyiv"))
    schedule = pickle.loads(stored)  # noqa: S301 - our own bytes, as in beat's schedule file
    assert schedule.zone == "Europe/Kyiv"
    assert schedule == ZonedCrontab(day_of_week="mon", hour=8, minute=0, zone="Europe/Kyiv")
    assert schedule != ZonedCrontab(day_of_week="mon", hour=8, minute=0, zone="UTC")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"day_of_week": "mon", "hour": 8, "minute": 0}, "<ZonedCrontab: 0 8 mon (m/h/dow) Europe/Kyiv>"),
        (
            {"day_of_week": "mon-fri", "hour": "8,17", "minute": "*/15"},
            "<ZonedCrontab: */15 8,17 mon-fri (m/h/dow) Europe/Kyiv>",
        ),
    ],
)
def test_the_repr_shows_the_fields_as_written_and_the_zone(fields, expected):
    assert repr(ZonedCrontab(zone="Europe/Kyiv", **fields)) == expected
