"""Ukrainian dates, one format everywhere: 31 травня 2024 (and 31 травня 2024, 14:30).

Django's own Ukrainian formats mix three (31 травня 2024 р., 31.05.2024, 31.05.2024 14:30); the
portal writes the month's name in the genitive everywhere, as the English pages write theirs.
Numbers keep Django's Ukrainian separators (a no-break space for thousands, a decimal comma).
"""

from django.conf.locale.uk.formats import DATE_INPUT_FORMATS as _DJANGO_DATE_INPUT_FORMATS
from django.conf.locale.uk.formats import DATETIME_INPUT_FORMATS as _DJANGO_DATETIME_INPUT_FORMATS

DATE_FORMAT = "j E Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "j E Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j E"
FIRST_DAY_OF_WEEK = 1

# ISO first (the date picker's value), then the dotted day-first forms Ukrainian readers write.
DATE_INPUT_FORMATS = ["%Y-%m-%d", *(f for f in _DJANGO_DATE_INPUT_FORMATS if f != "%Y-%m-%d")]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", *_DJANGO_DATETIME_INPUT_FORMATS]
