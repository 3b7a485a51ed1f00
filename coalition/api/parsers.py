"""JSON in, with numbers read as Decimal: money never passes through float, not even on the way in."""

import json
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class DecimalJSONParser(JSONParser):
    """DRF's JSON parser, except that ``1250000.10`` becomes ``Decimal("1250000.10")``."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(stream.read().decode(encoding), parse_float=Decimal, parse_constant=_no_constants)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f'Malformed JSON: {exc}. Send a JSON object, e.g. {{"title": "..."}}.') from exc


def _no_constants(name):
    # json accepts NaN and Infinity, which are not JSON and are no amount of money.
    raise ValueError(f"{name} is not allowed in JSON")
