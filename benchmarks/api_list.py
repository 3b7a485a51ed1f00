"""How much the pledge list endpoint costs over the bare minimum: 1,000 pledges fetched through
``GET /api/v1/pledges/`` (key authentication, permissions, filters, paging, serialization, JSON,
ETag) against the same rows fetched by one raw SQL query with its joins and dumped with json.dumps.

    python benchmarks/api_list.py            # a temporary SQLite database
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coalition_bench python benchmarks/api_list.py

With DATABASE_URL set, the script works in a scratch database next to the named one (Django's test
database, ``test_<name>``, created and dropped here), never in the named database itself.

The API caps pages at 200 rows. The headline figure is one request of all 1,000 rows, with the cap
raised for the benchmark only (``Pagination.max_page_size = 1000``); the figure for paging through
them 200 at a time, as a client must in production, is printed too. Times are the median of several
runs, the API and the raw query taking turns so that both see the same load, after a warm-up.
"""

import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLEDGES = 1000
RUNS = 15
CURRENCIES = {"EUR": "1", "USD": "1.0883", "GBP": "0.85263", "DKK": "7.4540", "JPY": "159.58", "PLN": "4.3175"}

RAW_SQL = """
SELECT p.id, c.slug AS coalition, m.code AS member, p.title, p.description, p.kind, p.channel, p.amount,
       p.currency, p.status, p.announced_on, p.confirmed_on, p.confirmed_at_meeting_id AS confirmed_at_meeting,
       p.source, p.external_ref, p.exchange_rate, p.exchange_rate_source, p.amount_eur, p.exchange_rate_date,
       p.disbursed_amount, p.created_at, p.updated_at, p.version
FROM contributions_pledge p
JOIN coalition_coalition c ON c.id = p.coalition_id
JOIN coalition_member m ON m.id = p.member_id
WHERE p.coalition_id = %s
ORDER BY p.announced_on DESC, p.id DESC
"""


def configure():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    if not os.environ.get("DATABASE_URL"):
        scratch = Path(tempfile.mkdtemp(prefix="coalition-bench-")) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
    import django

    django.setup()


def seed():
    """A coalition, ten members, a secretariat user with a key, and PLEDGES pledges."""
    from coalition.models import Coalition, Member, Membership
    from coalition.services import api_key_create, role_grant
    from contributions.models import ExchangeRate, Pledge
    from contributions.rates import to_eur

    coalition = Coalition.objects.create(name="Bench Coalition", slug="bench", target_eur=Decimal("1000000000"))
    members = []
    for i in range(10):
        member = Member.objects.create(code=f"B{i:02d}", name=f"Bench member {i}", kind="organisation")
        Membership.objects.create(member=member, coalition=coalition)
        members.append(member)
    day = date(2024, 2, 2)
    published = datetime.now(UTC)
    ExchangeRate.objects.bulk_create(
        ExchangeRate(currency=code, date=day, rate=Decimal(rate)) for code, rate in CURRENCIES.items() if code != "EUR"
    )
    codes = sorted(CURRENCIES)
    pledges = []
    for i in range(PLEDGES):
        currency = codes[i % len(codes)]
        amount = Decimal(10_000 + i * 137).quantize(Decimal("0.01"))
        rate = Decimal(CURRENCIES[currency])
        pledges.append(
            Pledge(
                coalition=coalition,
                member=members[i % len(members)],
                title=f"Pledge number {i} for the bench",
                description="Servers, laptops and licences for the armed forces' IT.",
                amount=amount,
                currency=currency,
                status=("announced", "confirmed")[i % 2],
                announced_on=day + timedelta(days=i % 90),
                confirmed_on=(day + timedelta(days=i % 90 + 5)) if i % 2 else None,
                source="https://example.org/pledges",
                external_ref=f"B-{i:05d}",
                amount_eur=to_eur(amount, rate),
                exchange_rate=rate,
                exchange_rate_date=day,
                exchange_rate_source="ECB",
                published_at=published,
            )
        )
    Pledge.objects.bulk_create(pledges)
    user, _created, _changes = role_grant(username="bench", role="secretariat", coalitions=[coalition])
    return coalition, api_key_create(owner=user, name="bench")[1]


def timed(*functions, runs=RUNS):
    """The median time of each function, run in turns (a, b, a, b, ...) so that both see the same
    machine: on a shared machine, load that comes and goes would otherwise favour one of them."""
    for function in functions:
        function()  # warm-up: connections, caches, the key's last-use write
    times = [[] for _ in functions]
    for _ in range(runs):
        for function, samples in zip(functions, times, strict=True):
            started = time.perf_counter()
            function()
            samples.append(time.perf_counter() - started)
    return [statistics.median(samples) for samples in times]


def main():
    configure()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases

    from coalition.api.pagination import Pagination

    databases = setup_databases(verbosity=0, interactive=False)
    try:
        coalition, raw_key = seed()
        cache.clear()
        client = Client(HTTP_AUTHORIZATION=f"Token {raw_key}")

        Pagination.max_page_size = PLEDGES  # the benchmark's single request of every row

        def api_one_request():
            response = client.get("/api/v1/pledges/", {"page_size": PLEDGES, "coalition": "bench"})
            assert response.status_code == 200, response.content[:300]
            return response

        # Checked once, outside the timings: the raw side does not parse its JSON either.
        assert len(json.loads(api_one_request().content)["results"]) == PLEDGES

        def api_paged():
            url, rows = "/api/v1/pledges/?page_size=200&coalition=bench", 0
            while url:
                data = json.loads(client.get(url).content)
                rows += len(data["results"])
                url = data["next"]
            assert rows == PLEDGES

        def raw():
            with connection.cursor() as cursor:
                cursor.execute(RAW_SQL, [coalition.pk])
                columns = [column[0] for column in cursor.description]
                rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            body = json.dumps(rows, default=str)
            assert len(rows) == PLEDGES
            return body

        api_time, raw_time = timed(api_one_request, raw)
        with CaptureQueriesContext(connection) as queries:
            api_one_request()
        api_queries = len(queries)
        with CaptureQueriesContext(connection) as queries:
            raw()
        raw_queries = len(queries)
        Pagination.max_page_size = 200
        paged_time, paged_raw_time = timed(api_paged, raw)
        with CaptureQueriesContext(connection) as queries:
            api_paged()
        paged_queries = len(queries)
        Pagination.max_page_size = PLEDGES
        size = len(api_one_request().content)
        vendor = connection.vendor
    finally:
        teardown_databases(databases, verbosity=0)

    ratio = api_time / raw_time
    print(f"database: {vendor}, {PLEDGES} pledges, median of {RUNS} runs")
    print(f"API  GET /api/v1/pledges/?page_size={PLEDGES}: {api_time * 1000:8.1f} ms, {api_queries} queries")
    print(f"     ({size:,} bytes of JSON)")
    print(f"raw  SELECT with joins + json.dumps:        {raw_time * 1000:8.1f} ms, {raw_queries} query")
    print(f"ratio API / raw: {ratio:.2f}x (target <= 3x)")
    print(
        f"API paging 200 at a time (the production cap): {paged_time * 1000:.1f} ms in {PLEDGES // 200} requests, "
        f"{paged_queries} queries, ratio {paged_time / paged_raw_time:.2f}x"
    )
    return 0 if ratio <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
