"""CSV and XLSX downloads of a list page: the same header and rows, two formats."""

import csv
from io import BytesIO

from django.http import HttpResponse, StreamingHttpResponse

#: Spreadsheet programs run a cell starting with these as a formula; exported text must not.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _safe_text(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _Echo:
    def write(self, value):
        return value


def csv_response(filename, header, rows):
    """Stream ``rows`` (iterables of plain values) as a UTF-8 CSV download with ``header`` first."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # a byte-order mark so spreadsheet programs read the file as UTF-8
        yield writer.writerow([str(h) for h in header])
        for row in rows:
            yield writer.writerow(["" if v is None else _safe_text(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def csv_text(header, rows):
    """The same CSV as ``csv_response`` as one string (for a download that is cached whole)."""
    writer = csv.writer(_Echo())
    lines = ["\ufeff", writer.writerow([str(h) for h in header])]
    lines.extend(writer.writerow(["" if v is None else _safe_text(v) for v in row]) for row in rows)
    return "".join(lines)


def xlsx_response(filename, header, rows, sheet_title="Export"):
    """``rows`` as an XLSX download: numbers and dates stay numbers and dates."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(sheet_title)[:31])
    sheet.append([str(h) for h in header])
    for row in rows:
        sheet.append([_safe_text(v) for v in row])
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response
