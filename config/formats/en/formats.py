"""English dates as Europe reads them, one format everywhere: 31 May 2024 (and 31 May 2024, 14:30).

Django's English formats are American (05/31/2024, "May 31, 2024", "2:30 p.m."): to a European
reader 10/01/2024 is the 10th of January. Forms take ISO dates (the browser's date picker sends
them) or the same written form; never a slashed date whose order must be guessed.
"""

DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
FIRST_DAY_OF_WEEK = 1  # Monday

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d %B %Y", "%d %b %Y"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d %B %Y, %H:%M",
    "%d %B %Y %H:%M",
]
