"""Two beats, one leader: the lock in Redis lets one queue the schedule while the other stands by,
and the standby takes over when the leader's lock lapses."""

import os
import time

import pytest
from django.conf import settings

from config import beat
from config.celery_app import app

pytestmark = pytest.mark.redis


@pytest.fixture
def beats(tmp_path, monkeypatch):
    import redis

    monkeypatch.setattr(settings, "REDIS_URL", os.environ["REDIS_URL"])
    monkeypatch.setattr(settings, "BEAT_LOCK_TIMEOUT", 2)
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.delete(beat.LOCK_NAME)
    made = []

    def make(name):
        scheduler = beat.LeaderScheduler(app=app, schedule_filename=str(tmp_path / f"{name}.db"), lazy=True)
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        scheduler.close()
    client.delete(beat.LOCK_NAME)


def test_one_beat_leads_and_the_other_stands_by(beats):
    first, second = beats("first"), beats("second")

    assert first.leads() is True
    assert second.leads() is False
    assert first.leads() is True, "the leader renews its own lock"
    assert second.tick() == min(second.max_interval, settings.BEAT_LOCK_TIMEOUT / 4)


def test_the_standby_takes_over_when_the_leaders_lock_lapses(beats):
    first, second = beats("first"), beats("second")
    assert first.leads() and not second.leads()

    time.sleep(settings.BEAT_LOCK_TIMEOUT + 0.5)  # the leader died: nobody renewed its lock

    assert second.leads() is True
    assert first.leads() is False
