"""``?format=csv``: a list page as CSV, with names beside codes so a spreadsheet reads on its own; and
DRF's browsable pages under the portal's Content-Security-Policy."""

import base64
import csv
import hashlib
import io
import json

import orjson
from rest_framework import renderers
from rest_framework.renderers import BaseRenderer
from rest_framework.utils.encoders import JSONEncoder

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


#: The one style attribute of DRF's browsable page template (its format and filter buttons), allowed
#: by its hash on those pages only: CSP's 'unsafe-hashes' admits that exact text and no other.
_DRF_BUTTON_STYLE = "float: right; margin-right: 10px"
_DRF_BUTTON_STYLE_DIGEST = base64.b64encode(hashlib.sha256(_DRF_BUTTON_STYLE.encode()).digest()).decode()
_DRF_BUTTON_STYLE_HASH = f"'sha256-{_DRF_BUTTON_STYLE_DIGEST}'"


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON, written by orjson: the same bytes (compact, UTF-8, dates and decimals as DRF's
    encoder writes them, U+2028/U+2029 escaped) in a fraction of the time a 50-row page takes with the
    standard library. An indented answer (``Accept: application/json; indent=4``, the browsable
    pages) and anything orjson refuses (an integer beyond 64 bits) go to DRF's own renderer."""

    _OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        renderer_context = renderer_context or {}
        if self.get_indent(accepted_media_type, renderer_context) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=_drf_default, option=self._OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF: the two line separators JSON allows and JavaScript does not, escaped.
        return body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")


_drf_default = JSONEncoder().default


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable pages under the portal's Content-Security-Policy: without the inline Pygments
    stylesheet (the page's own script highlights the JSON), and with its one style attribute allowed
    by hash on these pages only."""

    def get_context(self, data, accepted_media_type, renderer_context):
        context = super().get_context(data, accepted_media_type, renderer_context)
        context["code_style"] = None
        return context

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_update = {"style-src-attr": ["'unsafe-hashes'", _DRF_BUTTON_STYLE_HASH]}
        return super().render(data, accepted_media_type, renderer_context)
