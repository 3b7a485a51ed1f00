"""The portal's reads at 10,000, 100,000 and 1,000,000 pledges, each against its raw baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coalition python benchmarks/scale.py
    ... benchmarks/scale.py --sizes 10k,100k --runs 11      # the default: 10k,100k,1m and 11
    ... benchmarks/scale.py --rebuild                       # make the data sets again
    ... benchmarks/scale.py --http --sizes 1m               # gunicorn + wrk, see below
    BENCH_REDIS_URL=redis://127.0.0.1:6379/9 ... scale.py   # the cache in Redis rather than in memory

Data: one PostgreSQL database per size next to DATABASE_URL's (``bench_10k``, ``bench_100k``,
``bench_1m``), made once with COPY and reused while its migrations match the code's (a table
``bench_meta`` records them): 10 coalitions, 50 members seated in all of them, the ECB rates
(``import_rates``, offline), 30 ECB currencies, three years of announcement dates, the six statuses,
disbursements against the disbursing and fulfilled pledges, allocations to 20 priorities per
coalition, and a history row for each record. The reader is a partner seated in all ten coalitions
(issue 14's partner key), who sees the published pledges.

Each surface is a ``Surface(name, measured, baseline)``: two callables run in turns (measured,
baseline, measured, ...; medians of ``--runs``) after a warm-up, so both see the same load on a
shared machine; the queries of one more measured call are counted. A surface list is built per data
set by ``surfaces(ctx)``; other lists plug in through ``SURFACE_LISTS`` (14b adds the dashboard, the
summary and the exports there). The table printed: per size the measured and baseline medians, their
ratio and the queries; then the growth of the measured time from the smallest to the largest size.

API pages are measured twice: asked again (a poll: from the third identical request in a cache
generation the answer kept by coalition.api.conditional's RevalidationMiddleware) and through the
view (each request new to the portal, by an unknown parameter the list ignores: what the first poll
after a write costs, its key and stamp still remembered).

``--http``: gunicorn (2 sync workers, 127.0.0.1:16110) on the largest size and ``wrk`` (Debian's
package) against ``/api/v1/pledges/`` with the partner's key, polled and each request new, and
against ``/raw/pledges/``, a minimal WSGI view that runs the raw keyset query and answers its orjson
(benchmarks/scale_wsgi.py), the three taking turns, each ``--http-seconds`` long; prints requests/s
and p99 of each and their ratios to the raw view.
"""

import argparse
import dataclasses
import itertools
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
HTTP_PORT = 16110
COALITIONS, MEMBERS, PRIORITIES = 10, 50, 20
CURRENCIES = [
    "EUR",
    "USD",
    "GBP",
    "JPY",
    "CHF",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CZK",
    "HUF",
    "RON",
    "BGN",
    "ISK",
    "TRY",
    "AUD",
    "CAD",
    "NZD",
    "SGD",
    "HKD",
    "KRW",
    "CNY",
    "INR",
    "BRL",
    "MXN",
    "ZAR",
    "ILS",
    "THB",
    "MYR",
    "PHP",
]
STATUSES = ["draft"] * 5 + ["announced"] * 25 + ["confirmed"] * 40 + ["disbursing"] * 15 + ["fulfilled"] * 10
STATUSES += ["withdrawn"] * 5
FIRST_DAY = date(2023, 1, 2)
DAYS = 3 * 365
CENT = Decimal("0.01")


# --- settings --------------------------------------------------------------------------------------


def configure():
    # No collected static files here: WhiteNoise's note that STATIC_ROOT does not exist is noise.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")
    os.environ.setdefault("API_THROTTLE_KEY", "100000000/hour")
    # The cache in local memory by default: the benchmark measures the database and the code, and its
    # runs write nothing, so each process's own cache answers as a shared one would. BENCH_REDIS_URL
    # measures with Redis instead, a round trip per cache read, as a deployment of several web
    # processes has it.
    os.environ.pop("REDIS_URL", None)
    if os.environ.get("BENCH_REDIS_URL"):
        os.environ["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    # Repeated conditional GETs, remembered keys and stamps from the cache (on by default with Redis).
    os.environ.setdefault("API_REVALIDATION_TIMEOUT", "3600")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("benchmarks/scale.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    import django

    django.setup()
    from django.conf import settings

    # DEBUG off (no query log) without a collectstatic run: static URLs need no manifest here.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def use_database(name):
    """Point Django's default connection at the database ``name``."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def admin_sql(sql):
    """A statement outside any database we use (CREATE/DROP DATABASE)."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else None


def migration_signature():
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection, ignore_no_migrations=True)
    return ",".join(sorted(f"{app}.{name}" for app, name in loader.graph.leaf_nodes()))


# --- data ------------------------------------------------------------------------------------------


def ensure_data(size_name, rebuild=False):
    """The database of ``size_name``, made if missing, stale or ``rebuild``; returns its name."""
    from django.db import connection

    name = f"bench_{size_name}"
    signature = migration_signature()
    exists = admin_sql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608 - our own name
    if exists and not rebuild:
        use_database(name)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT signature, pledges FROM bench_meta")
                row = cursor.fetchone()
            if row == (signature, SIZES[size_name]):
                return name
        except Exception:  # noqa: BLE001 - no bench_meta: an unfinished build
            pass
        print(f"{name}: stale or unfinished, making it again", flush=True)
    use_database("postgres")
    connection.close()
    if exists:
        admin_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{name}"')
    use_database(name)
    started = time.perf_counter()
    build(SIZES[size_name])
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_meta (signature text, pledges integer)")
        cursor.execute("INSERT INTO bench_meta VALUES (%s, %s)", [signature, SIZES[size_name]])
    print(f"{name}: {SIZES[size_name]:,} pledges made in {time.perf_counter() - started:.0f} s", flush=True)
    return name


def build(pledges):
    from django.core.management import call_command
    from django.db import connection

    from coalition.models import Coalition, Member, Membership
    from coalition.services import role_grant
    from contributions import services
    from contributions.models import ExchangeRate

    call_command("migrate", verbosity=0)
    call_command("import_rates", verbosity=0)
    coalitions = Coalition.objects.bulk_create(
        Coalition(name=f"Bench coalition {i}", slug=f"bench-{i}", target_eur=Decimal(10**12)) for i in range(COALITIONS)
    )
    members = Member.objects.bulk_create(
        Member(code=f"B{i:02d}", name=f"Bench member {i}", kind="organisation") for i in range(MEMBERS)
    )
    Membership.objects.bulk_create(Membership(coalition=c, member=m) for c in coalitions for m in members)
    priorities = {
        c.pk: [
            services.priority_create(
                acting_user=None, coalition=c, title=f"Priority {i}", estimated_cost_eur=Decimal(10**9)
            ).pk
            for i in range(PRIORITIES)
        ]
        for c in coalitions
    }
    role_grant(username="bench-partner", role="partner", coalitions=coalitions)
    rates = {}
    for currency, day, rate in ExchangeRate.objects.filter(
        currency__in=CURRENCIES, date__gte=FIRST_DAY - timedelta(days=10)
    ).values_list("currency", "date", "rate"):
        rates[currency, day] = rate

    def rate_of(currency, day):
        if currency == "EUR":
            return Decimal(1), day
        for back in range(15):
            found = rates.get((currency, day - timedelta(days=back)))
            if found is not None:
                return found, day - timedelta(days=back)
        return Decimal(1), day  # not published then (no such rate in the copy): at par, for the benchmark

    rng = random.Random(14)
    now = datetime.now(UTC)
    pledge_columns = [
        "id",
        "coalition_id",
        "member_id",
        "title",
        "description",
        "kind",
        "channel",
        "amount",
        "currency",
        "status",
        "announced_on",
        "confirmed_on",
        "source",
        "external_ref",
        "amount_eur",
        "exchange_rate",
        "exchange_rate_date",
        "exchange_rate_source",
        "disbursed_amount",
        "disbursed_eur",
        "version",
        "created_at",
        "updated_at",
        "published_at",
    ]
    history_columns = [c for c in pledge_columns if c != "updated_at"]
    disbursement_columns = [
        "id",
        "pledge_id",
        "amount",
        "date",
        "reference",
        "note",
        "version",
        "created_at",
        "updated_at",
    ]
    allocation_columns = ["id", "pledge_id", "priority_id", "amount_eur", "note", "version", "created_at", "updated_at"]
    disbursement_id = allocation_id = 0
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        cursor.execute("SET session_replication_role = replica")  # no FK trigger per row while loading
        indexes = drop_indexes(
            cursor,
            [f"contributions_{h}{t}" for t in ("pledge", "disbursement", "allocation") for h in ("", "historical")],
        )
        with cursor.copy(f"COPY contributions_pledge ({', '.join(pledge_columns)}) FROM STDIN") as pledge_copy:
            disbursements, allocations = [], []
            for pk in range(1, pledges + 1):
                coalition = coalitions[rng.randrange(COALITIONS)]
                currency = CURRENCIES[0] if rng.random() < 0.4 else rng.choice(CURRENCIES)
                announced = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
                rate, rate_day = rate_of(currency, announced)
                amount = Decimal(rng.randrange(1_000, 50_000_000)).quantize(CENT)
                amount_eur = (amount / rate).quantize(CENT, ROUND_HALF_UP) or CENT
                status = rng.choice(STATUSES)
                confirmed = announced + timedelta(days=rng.randrange(1, 90)) if status in CONFIRMED else None
                created = datetime(announced.year, announced.month, announced.day, 9, tzinfo=UTC)
                published = None if status == "draft" or (status == "withdrawn" and pk % 2) else created
                disbursed = Decimal(0)
                if status in ("disbursing", "fulfilled"):
                    parts = rng.randrange(1, 4)
                    share = (amount / (parts + (status == "disbursing"))).quantize(CENT, ROUND_HALF_UP)
                    for part in range(parts):
                        disbursement_id += 1
                        paid = confirmed + timedelta(days=30 * (part + 1))
                        last = status == "fulfilled" and part == parts - 1
                        value = amount - disbursed if last else share
                        disbursed += value
                        stamp = datetime(paid.year, paid.month, paid.day, 9, tzinfo=UTC)
                        disbursements.append(
                            (disbursement_id, pk, value, paid, f"D-{disbursement_id}", "", 1, stamp, stamp)
                        )
                if status in CONFIRMED and rng.random() < 0.3:
                    allocation_id += 1
                    priority = rng.choice(priorities[coalition.pk])
                    allocations.append(
                        (allocation_id, pk, priority, (amount_eur / 2).quantize(CENT) or CENT, "", 1, created, created)
                    )
                row = [
                    pk,
                    coalition.pk,
                    members[rng.randrange(MEMBERS)].pk,
                    f"Pledge {pk}: servers and licences",
                    "Hardware and software for the armed forces' IT.",
                    "financial" if rng.random() < 0.9 else "in_kind",
                    rng.choice(("bilateral", "trust_fund", "procurement_agency", "other")),
                    amount,
                    currency,
                    status,
                    announced,
                    confirmed,
                    "",
                    f"REF-{pk}",
                    amount_eur,
                    rate,
                    rate_day,
                    "ECB",
                    disbursed,
                    (disbursed / rate).quantize(CENT, ROUND_HALF_UP),
                    1,
                    created,
                    max(created, now - timedelta(days=rng.randrange(DAYS))),
                    published,
                ]
                pledge_copy.write_row(row)
        copy_rows(cursor, "contributions_disbursement", disbursement_columns, disbursements)
        copy_rows(cursor, "contributions_allocation", allocation_columns, allocations)
        # A history row ("+", created) for each record, as the services write them.
        for table, columns in (
            ("pledge", history_columns),
            ("disbursement", [c for c in disbursement_columns if c != "updated_at"]),
            ("allocation", [c for c in allocation_columns if c != "updated_at"]),
        ):
            plain = [c for c in columns if not c.startswith("history_")]
            cursor.execute(
                f"INSERT INTO contributions_historical{table} ({', '.join(plain)}, history_date, history_type) "  # noqa: S608
                f"SELECT {', '.join(plain)}, created_at, '+' FROM contributions_{table}"
            )
        for table in ("contributions_pledge", "contributions_disbursement", "contributions_allocation"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608
            )
        cursor.execute("SET session_replication_role = DEFAULT")
        for sql in indexes:
            cursor.execute(sql)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


CONFIRMED = ("confirmed", "disbursing", "fulfilled")


def drop_indexes(cursor, tables):
    """Drop the tables' secondary indexes (made again after the COPY: faster than row by row)."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [tables],
    )
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


def copy_rows(cursor, table, columns, rows):
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# --- measuring -------------------------------------------------------------------------------------


@dataclasses.dataclass
class Surface:
    name: str
    measured: object  # a callable: one request (or whatever the surface is)
    baseline: object  # a callable: the least the same answer could cost
    baseline_name: str = "raw"
    target: str = ""


@dataclasses.dataclass
class Context:
    """What a surface list needs of one data set."""

    size: int
    api: object  # django.test.Client with the partner's key
    browser: object  # django.test.Client signed in as the partner
    partner: object
    visible: int


def timed(surface, runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    surface.measured()
    surface.baseline()
    measured, baseline = [], []
    for _ in range(runs):
        for function, samples in ((surface.measured, measured), (surface.baseline, baseline)):
            started = time.perf_counter()
            function()
            samples.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        surface.measured()
    with CaptureQueriesContext(connection) as raw_queries:
        surface.baseline()
    return statistics.median(measured), statistics.median(baseline), len(queries), len(raw_queries)


def raw_page_sql(where="", order="p.announced_on DESC, p.id DESC", limit=50):
    return f"""
SELECT p.id, c.slug AS coalition, m.code AS member, p.title, p.description, p.kind, p.channel, p.amount::text,
       p.currency, p.status, p.announced_on, p.confirmed_on, p.confirmed_at_meeting_id AS confirmed_at_meeting,
       p.source, p.external_ref, p.exchange_rate::text, p.exchange_rate_source, p.amount_eur::text,
       p.exchange_rate_date, p.disbursed_amount::text, p.created_at, p.updated_at, p.version
FROM contributions_pledge p
JOIN coalition_coalition c ON c.id = p.coalition_id
JOIN coalition_member m ON m.id = p.member_id
WHERE p.coalition_id = ANY(%(coalitions)s) AND p.published_at IS NOT NULL {where}
ORDER BY {order} LIMIT {limit}
"""  # noqa: S608 - the benchmark's own fragments


def raw_json(sql, params):
    """The baseline of a JSON page: the rows as dicts, dumped by orjson."""
    import orjson
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return orjson.dumps({"next": None, "previous": None, "results": rows})


def api_surfaces(ctx):
    from django.core import signing
    from django.db import connection

    from coalition.api.pagination import CURSOR_SALT

    coalitions = sorted(ctx.partner.seats.values_list("coalition_id", flat=True))
    params = {"coalitions": coalitions}
    url = "/api/v1/pledges/"
    first = ctx.api.get(url)
    assert first.status_code == 200, first.content[:300]
    etag = first["ETag"]
    with connection.cursor() as cursor:  # the position 50 rows before the end: the last page
        cursor.execute(
            "SELECT announced_on, id FROM contributions_pledge WHERE coalition_id = ANY(%(coalitions)s) "
            "AND published_at IS NOT NULL ORDER BY announced_on, id OFFSET 50 LIMIT 1",
            params,
        )
        day, pk = cursor.fetchone()
    last = signing.dumps(
        {"o": ["-announced_on", "-id"], "p": [day.isoformat(), pk], "r": False}, salt=CURSOR_SALT, compress=True
    )
    last_sql = raw_page_sql("AND (p.announced_on, p.id) < (%(day)s, %(pk)s)")

    def get(*args, **kwargs):
        def call():
            response = ctx.api.get(*args, **kwargs)
            assert response.status_code in (200, 304), response.status_code
            return response

        return call

    calls = itertools.count()

    def fresh(query=None):
        """A request not asked before in this generation (an unknown parameter, ignored by the list,
        numbered across every surface): through the view, as the first poll after a write is (its key
        and stamp still remembered)."""
        return lambda: get(url, {**(query or {}), "bench": next(calls)})()

    filtered = {"status": "confirmed", "ordering": "-amount_eur"}
    return [
        Surface(
            "GET /api/v1/pledges/ page 1 (50 rows), through the view",
            fresh(),
            lambda: raw_json(raw_page_sql(), params),
            "raw keyset SELECT + orjson",
            "<= 3x",
        ),
        Surface(
            "same, asked again (the answer kept in the cache)",
            get(url),
            lambda: raw_json(raw_page_sql(), params),
            "raw keyset SELECT + orjson",
        ),
        Surface(
            "same, last page (by cursor), through the view",
            fresh({"cursor": last}),
            fresh(),
            "page 1 through the view",
            "<= 1.2x",
        ),
        Surface(
            "same, last page: raw",
            fresh({"cursor": last}),
            lambda: raw_json(last_sql, {**params, "day": day, "pk": pk}),
            "raw keyset SELECT + orjson",
        ),
        Surface(
            "same with If-None-Match (304)",
            get(url, HTTP_IF_NONE_MATCH=etag),
            fresh(),
            "the full 200 through the view",
            "<= 0.2x",
        ),
        Surface(
            "GET /api/v1/pledges/?status=confirmed&ordering=-amount_eur, through the view",
            fresh(filtered),
            lambda: raw_json(raw_page_sql("AND p.status = 'confirmed'", "p.amount_eur DESC, p.id DESC"), params),
            "raw keyset SELECT + orjson",
            "<= 3x",
        ),
    ]


def html_surfaces(ctx):
    from django.db import connection

    coalitions = sorted(ctx.partner.seats.values_list("coalition_id", flat=True))
    query = {"status": "confirmed", "ordering": "-amount_eur"}
    count_sql = (
        "SELECT COUNT(*) FROM contributions_pledge p WHERE p.coalition_id = ANY(%(c)s) "
        "AND p.published_at IS NOT NULL AND p.status = 'confirmed'"
    )
    rows_sql = (
        "SELECT p.*, c.slug, c.name, m.code, m.name FROM contributions_pledge p "
        "JOIN coalition_coalition c ON c.id = p.coalition_id JOIN coalition_member m ON m.id = p.member_id "
        "WHERE p.coalition_id = ANY(%(c)s) AND p.published_at IS NOT NULL AND p.status = 'confirmed' "
        "ORDER BY p.amount_eur DESC, p.id DESC LIMIT 25"
    )

    def page():
        response = ctx.browser.get("/pledges/", query)
        assert response.status_code == 200, response.status_code

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(count_sql, {"c": coalitions})
            cursor.fetchall()
            cursor.execute(rows_sql, {"c": coalitions})
            cursor.fetchall()

    return [Surface("/pledges/ HTML, status filter + sort", page, raw, "raw count + 25 rows", "<= 2x")]


#: Every list of surfaces measured on each data set (14b adds the dashboard, summary and exports).
SURFACE_LISTS = [api_surfaces, html_surfaces]


def context(size):
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from coalition.services import api_key_create

    cache.clear()
    partner = get_user_model().objects.get(username="bench-partner")
    _key, raw = api_key_create(owner=partner, name=f"bench {time.time()}")
    browser = Client()
    browser.force_login(partner)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM contributions_pledge WHERE published_at IS NOT NULL")
        (visible,) = cursor.fetchone()
    return Context(size, Client(HTTP_AUTHORIZATION=f"Token {raw}"), browser, partner, visible)


def measure(sizes, runs, rebuild):
    results = {}
    names = {size: ensure_data(size, rebuild) for size in sizes}
    for size in sizes:
        use_database(names[size])
        ctx = context(SIZES[size])
        print(f"bench_{size}: {ctx.visible:,} pledges visible to the partner; measuring", flush=True)
        for make in SURFACE_LISTS:
            for surface in make(ctx):
                results.setdefault(surface.name, {"surface": surface, "by_size": {}})
                results[surface.name]["by_size"][size] = timed(surface, runs)
    return results


def report(results, sizes, runs):
    print(f"\nmedians of {runs}, measured and baseline taking turns; ms; queries measured/baseline\n")
    header = "| surface | baseline | target | " + " | ".join(sizes) + f" | growth {sizes[0]} -> {sizes[-1]} |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, entry in results.items():
        surface, by_size = entry["surface"], entry["by_size"]
        cells = []
        for size in sizes:
            if size not in by_size:
                cells.append("")
                continue
            measured, baseline, queries, raw_queries = by_size[size]
            cells.append(
                f"{measured * 1000:.1f} vs {baseline * 1000:.1f} = **{measured / baseline:.2f}x** "
                f"({queries}/{raw_queries} q)"
            )
        growth = ""
        if sizes[0] in by_size and sizes[-1] in by_size and len(sizes) > 1:
            growth = f"{by_size[sizes[-1]][0] / by_size[sizes[0]][0]:.2f}x"
        print(f"| {name} | {surface.baseline_name} | {surface.target} | " + " | ".join(cells) + f" | {growth} |")


# --- over HTTP -------------------------------------------------------------------------------------


#: wrk's script for requests each new to the portal (an unknown parameter numbered per thread): every
#: one through the view, as the first poll after a write is.
FRESH_REQUESTS_LUA = """
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) n = 0 end
function request() n = n + 1; return wrk.format(nil, wrk.path .. "?bench=" .. id .. "-" .. n) end
"""


def wrk(url, seconds, headers=(), script=None):
    command = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    output = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rps = float(next(line.split()[1] for line in output.splitlines() if line.startswith("Requests/sec")))
    p99 = next(line.split()[1] for line in output.splitlines() if line.strip().startswith("99%"))
    non_2xx = next((line.split()[-1] for line in output.splitlines() if "Non-2xx" in line), "0")
    return rps, to_ms(p99), int(non_2xx)


def to_ms(text):
    for unit, factor in (("us", 0.001), ("ms", 1), ("s", 1000), ("m", 60000)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def http(size, seconds, rebuild):
    if shutil.which("wrk") is None:
        sys.exit("--http needs wrk (apt-get install wrk)")
    from django.db import connection

    name = ensure_data(size, rebuild)
    use_database(name)
    ctx = context(SIZES[size])
    key = ctx.api.defaults["HTTP_AUTHORIZATION"]
    connection.close()
    settings = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{name}",
        "BENCH_COALITIONS": ",".join(str(c) for c in sorted(ctx.partner.seats.values_list("coalition_id", flat=True))),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "benchmarks.scale_wsgi:application", "--workers", "2"]
        + ["--bind", f"127.0.0.1:{HTTP_PORT}", "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{HTTP_PORT}"
        for _ in range(100):
            try:
                subprocess.run(["curl", "-sf", "-o", "/dev/null", f"{base}/raw/pledges/"], check=True, timeout=10)
                break
            except subprocess.SubprocessError:
                time.sleep(0.3)
        auth = f"Authorization: {key}"
        wrk(f"{base}/api/v1/pledges/", 2, [auth])  # warm-up
        wrk(f"{base}/raw/pledges/", 2)
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text(FRESH_REQUESTS_LUA)
        runs = {"api, polled (the kept answer)": [], "api, through the view (each request new)": [], "raw": []}
        for _ in range(3):
            runs["api, polled (the kept answer)"].append(wrk(f"{base}/api/v1/pledges/", seconds, [auth]))
            runs["api, through the view (each request new)"].append(
                wrk(f"{base}/api/v1/pledges/", seconds, [auth], script)
            )
            runs["raw"].append(wrk(f"{base}/raw/pledges/", seconds))
        script.unlink()
        print(f"\nHTTP, bench_{size}: gunicorn 2 sync workers, wrk -t2 -c8, 3 x {seconds} s each, in turns\n")
        print("| | requests/s | p99 ms | non-2xx |")
        print("|---|---|---|---|")
        for label, samples in runs.items():
            rps = statistics.median(s[0] for s in samples)
            p99 = statistics.median(s[1] for s in samples)
            print(f"| {label} | {rps:.0f} | {p99:.1f} | {sum(s[2] for s in samples)} |")
        raw_rps = statistics.median(s[0] for s in runs["raw"])
        raw_p99 = statistics.median(s[1] for s in runs["raw"])
        print()
        for label, samples in runs.items():
            if label != "raw":
                rps = statistics.median(s[0] for s in samples) / raw_rps
                p99 = statistics.median(s[1] for s in samples) / raw_p99
                print(f"{label} / raw: requests/s {rps:.2f}x (target >= 0.5x), p99 {p99:.2f}x (<= 3x)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1m")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--http-seconds", type=int, default=10)
    args = parser.parse_args()
    sizes = [size.strip().lower() for size in args.sizes.split(",")]
    unknown = [size for size in sizes if size not in SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}: choose from {', '.join(SIZES)}")
    configure()
    if args.http:
        http(sizes[-1], args.http_seconds, args.rebuild)
        return
    results = measure(sizes, args.runs, args.rebuild)
    report(results, sizes, args.runs)


if __name__ == "__main__":
    main()
