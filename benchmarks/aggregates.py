"""The dashboard and the summary read from the totals tables against the raw GROUP BYs they replace,
at 10k, 100k and 1M pledges in one run, and the pledge XLSX export of 283k rows streamed in flat memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coalition_bench .venv/bin/python benchmarks/aggregates.py
    ... benchmarks/aggregates.py --sizes 10000,100000 --repeat 7 --export-rows 0

PostgreSQL only. It creates Django's scratch ``test_<name>`` database (dropped at the end) and fills
it with INSERT ... SELECT FROM generate_series (10 coalitions, 50 members seated in all of them, five
currencies, three years of dates, every status, disbursed sums, 20 priorities per coalition with
allocations, and one history row per pledge), growing it from one size to the next; the totals are
then rebuilt once with ``rebuild_aggregates`` (a COPY-like load bypasses the services). For each size
it prints, measured in turns (a, b, c, a, b, c, ...; medians):

- ``GET /coalitions/<slug>/`` through Django's test client (session, permissions, every selector,
  charts, template): on a cache miss (the change stamp moved before each request, as a write does)
  and on a hit;
- ``GET /api/v1/summary/?coalition=<slug>`` with an API key, miss and hit;
- the raw SQL the figures need without the totals: the five GROUP BYs over the coalition's pledges
  (statuses with disbursed sums, members, months announced, months confirmed, priority coverage);

each surface's ratio to the raw SQL (target <= 0.1x) and to its own time at the smallest size
(target <= 1.5x). Then (``--export-rows``, default 283,000, at the largest size) it runs the XLSX and
CSV exports of that many rows in a subprocess each, through the view, and prints the time to the
first byte, the total time and the subprocess's peak RSS (target < 150 MB).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COALITIONS = 10
MEMBERS = 50
CURRENCIES = (("EUR", "1"), ("USD", "1.0883"), ("GBP", "0.8551"), ("PLN", "4.3123"), ("SEK", "11.525"))
#: Of every 1,000 pledges (by id): 50 drafts, 200 announced, 283 confirmed, 200 disbursing,
#: 200 fulfilled, 67 withdrawn; so ``status=confirmed`` selects 283k rows of 1M.
STATUS_SQL = """CASE
    WHEN i % 1000 < 50 THEN 'draft' WHEN i % 1000 < 250 THEN 'announced'
    WHEN i % 1000 < 533 THEN 'confirmed' WHEN i % 1000 < 733 THEN 'disbursing'
    WHEN i % 1000 < 933 THEN 'fulfilled' ELSE 'withdrawn' END"""

RAW_SQL = [
    """SELECT status, COUNT(*), COALESCE(SUM(amount_eur), 0), COALESCE(SUM(disbursed_eur), 0)
       FROM contributions_pledge WHERE coalition_id = %(c)s AND published_at IS NOT NULL GROUP BY status""",
    """SELECT m.code, m.name, m.kind, SUM(p.amount_eur),
              COALESCE(SUM(p.amount_eur) FILTER (WHERE p.status IN ('confirmed', 'disbursing', 'fulfilled')), 0),
              SUM(p.disbursed_eur)
       FROM contributions_pledge p JOIN coalition_member m ON m.id = p.member_id
       WHERE p.coalition_id = %(c)s AND p.published_at IS NOT NULL
         AND p.status IN ('announced', 'confirmed', 'disbursing', 'fulfilled')
       GROUP BY m.id, m.code, m.name, m.kind ORDER BY 4 DESC, m.name""",
    """SELECT date_trunc('month', announced_on), SUM(amount_eur) FROM contributions_pledge
       WHERE coalition_id = %(c)s AND published_at IS NOT NULL
         AND status IN ('announced', 'confirmed', 'disbursing', 'fulfilled') GROUP BY 1""",
    """SELECT date_trunc('month', confirmed_on), SUM(amount_eur) FROM contributions_pledge
       WHERE coalition_id = %(c)s AND published_at IS NOT NULL AND confirmed_on IS NOT NULL
         AND status IN ('confirmed', 'disbursing', 'fulfilled') GROUP BY 1""",
    """SELECT pp.id, pp.rank, pp.title, pp.status, pp.estimated_cost_eur,
              COALESCE(SUM(a.amount_eur) FILTER (
                  WHERE pl.status IN ('announced', 'confirmed', 'disbursing', 'fulfilled')), 0)
       FROM contributions_prioritypurchase pp
       LEFT JOIN contributions_allocation a ON a.priority_id = pp.id
       LEFT JOIN contributions_pledge pl ON pl.id = a.pledge_id
       WHERE pp.coalition_id = %(c)s AND pp.status <> 'dropped' GROUP BY pp.id ORDER BY pp.rank, pp.id""",
]


def configure():
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("benchmarks/aggregates.py needs DATABASE_URL=postgres://... (the scratch test_<name> is used)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-production-use-0123456789")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()


def build_base():
    """Coalitions, members, memberships, priorities, two users (steering everywhere, a partner key)."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from coalition.models import Coalition, Member, Membership, Seat
    from coalition.services import api_key_create
    from contributions.models import PriorityPurchase
    from meetings.models import Meeting

    coalitions = Coalition.objects.bulk_create(
        Coalition(name=f"Coalition {n}", slug=f"bench-{n}", target_eur=Decimal("5000000000")) for n in range(COALITIONS)
    )
    members = Member.objects.bulk_create(
        Member(code=f"M{n:02d}", name=f"Member {n}", kind="organisation") for n in range(MEMBERS)
    )
    Membership.objects.bulk_create(Membership(member=m, coalition=c) for c in coalitions for m in members)
    PriorityPurchase.objects.bulk_create(
        PriorityPurchase(coalition=c, title=f"Priority {r}", rank=r, estimated_cost_eur=Decimal(50_000_000))
        for c in coalitions
        for r in range(1, 21)
    )
    for c in coalitions:
        Meeting.objects.create(coalition=c, title="Steering group", starts_at=datetime(2024, 5, 31, 10, tzinfo=UTC))
    users = get_user_model().objects
    steering = users.create_user("bench-steering", password="bench-password")  # noqa: S106
    partner = users.create_user("bench-partner", password="bench-password")  # noqa: S106
    for c in coalitions:
        Seat.objects.create(user=steering, coalition=c, role="steering")
        Seat.objects.create(user=partner, coalition=c, role="partner")
    _api_key, raw_key = api_key_create(owner=partner, name="bench")
    return coalitions[0], steering, raw_key, [m.pk for m in members], [c.pk for c in coalitions]


def grow(start, stop, member_ids, coalition_ids):
    """Insert pledges ``start`` .. ``stop - 1`` (by series number), their history rows and allocations,
    in a few INSERT ... SELECT statements."""
    from django.db import connection

    from contributions.models import Pledge

    rates = " ".join(f"WHEN {n} THEN '{code}'" for n, (code, _rate) in enumerate(CURRENCIES))
    rate_values = " ".join(f"WHEN {n} THEN {rate}" for n, (_code, rate) in enumerate(CURRENCIES))
    m0, c0 = min(member_ids), min(coalition_ids)
    sql = f"""
        INSERT INTO contributions_pledge (
            version, created_at, updated_at, coalition_id, member_id, title, description, kind, channel,
            amount, currency, status, announced_on, confirmed_on, source, external_ref, amount_eur,
            exchange_rate, exchange_rate_date, exchange_rate_source, disbursed_amount, disbursed_eur,
            status_changed_at, published_at)
        SELECT 1, now(), now(), {c0} + (i % {COALITIONS}), {m0} + ((i / {COALITIONS}) % {MEMBERS}),
               'Pledge ' || i, '', CASE WHEN i % 7 = 0 THEN 'in_kind' ELSE 'financial' END,
               (ARRAY['bilateral', 'trust_fund', 'procurement_agency', 'other'])[1 + (i / 3) % 4],
               amount, CASE (i / {COALITIONS}) % {MEMBERS} % 5 {rates} END, status, announced,
               CASE WHEN status IN ('confirmed', 'disbursing', 'fulfilled') THEN announced + (i % 60)::int END,
               '', '', round(amount / CASE (i / {COALITIONS}) % {MEMBERS} % 5 {rate_values} END, 2),
               CASE (i / {COALITIONS}) % {MEMBERS} % 5 {rate_values} END, announced, 'ECB',
               CASE status WHEN 'disbursing' THEN round(amount / 2, 2) WHEN 'fulfilled' THEN amount ELSE 0 END,
               CASE status WHEN 'disbursing' THEN round(amount / 2 / CASE (i / {COALITIONS}) % {MEMBERS} % 5
                   {rate_values} END, 2) WHEN 'fulfilled' THEN round(amount / CASE (i / {COALITIONS}) % {MEMBERS}
                   % 5 {rate_values} END, 2) ELSE 0 END,
               now(), CASE WHEN status = 'draft' THEN NULL ELSE now() END
        FROM (
            SELECT i, (10000 + (i * 7919) % 4990000)::numeric AS amount, {STATUS_SQL} AS status,
                   DATE '2022-01-01' + (i * 37 % 1095)::int AS announced
            FROM generate_series({start}::bigint, {stop - 1}::bigint) AS i
        ) AS s
    """
    history = Pledge.history.model
    pledge_columns = {f.column for f in Pledge._meta.concrete_fields}
    columns, values = [], []
    for f in history._meta.concrete_fields:
        if f.column == "history_id":
            continue
        columns.append(f.column)
        if f.column in pledge_columns:
            values.append(f.column)
        else:
            values.append({"history_date": "now()", "history_type": "'+'"}.get(f.column, "NULL"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM contributions_pledge")
        (last_id,) = cursor.fetchone()
        cursor.execute(sql)
        cursor.execute(
            f"INSERT INTO {history._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(values)} FROM contributions_pledge WHERE id > %s",
            [last_id],
        )
        # One pledge in fifty that counts is earmarked, a tenth of its EUR value, for a priority.
        cursor.execute(
            """INSERT INTO contributions_allocation (version, created_at, updated_at, pledge_id, priority_id,
                                                      amount_eur, note)
               SELECT 1, now(), now(), p.id, pp.id, round(p.amount_eur / 10, 2), ''
               FROM contributions_pledge p
               JOIN contributions_prioritypurchase pp
                 ON pp.coalition_id = p.coalition_id AND pp.rank = 1 + p.id %% 20
               WHERE p.id > %s AND p.id %% 50 = 0
                 AND p.status IN ('announced', 'confirmed', 'disbursing', 'fulfilled')""",
            [last_id],
        )
        cursor.execute("VACUUM ANALYZE")


def interleaved(functions, repeat):
    """Median of each (setup, timed) pair, run in turns so a busy spell slows them alike."""
    for setup, timed in functions:
        setup()
        timed()
    times = [[] for _ in functions]
    for _ in range(repeat):
        for index, (setup, timed) in enumerate(functions):
            setup()
            started = time.perf_counter()
            timed()
            times[index].append(time.perf_counter() - started)
    return [statistics.median(series) for series in times]


def query_count(function):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        function()
    return len(queries)


EXPORT_CHILD = r"""
import json, os, sys, time
sys.path.insert(0, os.environ["BENCH_ROOT"])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
settings.EXPORTS_MAX_SYNC_ROWS = 10**9
client = Client()
client.force_login(get_user_model().objects.get(username="bench-steering"))
fmt = os.environ["BENCH_FORMAT"]
def peak_mb():
    # VmHWM, this process's own peak: getrusage's ru_maxrss would carry the parent's size across
    # fork and exec (Linux keeps the larger of the two), so a child of a big benchmark process
    # would report the parent's 287 MB as its own before reading a row.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
warm = client.get(f"/pledges/export.{fmt}", {"announced_before": "1900-01-01"})  # imports, URLs, session
b"".join(warm.streaming_content)
baseline = peak_mb()
started = time.perf_counter()
response = client.get(f"/pledges/export.{fmt}", {"status": "confirmed"})
assert response.status_code == 200, response.status_code
first = None
size = 0
for chunk in response.streaming_content:
    if first is None:
        first = time.perf_counter() - started
    size += len(chunk)
total = time.perf_counter() - started
print(json.dumps({"first": first, "total": total, "bytes": size, "baseline_mb": baseline,
                  "rss_mb": peak_mb()}))
"""


def export_run(fmt, database_name):
    from django.db import connection

    settings_dict = connection.settings_dict
    url = (
        f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}"
        f"/{database_name}"
    )
    env = {**os.environ, "DATABASE_URL": url, "BENCH_ROOT": str(ROOT), "BENCH_FORMAT": fmt}
    out = subprocess.run(
        [sys.executable, "-c", EXPORT_CHILD], env=env, capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="pledge counts, comma-separated, growing")
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--export-rows", type=int, default=283_000, help="0: no export run")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    configure()

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings, setup_databases, teardown_databases
    from rest_framework.test import APIClient

    from coalition import stamps
    from contributions.models import Pledge

    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    ).enable()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        coalition, steering, raw_key, member_ids, coalition_ids = build_base()
        browser = Client()
        browser.force_login(steering)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {raw_key}")
        dashboard_url = f"/coalitions/{coalition.slug}/"

        def dashboard():
            assert browser.get(dashboard_url).status_code == 200

        def summary():
            assert api.get("/api/v1/summary/", {"coalition": coalition.slug}).status_code == 200

        def raw():
            with connection.cursor() as cursor:
                for sql in RAW_SQL:
                    cursor.execute(sql, {"c": coalition.pk})
                    cursor.fetchall()

        def miss():
            stamps.bump([coalition.pk])

        def nothing():
            pass

        print(f"database: PostgreSQL {connection.pg_version} ({connection.settings_dict['NAME']}), "
              f"{COALITIONS} coalitions, {MEMBERS} members, medians of {args.repeat} in turns")  # fmt: skip
        header = "| pledges | surface | ms | queries | ratio to raw | ratio to own time at first size |"
        print(header)
        print("|---|---|---|---|---|---|")
        first_times = {}
        done = 0
        for size in sizes:
            started = time.perf_counter()
            grow(done, size, member_ids, coalition_ids)
            done = size
            grown = time.perf_counter() - started
            started = time.perf_counter()
            call_command("rebuild_aggregates", stdout=open(os.devnull, "w"))  # noqa: SIM115
            rebuilt = time.perf_counter() - started
            in_coalition = Pledge.objects.filter(coalition=coalition).count()
            print(f"| {size:,} | (built in {grown:.0f} s, totals rebuilt in {rebuilt:.0f} s; "
                  f"{in_coalition:,} pledges in the measured coalition) | | | | |")  # fmt: skip
            surfaces = [
                ("dashboard, cache miss", miss, dashboard),
                ("dashboard, cache hit", nothing, dashboard),
                ("summary, cache miss", miss, summary),
                ("summary, cache hit", nothing, summary),
                ("raw 5 GROUP BYs", nothing, raw),
            ]
            times = interleaved([(setup, timed) for _name, setup, timed in surfaces], args.repeat)
            raw_time = times[-1]
            for (name, setup, timed), seconds in zip(surfaces, times, strict=True):
                setup()
                queries = query_count(timed)
                first_times.setdefault(name, seconds)
                ratio = "" if name.startswith("raw") else f"{seconds / raw_time:.3f}x"
                growth = seconds / first_times[name]
                print(f"| {size:,} | {name} | {seconds * 1000:.1f} | {queries} | {ratio} | {growth:.2f}x |")
        if args.export_rows:
            exported = Pledge.objects.filter(status="confirmed").count()
            print(f"\nexports of status=confirmed: {exported:,} rows (target {args.export_rows:,}), "
                  "each in a fresh subprocess through GET /pledges/export.<fmt>")  # fmt: skip
            print("| format | first byte | total | bytes | peak RSS | RSS before the export |")
            print("|---|---|---|---|---|---|")
            for fmt in ("xlsx", "csv"):
                result = export_run(fmt, connection.settings_dict["NAME"])
                print(f"| {fmt} | {result['first']:.2f} s | {result['total']:.1f} s | {result['bytes'] / 1e6:.1f} MB "
                      f"| {result['rss_mb']:.0f} MB | {result['baseline_mb']:.0f} MB |")  # fmt: skip
        return 0
    finally:
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
