"""CSV and XLSX downloads of a list page: the same header and rows, two formats.

Rows are plain value tuples (a queryset's ``values_list``), never model instances, so an export of
any size runs at the database's pace in flat memory. CSV streams as it is read; XLSX is written by
openpyxl's write-only mode into a temporary file (the format is a zip whose directory comes last, so
its first byte can only follow its last row) and that file is streamed.
"""

import csv
import tempfile
from dataclasses import dataclass
from datetime import datetime

from django.http import FileResponse, StreamingHttpResponse

#: Spreadsheet programs run a cell starting with these as a formula; exported text must not.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class Column:
    """One exported column: its header, its type in a spreadsheet and its width (in characters)."""

    header: str
    kind: str = "text"  # text, number, money, rate or date
    width: int = 14


def _safe_text(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _Echo:
    def write(self, value):
        return value


def _columns(header):
    return [h if isinstance(h, Column) else Column(str(h)) for h in header]


def csv_lines(header, rows):
    """The CSV text of ``header`` and ``rows``, line by line (a byte-order mark first), with text
    that a spreadsheet would run as a formula prefixed by an apostrophe."""
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a byte-order mark so spreadsheet programs read the file as UTF-8
    yield writer.writerow([c.header for c in _columns(header)])
    for row in rows:
        yield writer.writerow(["" if v is None else _safe_text(v) for v in row])


def csv_response(filename, header, rows):
    """Stream ``rows`` (iterables of plain values) as a UTF-8 CSV download with ``header`` first."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def csv_text(header, rows):
    """The same CSV as ``csv_response`` as one string (for a download that is cached whole)."""
    writer = csv.writer(_Echo())
    lines = ["\ufeff", writer.writerow([str(h) for h in header])]
    lines.extend(writer.writerow(["" if v is None else _safe_text(v) for v in row]) for row in rows)
    return "".join(lines)


def write_xlsx(file, header, rows, sheet_title="Export"):
    """Write ``rows`` as an XLSX workbook to ``file`` in openpyxl's write-only mode (rows go to disk
    as they come): amounts are numbers shown with two decimals, dates real dates, text always text
    (openpyxl would read a leading ``=`` as a formula, so no apostrophe is needed or added), the
    header row frozen and every column given its width."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    columns = _columns(header)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(sheet_title)[:31])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    bold = Font(bold=True)
    head = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=str(column.header))
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    # One cell per column, reused: write-only rows are serialised as they are appended.
    cells = []
    for column in columns:
        cell = WriteOnlyCell(sheet)
        if column.kind == "money":
            cell.number_format = MONEY_FORMAT
        elif column.kind == "date":
            cell.number_format = DATE_FORMAT
        cells.append(cell)
    kinds = [column.kind for column in columns]
    for row in rows:
        for cell, kind, value in zip(cells, kinds, row, strict=True):
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)
            cell.value = value
            if kind == "text" and isinstance(value, str):
                cell.data_type = "s"
        sheet.append(cells)
    workbook.save(file)


def xlsx_response(filename, header, rows, sheet_title="Export"):
    """``rows`` as an XLSX download, built in a temporary file and streamed from it."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    write_xlsx(file, header, rows, sheet_title=sheet_title)
    file.seek(0)
    return FileResponse(file, content_type=XLSX_TYPE, as_attachment=True, filename=f"{filename}.xlsx")
