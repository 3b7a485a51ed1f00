"""Pledge spreadsheets: reading a CSV or XLSX upload into numbered rows of text cells, checking its
header, and reading each cell as the value it stands for (numbers, dates, choices), reporting every
cell it cannot read with its row and column. No database access: the import service decides the rest.
"""

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from contributions.models import Pledge

S = Pledge.Status
REQUIRED_COLUMNS = ("member", "title", "amount", "currency", "announced_on")
OPTIONAL_COLUMNS = (
    "status",
    "confirmed_on",
    "kind",
    "channel",
    "external_ref",
    "description",
    "source",
    "exchange_rate",
    "exchange_rate_source",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_BYTES = 20 * 1024 * 1024
#: The header is line 1 of a spreadsheet, so the first pledge is on line 2.
FIRST_ROW = 2


# --- Reading the file ----------------------------------------------------------------------------


def _cell_text(value):
    """A spreadsheet cell as the text a CSV would hold: dates as ISO, numbers without float noise."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # repr() is the shortest text that reads back as the same float: 1250000.1 stays 1250000.1.
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value).strip()


def _read_xlsx(data):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
        raise ValidationError({"file": _("This is not a readable XLSX file (%(error)s).") % {"error": exc}}) from exc
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _read_csv(data):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            {"file": _("The CSV file is not UTF-8: save it as “CSV UTF-8” and upload it again.")}
        ) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def read_table(upload):
    """``(header, rows)`` of an uploaded CSV or XLSX file, rows numbered as the spreadsheet shows them."""
    data = upload.read()
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": _("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // (1024 * 1024)}})
    name = (getattr(upload, "name", "") or "").lower()
    table = _read_xlsx(data) if data[:4] == b"PK\x03\x04" or name.endswith(".xlsx") else _read_csv(data)
    if not table or not any(table[0]):
        raise ValidationError({"file": _("The file is empty: its first line must name the columns.")})
    header = [re.sub(r"\s+", "_", cell.strip().lower()) for cell in table[0]]
    rows = []
    for number, cells in enumerate(table[1:], start=FIRST_ROW):
        if not any(cells):
            continue
        values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header) if name}
        rows.append({"row": number, "cells": values})
    return header, rows


def header_errors(header):
    errors = []
    seen = set()
    for index, name in enumerate(header, start=1):
        if not name:
            continue
        if name in seen:
            errors.append(problem(1, name, _("The column %(column)s appears twice.") % {"column": name}))
        seen.add(name)
        if name not in COLUMNS:
            errors.append(
                problem(
                    1,
                    name,
                    _("Unknown column %(column)s (column %(index)s). The columns are: %(columns)s.")
                    % {"column": name, "index": index, "columns": ", ".join(COLUMNS)},
                )
            )
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            errors.append(problem(1, name, _("The required column %(column)s is missing.") % {"column": name}))
    return errors


def problem(row, column, message):
    """One problem of an upload as the preview lists it."""
    return {"row": row, "column": column, "message": str(message)}


# --- Parsing cells -------------------------------------------------------------------------------


def _parse_decimal(text):
    """``1250000.50``, ``1,250,000.50``, ``1 250 000,50`` or ``1.250.000,50``; None when unreadable."""
    value = re.sub(r"[\s\u00a0\u202f_']", "", text)
    if "," in value and "." in value:
        if value.rfind(",") > value.rfind("."):
            value = value.replace(".", "").replace(",", ".")
        else:
            value = value.replace(",", "")
    elif "," in value:
        if re.fullmatch(r"-?\d+,\d{1,2}", value):
            value = value.replace(",", ".")
        elif re.fullmatch(r"-?\d{1,3}(,\d{3})+", value):
            value = value.replace(",", "")
        else:
            return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _parse_date(text):
    """ISO ``2024-02-02`` (an XLSX date cell arrives so) or ``02.02.2024``; None when unreadable."""
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _choice_key(text):
    return re.sub(r"[\s-]+", "_", str(text).strip().lower())


def choice_table(choices):
    """``{value or label, normalised: value}`` for a model's choices, in the active language too."""
    table = {}
    for value, label in choices:
        table[_choice_key(value)] = value
        table[_choice_key(label)] = value
    return table


#: Cells whose text names one of a model field's choices (by value or label).
CHOICE_COLUMNS = {"status": S.choices, "kind": Pledge.Kind.choices, "channel": Pledge.Channel.choices}


def parse_row(cells, errors, row, choice_tables):
    """The row's cells as typed values (only the columns present), reporting each unreadable cell."""
    values = {}

    def bad(column, message):
        errors.append(problem(row, column, message))

    for column in ("member", "title", "currency", "external_ref", "description", "source", "exchange_rate_source"):
        if column in cells:
            values[column] = cells[column].strip()
    if "member" in values:
        values["member"] = values["member"].upper()
    if "currency" in values:
        values["currency"] = values["currency"].upper()
    for column in REQUIRED_COLUMNS:
        if not cells.get(column, "").strip():
            bad(column, _("This cell is required."))
    for column in ("amount", "exchange_rate"):
        text = cells.get(column, "").strip()
        if text:
            number = _parse_decimal(text)
            if number is None:
                bad(column, _("“%(value)s” is not a number (write 1250000.00).") % {"value": text})
            else:
                values[column] = number
    for column in ("announced_on", "confirmed_on"):
        text = cells.get(column, "").strip()
        if text:
            parsed = _parse_date(text)
            if parsed is None:
                bad(column, _("“%(value)s” is not a date (write YYYY-MM-DD).") % {"value": text})
            else:
                values[column] = parsed
    for column, choices in CHOICE_COLUMNS.items():
        text = cells.get(column, "").strip()
        if text:
            parsed = choice_tables[column].get(_choice_key(text))
            if parsed is None:
                bad(
                    column,
                    _("“%(value)s” is not one of: %(choices)s.")
                    % {"value": text, "choices": ", ".join(value for value, _label in choices)},
                )
            else:
                values[column] = parsed
    return values
