"""Keyset paging for every API list, page numbers as an option, the total only on request.

``?cursor=`` (what ``next`` and ``previous`` carry) continues after, or before, the last row a client
read, on the list's ordering (its ``ordering=`` parameter or the model's default) with the id as the
tie-breaker: the page is ``WHERE (ordering columns) > (the cursor's values) ORDER BY ... LIMIT n``,
which walks an index and costs the same on the thousandth page as on the first. ``?page=N`` pages by
number (an OFFSET: cheap near the start, growing with N; what the HTML lists use) and always carries
``count``; ``?count=true`` adds ``count`` to a keyset page (one ``COUNT(*)`` over the filtered rows,
without the joins of the page).

A cursor is signed (django.core.signing): one not made by the portal, or made for another ordering,
is a 400 naming ``cursor``, never a query. ``page``, ``page_size`` and ``count`` are what the schema
says (whole numbers from 1, ``page_size`` at most 200, ``count`` true or false): anything else is a
400 naming the parameter, where DRF would quietly use the default.
"""

import datetime
import decimal
from collections import OrderedDict

from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import F, Q
from django.db.models.expressions import OrderBy
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.settings import api_settings
from rest_framework.utils.urls import remove_query_param, replace_query_param

CURSOR_SALT = "coalition.api.cursor"
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


def _whole_number(text, maximum):
    text = text.strip()
    return text.isascii() and text.isdigit() and int(text) >= 1 and (maximum is None or int(text) <= maximum)


class Key:
    """One column of the list's ordering: its path, direction and whether it can be NULL (NULLs sort
    as the largest value on every database, as PostgreSQL's indexes keep them)."""

    def __init__(self, path, descending, field, nullable):
        self.path, self.descending, self.field, self.nullable = path, descending, field, nullable

    def order_by(self, reverse=False):
        descending = self.descending != reverse
        expression = F(self.path)
        if not self.nullable:
            return expression.desc() if descending else expression.asc()
        return expression.desc(nulls_first=True) if descending else expression.asc(nulls_last=True)

    def beyond(self, value, reverse=False):
        """The Q of the rows after ``value`` in this column's order (reversed: before it), or None."""
        descending = self.descending != reverse
        if descending:
            return Q(**{f"{self.path}__isnull": False}) if value is None else Q(**{f"{self.path}__lt": value})
        if value is None:
            return None
        after = Q(**{f"{self.path}__gt": value})
        return after | Q(**{f"{self.path}__isnull": True}) if self.nullable else after

    def equal(self, value):
        return Q(**{f"{self.path}__isnull": True}) if value is None else Q(**{self.path: value})

    def dump(self, value):
        if isinstance(value, datetime.datetime | datetime.date | datetime.time):
            return value.isoformat()
        if isinstance(value, decimal.Decimal):
            return str(value)
        return value

    def load(self, raw):
        if raw is None:
            if not self.nullable:
                raise DjangoValidationError("null")
            return None
        if not isinstance(raw, str | int):
            raise DjangoValidationError("type")
        value = self.field.to_python(raw)
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise DjangoValidationError("range")
        if isinstance(value, str) and "\x00" in value:
            raise DjangoValidationError("nul")
        return value


def ordering_keys(queryset):
    """The queryset's ordering as Keys, expanded as Django expands it (a relation by its model's own
    ordering), ending with the primary key so that every row has its own place."""
    model = queryset.model
    names = list(queryset.query.order_by) or (list(model._meta.ordering) if queryset.query.default_ordering else [])
    keys, seen = [], set()

    def add(name, model, prefix, descending, nullable, depth=0):
        if isinstance(name, OrderBy):
            name, descending = name.expression.name, descending != name.descending
        if name.startswith("-"):
            name, descending = name[1:], not descending
        parts = name.split("__")
        current, path = model, prefix
        for index, part in enumerate(parts):
            if part == "pk":
                part = current._meta.pk.name
            try:
                field = current._meta.get_field(part)
            except FieldDoesNotExist:
                raise ValueError(f"cannot page on {name!r}") from None
            path = f"{path}__{part}" if path else part
            nullable = nullable or field.null
            if field.is_relation:
                related = field.related_model
                if index == len(parts) - 1:
                    if depth > 3:
                        raise ValueError(f"cannot page on {name!r}")
                    for sub in related._meta.ordering or [related._meta.pk.name]:
                        add(sub, related, path, descending, nullable, depth + 1)
                    add(related._meta.pk.name, related, path, descending, nullable, depth + 1)
                    return
                current = related
        if path not in seen:
            seen.add(path)
            keys.append(Key(path, descending, field, nullable))

    for name in names:
        add(name, model, "", False, False)
    pk = model._meta.pk.name
    if pk not in seen:
        add(pk, model, "", keys[-1].descending if keys else False, False)
    return keys


def keyset_filter(keys, values, reverse=False):
    """The rows after ``values`` (reversed: before them) in the order of ``keys``.

    When every column runs the same way and none can be NULL this is one row comparison,
    ``(a, b, id) > (x, y, z)``, which PostgreSQL uses as an index condition; otherwise the
    lexicographic ``a > x OR (a = x AND (b > y OR ...))``."""
    directions = {key.descending != reverse for key in keys}
    if len(directions) == 1 and not any(key.nullable for key in keys):
        lookup = TupleLessThan if directions == {True} else TupleGreaterThan
        return lookup(Tuple(*(F(key.path) for key in keys)), tuple(values))
    condition, equal = Q(pk__in=[]), Q()
    for key, value in zip(keys, values, strict=True):
        beyond = key.beyond(value, reverse)
        if beyond is not None:
            condition |= equal & beyond
        equal &= key.equal(value)
    return condition


class Pagination(BasePagination):
    page_size = api_settings.PAGE_SIZE
    max_page_size = 200
    cursor_query_param = "cursor"
    page_query_param = "page"
    page_size_query_param = "page_size"
    count_query_param = "count"

    # --- the request ------------------------------------------------------------------------------

    def check_query(self, request):
        """Refuse a malformed page, page_size, count or cursor parameter (a 400 naming it)."""
        self._checked(request)

    def _checked(self, request):
        params = request.query_params
        for name, maximum in ((self.page_query_param, None), (self.page_size_query_param, self.max_page_size)):
            if name not in params:
                continue
            values = params.getlist(name)
            if len(values) > 1 or not _whole_number(values[0], maximum):
                upper = _(" and at most %(max)s") % {"max": maximum} if maximum else ""
                raise ValidationError({name: [_("Give one whole number, at least 1%(upper)s.") % {"upper": upper}]})
        if self.count_query_param in params:
            values = params.getlist(self.count_query_param)
            if len(values) > 1 or values[0].strip().lower() not in TRUE + FALSE:
                raise ValidationError({self.count_query_param: [_("Give true or false.")]})
        if self.cursor_query_param in params:
            if len(params.getlist(self.cursor_query_param)) > 1:
                raise ValidationError({self.cursor_query_param: [_("Give one cursor.")]})
            if self.page_query_param in params:
                message = _("Give either a cursor or a page number, not both.")
                raise ValidationError({self.cursor_query_param: [message]})
        size = params.get(self.page_size_query_param)
        return int(size) if size else self.page_size

    def wants_count(self, request):
        return request.query_params.get(self.count_query_param, "").strip().lower() in TRUE

    # --- paging -----------------------------------------------------------------------------------

    def paginate_queryset(self, queryset, request, view=None, count_queryset=None, force_count=False):
        """The page's rows. ``count_queryset``: the same rows without what the page adds for its
        columns (the joins of a ``values()`` row), for a ``COUNT`` that reads only the filtered table."""
        self.request = request
        self.size = self._checked(request)
        counted = count_queryset if count_queryset is not None else queryset
        self.count = None
        if self.page_query_param in request.query_params:
            return self._page_numbers(queryset, counted, request)
        if force_count or self.wants_count(request):
            self.count = counted.order_by().count()
        return self._keyset(queryset, request)

    def _page_numbers(self, queryset, counted, request):
        self.mode = "page"
        paginator = DjangoPaginator(queryset, self.size)
        paginator.__dict__["count"] = counted.order_by().count()  # the Paginator's cached property
        number = request.query_params.get(self.page_query_param, 1)
        try:
            self.page = paginator.page(number)
        except Exception as exc:
            raise NotFound(_("Invalid page.")) from exc
        self.count = paginator.count
        return list(self.page)

    def _keyset(self, queryset, request):
        self.mode = "cursor"
        self.keys = ordering_keys(queryset)
        self.signature = [("-" if key.descending else "") + key.path for key in self.keys]
        position, reverse = self._decode(request.query_params.get(self.cursor_query_param))
        ordered = queryset.order_by(*(key.order_by(reverse) for key in self.keys))
        if position is not None:
            ordered = ordered.filter(keyset_filter(self.keys, position, reverse))
        aliases = {f"_keyset_{index}": F(key.path) for index, key in enumerate(self.keys)}
        rows = list(ordered.annotate(**aliases)[: self.size + 1])
        more = len(rows) > self.size
        rows = rows[: self.size]
        if reverse:
            rows.reverse()
        positions = [self._position(row, aliases) for row in (rows[0], rows[-1])] if rows else None
        for row in rows:
            if isinstance(row, dict):  # values() rows: the serializers see only their own columns
                for alias in aliases:
                    row.pop(alias, None)
        self.next_position = self.previous_position = None
        if reverse:
            self.previous_position = positions[0] if more and positions else None
            self.next_position = positions[1] if positions else position
        else:
            self.next_position = positions[1] if more else None
            if position is not None:
                self.previous_position = positions[0] if positions else position
        return rows

    @staticmethod
    def _position(row, aliases):
        if isinstance(row, dict):
            return [row[alias] for alias in aliases]
        return [getattr(row, alias) for alias in aliases]

    def _decode(self, token):
        if token is None:
            return None, False
        invalid = ValidationError(
            {self.cursor_query_param: [_("This cursor is not valid for this list: follow the next or previous link.")]}
        )
        try:
            data = signing.loads(token.strip(), salt=CURSOR_SALT)
        except signing.BadSignature:
            raise invalid from None
        if not isinstance(data, dict) or data.get("o") != self.signature or not isinstance(data.get("p"), list):
            raise invalid
        if len(data["p"]) != len(self.keys):
            raise invalid
        try:
            position = [key.load(raw) for key, raw in zip(self.keys, data["p"], strict=True)]
        except (DjangoValidationError, TypeError, ValueError, decimal.InvalidOperation):
            raise invalid from None
        return position, bool(data.get("r"))

    def _link(self, position, reverse):
        if position is None:
            return None
        token = signing.dumps(
            {"o": self.signature, "p": [key.dump(v) for key, v in zip(self.keys, position, strict=True)], "r": reverse},
            salt=CURSOR_SALT,
            compress=True,
        )
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, token)

    def get_next_link(self):
        if self.mode == "page":
            if not self.page.has_next():
                return None
            url = remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)
            return replace_query_param(url, self.page_query_param, self.page.next_page_number())
        return self._link(self.next_position, False)

    def get_previous_link(self):
        if self.mode == "page":
            if not self.page.has_previous():
                return None
            url = self.request.build_absolute_uri()
            if self.page.previous_page_number() == 1:
                return remove_query_param(url, self.page_query_param)
            return replace_query_param(url, self.page_query_param, self.page.previous_page_number())
        return self._link(self.previous_position, True)

    def get_paginated_response(self, data):
        from rest_framework.response import Response

        body = OrderedDict()
        if self.count is not None:
            body["count"] = self.count
        body["next"] = self.get_next_link()
        body["previous"] = self.get_previous_link()
        body["results"] = data
        return Response(body)

    # --- the schema -------------------------------------------------------------------------------

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "example": 123,
                    "description": "The number of rows: with `count=true`, or `page`.",
                },
                "next": {"type": "string", "nullable": True, "format": "uri", "example": "…?cursor=eyJvIjpb…"},
                "previous": {"type": "string", "nullable": True, "format": "uri", "example": "…?cursor=eyJvIjpb…"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where to continue: the `cursor` of the `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number instead of a cursor (the answer then carries `count`).",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Rows per page (default 50).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {
                "name": self.count_query_param,
                "required": False,
                "in": "query",
                "description": "`true`: add `count`, the number of rows of the whole list.",
                "schema": {"type": "boolean"},
            },
        ]
