"""Pledge spreadsheets: reading a CSV or XLSX upload into numbered rows of text cells, checking its
header, and reading each cell as the value it stands for (numbers, dates, choices), reporting every
cell it cannot read with its row and column. No database access: the import service decides the rest.
"""

import csv
import io
import re
import zipfile
import zlib
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from contributions import rules
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
#: Limits checked before anything is built from an upload, so a small file cannot claim a worker's
#: memory or time: the file as uploaded, what an XLSX unpacks to, and the rows and columns of a sheet.
MAX_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024
MAX_ROWS = 20000
MAX_COLUMNS = 50
#: The header is line 1 of a spreadsheet, so the first pledge is on line 2.
FIRST_ROW = 2
LAST_ROW = MAX_ROWS + FIRST_ROW - 1
#: A CSV line with more separators than this is no pledge row (quoted text included).
MAX_CSV_SEPARATORS = 5000
_READ_CHUNK = 64 * 1024


# --- Reading the file ----------------------------------------------------------------------------


def file_error(message):
    return ValidationError({"file": message})


def _too_many_rows():
    return file_error(
        _("The file has more than %(max)s rows; import at most %(max)s at a time.") % {"max": f"{MAX_ROWS:,}"}
    )


def _too_many_columns(row):
    return file_error(
        _("Row %(row)s has more than %(max)s columns: a pledge file has at most %(max)s.")
        % {"row": row, "max": MAX_COLUMNS}
    )


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
    return str(value).replace("\x00", "").strip()


_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})$")


def _cell_position(reference):
    """``(row, column)`` of a reference such as ``XFD1048576``; ``(None, None)`` when it is not one."""
    match = _CELL_REF.match(reference)
    if not match:
        return None, None
    column = 0
    for letter in match.group(1):
        column = column * 26 + ord(letter) - 64
    return int(match.group(2)), column


class _SheetScan:
    """A streaming pass over a sheet's XML (expat, a chunk at a time, nothing kept) that stops at the
    first row past MAX_ROWS or cell past MAX_COLUMNS, whatever the sheet's ``<dimension>`` claims,
    and refuses a DOCTYPE (the entity tricks of XML bombs): only then does openpyxl read the sheet."""

    def __init__(self):
        self.row = 0
        self.cells_in_row = 0

    def start(self, name, attrs):
        tag = name.rpartition("}")[2]
        if tag == "row":
            number = attrs.get("r")
            self.row = int(number) if number and number.isdigit() else self.row + 1
            self.cells_in_row = 0
            if self.row > LAST_ROW:
                raise _too_many_rows()
        elif tag == "c":
            self.cells_in_row += 1
            row, column = _cell_position(attrs.get("r", ""))
            if (row or 0) > LAST_ROW:
                raise _too_many_rows()
            if (column or 0) > MAX_COLUMNS or self.cells_in_row > MAX_COLUMNS:
                raise _too_many_columns(self.row or 1)
        elif tag == "dimension":
            row, column = _cell_position(attrs.get("ref", "").rpartition(":")[2])
            if (row or 0) > LAST_ROW:
                raise file_error(
                    _("The sheet says it spans %(rows)s rows; import at most %(max)s at a time.")
                    % {"rows": f"{row:,}", "max": f"{MAX_ROWS:,}"}
                )
            if (column or 0) > MAX_COLUMNS:
                raise file_error(
                    _("The sheet says it spans %(columns)s columns; a pledge file has at most %(max)s.")
                    % {"columns": f"{column:,}", "max": MAX_COLUMNS}
                )

    def run(self, stream):
        from xml.parsers import expat

        parser = expat.ParserCreate(namespace_separator="}")
        parser.StartElementHandler = self.start
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._doctype
        try:
            while chunk := stream.read(_READ_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise file_error(
                _("The workbook's sheet is not well-formed XML (%(error)s): save it again from a spreadsheet program.")
                % {"error": exc}
            ) from exc

    def _doctype(self, *args):
        raise file_error(_("The workbook's sheet declares a DOCTYPE, which a spreadsheet never does."))


def _not_a_workbook(detail=""):
    message = _("This is not a readable XLSX workbook: save it as .xlsx (Excel workbook) or as CSV UTF-8.")
    return file_error(f"{message} ({detail})" if detail else message)


def _check_archive(data):
    """The zip's members, by what they declare, before any is unpacked: a workbook, not too big."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise _not_a_workbook(str(exc)) from exc
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names and "[Content_Types].xml" not in names:
        raise _not_a_workbook(_("a zip file without a workbook inside"))
    total = sum(member.file_size for member in members)
    if total > MAX_UNCOMPRESSED_BYTES or len(members) > 1000:
        raise file_error(
            _("The workbook unpacks to %(size)s MB; at most %(max)s MB is read. Split it, or save it as CSV.")
            % {"size": f"{total / (1024 * 1024):,.0f}", "max": MAX_UNCOMPRESSED_BYTES // (1024 * 1024)}
        )
    return archive


def _read_xlsx(data):
    from openpyxl import load_workbook

    archive = _check_archive(data)
    try:
        for member in archive.infolist():
            if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                with archive.open(member) as stream:
                    _SheetScan().run(stream)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise _not_a_workbook(str(exc)) from exc
    finally:
        archive.close()
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
        raise _not_a_workbook(str(exc)) from exc
    try:
        if not workbook.worksheets:
            raise _not_a_workbook(_("it has no sheet"))
        rows = workbook.worksheets[0].iter_rows(max_col=MAX_COLUMNS, max_row=LAST_ROW, values_only=True)
        return [_without_trailing_blanks([_cell_text(value) for value in row]) for row in rows]
    except ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged sheet fails in as many ways as a damaged file
        raise _not_a_workbook(str(exc)) from exc
    finally:
        workbook.close()


def _without_trailing_blanks(cells):
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _read_csv(data):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise file_error(_("The CSV file is not UTF-8: save it as “CSV UTF-8” and upload it again.")) from exc
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise file_error(
            _("Line %(line)s holds a NUL character, which no text has: is this a CSV file? Save it as “CSV UTF-8”.")
            % {"line": line}
        )
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    for number, line in enumerate(text.splitlines(), start=1):
        if line.count(delimiter) > MAX_CSV_SEPARATORS:
            raise _too_many_columns(number)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    table = []
    try:
        for cells in reader:
            if len(table) > MAX_ROWS:
                raise _too_many_rows()
            if len(cells) > MAX_COLUMNS and any(cell.strip() for cell in cells[MAX_COLUMNS:]):
                raise _too_many_columns(reader.line_num)
            table.append([cell.strip() for cell in cells[:MAX_COLUMNS]])
    except csv.Error as exc:
        raise file_error(
            _("Line %(line)s cannot be read as CSV (%(error)s).") % {"line": reader.line_num, "error": exc}
        ) from exc
    return table


def read_table(upload):
    """``(header, rows)`` of an uploaded CSV or XLSX file, rows numbered as the spreadsheet shows them.

    Every limit (size, unpacked size, rows, columns) is checked before the rows are built, and every
    way a file can be unreadable is a ValidationError on ``file`` naming what is wrong."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise file_error(_("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // (1024 * 1024)})
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise file_error(_("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // (1024 * 1024)})
    name = (getattr(upload, "name", "") or "").lower()
    table = _read_xlsx(data) if data[:4] == b"PK\x03\x04" or name.endswith(".xlsx") else _read_csv(data)
    if not table or not any(table[0]):
        raise file_error(_("The file is empty: its first line must name the columns."))
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
                continue
            # The value's own rules here, so a row reports them beside its other problems.
            refused = rules.amount_problem(number) if column == "amount" else rules.rate_problem(number)
            if refused:
                bad(column, refused)
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
    refused = rules.dates_problem(values.get("announced_on"), values.get("confirmed_on"))
    if refused:
        bad("confirmed_on", refused)
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
