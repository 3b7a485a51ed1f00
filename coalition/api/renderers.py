"""``?format=csv``: a list page as CSV, with names beside codes so a spreadsheet reads on its own."""

import csv
import io
import json

from rest_framework.renderers import BaseRenderer

from coalition.exports import _safe_text


class CSVRenderer(BaseRenderer):
    """Renders ``{"header": [...], "rows": [{...}, ...]}`` (what APIViewSet.list hands over for CSV)
    or, for anything else such as an error, the JSON-like data as ``field,message`` lines."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        if isinstance(data, dict) and "rows" in data and "header" in data:
            header = data["header"]
            writer.writerow(header)
            for row in data["rows"]:
                writer.writerow([_cell(row.get(column)) for column in header])
        elif isinstance(data, dict):
            writer.writerow(["field", "message"])
            for field, messages in data.items():
                for message in messages if isinstance(messages, list) else [messages]:
                    writer.writerow([field, _cell(message)])
        return buffer.getvalue().encode(self.charset)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return _safe_text(value) if isinstance(value, str) else value
