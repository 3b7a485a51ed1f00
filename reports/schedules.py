"""Beat schedules read in a time zone of their own (the digest's), not the Celery app's.

Imported by settings, so this module imports nothing from Django's apps.
"""

from zoneinfo import ZoneInfo

from celery.schedules import crontab


class ZonedCrontab(crontab):
    """A crontab whose fields are wall-clock times in ``zone``: Monday 08:00 Europe/Kyiv stays 08:00
    in Kyiv across daylight saving time, whatever CELERY_TIMEZONE says."""

    def __init__(self, *args, zone="UTC", **kwargs):
        self.zone = str(ZoneInfo(zone))  # an unknown zone fails here, when settings load
        super().__init__(*args, **kwargs)

    @property
    def tz(self):
        return ZoneInfo(self.zone)

    def __reduce__(self):
        # Beat pickles its schedule into the schedule file: keep the zone across the round trip.
        cls, args, kwargs = super().__reduce__()
        return cls, args, {**kwargs, "zone": self.zone}

    def __setstate__(self, state):
        state = dict(state)
        self.zone = state.pop("zone", "UTC")
        super().__setstate__(state)

    def __eq__(self, other):
        if isinstance(other, ZonedCrontab):
            return self.zone == other.zone and super().__eq__(other)
        return NotImplemented

    def __hash__(self):
        return hash((self.zone, str(self)))

    def __repr__(self):
        # The fields as written, not as expanded sets: crontab's pickle arguments are its constructor's,
        # (minute, hour, day_of_week, day_of_month, month_of_year).
        minute, hour, day_of_week = super().__reduce__()[1][:3]
        return f"<ZonedCrontab: {minute} {hour} {day_of_week} (m/h/dow) {self.zone}>"
