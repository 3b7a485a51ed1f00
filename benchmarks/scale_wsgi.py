"""The portal's WSGI application for ``benchmarks/scale.py --http``, plus ``/raw/pledges/``: the least
a pledge page could cost over HTTP (the raw keyset query of the partner's first page, answered as
orjson, no middleware, no authentication), the baseline the API's requests per second are compared
with. Benchmark use only: it is mounted by nothing in the portal."""

import os
import warnings

import orjson

warnings.filterwarnings("ignore", "No directory at", UserWarning)

from config.wsgi import application as portal  # noqa: E402 - after the warning filter

COALITIONS = [int(c) for c in os.environ.get("BENCH_COALITIONS", "").split(",") if c]


def raw_page():
    from django.db import connection

    from benchmarks.scale import raw_page_sql

    with connection.cursor() as cursor:
        cursor.execute(raw_page_sql(), {"coalitions": COALITIONS})
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return orjson.dumps({"next": None, "previous": None, "results": rows})


def application(environ, start_response):
    if environ.get("PATH_INFO") != "/raw/pledges/":
        return portal(environ, start_response)
    from django.db import close_old_connections

    close_old_connections()
    body = raw_page()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
