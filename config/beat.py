"""Celery beat that leads only while it holds a lock in Redis, so two beats (a rollout's overlap, a
standby for failover, a mistake) never both queue the weekly digest.

Celery's own ``PersistentScheduler`` (its schedule file and the portal's ZonedCrontab unchanged) with
a leader lock from redis-py: the leader renews it at every tick (beat wakes at least every
CELERY_BEAT_MAX_INTERVAL seconds, the lock lives BEAT_LOCK_TIMEOUT); a standby finds it taken, sends
nothing and asks again. If the leader dies its lock lapses and the standby takes over. A Redis that
cannot be reached leaves everyone standing by: nothing could be queued anyway.
"""

import logging
import socket

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)
LOCK_NAME = "coalition-portal:beat-leader"


class LeaderScheduler(PersistentScheduler):
    """``celery beat --scheduler config.beat.LeaderScheduler`` (the settings make it the default)."""

    def __init__(self, *args, **kwargs):
        self._client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
        self._lock = self._client.lock(LOCK_NAME, timeout=settings.BEAT_LOCK_TIMEOUT, blocking=False)
        self._leading = False
        super().__init__(*args, **kwargs)

    def leads(self):
        """Whether this beat holds the lock now (taking it if it is free, renewing it if it is ours)."""
        try:
            if self._lock.owned():
                self._lock.extend(settings.BEAT_LOCK_TIMEOUT, replace_ttl=True)
                leading = True
            else:
                leading = self._lock.acquire(blocking=False)
        except redis.RedisError as exc:
            logger.warning("beat: the leader lock cannot be read (%r); standing by.", exc)
            leading = False
        if leading != self._leading:
            logger.info("beat: %s %s", "leading on" if leading else "standing by on", socket.gethostname())
            self._leading = leading
        return leading

    def tick(self, *args, **kwargs):
        if not self.leads():
            return min(self.max_interval, settings.BEAT_LOCK_TIMEOUT / 4)
        return super().tick(*args, **kwargs)

    def close(self):
        try:
            if self._lock.owned():
                self._lock.release()
        except redis.RedisError:
            pass
        super().close()
