"""JSON in, with numbers read as Decimal: money never passes through float, not even on the way in.

A body the API cannot read is a JSON 400 naming what is wrong (malformed, not UTF-8, nested too
deep); one larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a JSON 413 (coalition.api.exceptions)."""

import json
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

#: No record the API takes is nested more than a few levels; deeper bodies are refused before any
#: serializer walks them (and Python's recursion limit is never reached).
MAX_DEPTH = 32


class DecimalJSONParser(JSONParser):
    """DRF's JSON parser, except that ``1250000.10`` becomes ``Decimal("1250000.10")``."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(stream.read().decode(encoding), parse_float=Decimal, parse_constant=_no_constants)
        except RecursionError as exc:
            raise ParseError(too_deep()) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f'Malformed JSON: {exc}. Send a JSON object, e.g. {{"title": "..."}}.') from exc
        if depth_exceeds(data, MAX_DEPTH):
            raise ParseError(too_deep())
        return data


def too_deep():
    return _("The JSON body is nested more than %(depth)s levels deep.") % {"depth": MAX_DEPTH}


def depth_exceeds(data, limit):
    """Whether lists and objects in ``data`` nest deeper than ``limit`` (walked without recursion)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _no_constants(name):
    # json accepts NaN and Infinity, which are not JSON and are no amount of money.
    raise ValueError(f"{name} is not allowed in JSON")
