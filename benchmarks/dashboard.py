"""The dashboard's server time with 100,000 pledges, as a ratio to the raw SQL aggregates it needs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coalition_bench_dashboard .venv/bin/python benchmarks/dashboard.py
    .venv/bin/python benchmarks/dashboard.py            # a temporary SQLite file
    .venv/bin/python benchmarks/dashboard.py --pledges 20000 --repeat 9

It builds its own scratch database (PostgreSQL: Django's ``test_<name>`` database, dropped at the end;
SQLite: a temporary file), fills one coalition with N pledges, their history rows, priorities,
allocations and meetings, then in one run measures:

- the dashboard: the median server time of ``GET /coalitions/<slug>/`` through Django's test client
  (session, sign-in, permissions, every selector, charts and template), and its query count;
- the raw SQL: the same figures hand-written as SQL through a cursor (status totals with the
  disbursed sum, members, months announced, months confirmed, priority coverage), median time;

and prints both, and their ratio (target <= 1.5).
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RAW_SQL = {
    "status": """
        SELECT status, COUNT(*), COALESCE(SUM(amount_eur), 0), COALESCE(SUM(disbursed_eur), 0)
        FROM contributions_pledge
        WHERE coalition_id = %(c)s AND status <> 'draft'
        GROUP BY status
    """,
    "members": """
        SELECT m.code, m.name, m.kind, SUM(p.amount_eur),
               COALESCE(SUM(p.amount_eur) FILTER (WHERE p.status IN ('confirmed', 'disbursing', 'fulfilled')), 0),
               SUM(p.disbursed_eur)
        FROM contributions_pledge p JOIN coalition_member m ON m.id = p.member_id
        WHERE p.coalition_id = %(c)s AND p.status IN ('announced', 'confirmed', 'disbursing', 'fulfilled')
        GROUP BY m.id, m.code, m.name, m.kind
        ORDER BY 4 DESC, m.name
    """,
    "months_announced": """
        SELECT {month_announced}, SUM(amount_eur)
        FROM contributions_pledge
        WHERE coalition_id = %(c)s AND status IN ('announced', 'confirmed', 'disbursing', 'fulfilled')
        GROUP BY 1
    """,
    "months_confirmed": """
        SELECT {month_confirmed}, SUM(amount_eur)
        FROM contributions_pledge
        WHERE coalition_id = %(c)s AND status IN ('confirmed', 'disbursing', 'fulfilled')
          AND confirmed_on IS NOT NULL
        GROUP BY 1
    """,
    "priorities": """
        SELECT pp.id, pp.rank, pp.title, pp.status, pp.estimated_cost_eur,
               COALESCE(SUM(a.amount_eur) FILTER (
                   WHERE pl.status IN ('announced', 'confirmed', 'disbursing', 'fulfilled')), 0)
        FROM contributions_prioritypurchase pp
        LEFT JOIN contributions_allocation a ON a.priority_id = pp.id
        LEFT JOIN contributions_pledge pl ON pl.id = a.pledge_id
        WHERE pp.coalition_id = %(c)s AND pp.status <> 'dropped'
        GROUP BY pp.id
        ORDER BY pp.rank, pp.id
    """,
    # Issue 10's figures: the member table and the same figures as the pledges' history had them when
    # the last held meeting ended (the "since" columns are the difference), kind and channel, the
    # coverage split, data as of and the meetings on the time chart.
    "member_table": """
        SELECT p.member_id, m.code, m.name, SUM(p.amount_eur),
               COALESCE(SUM(p.amount_eur) FILTER (WHERE p.status IN ('confirmed', 'disbursing', 'fulfilled')), 0),
               COALESCE(SUM(p.amount_eur) FILTER (WHERE p.status = 'announced'), 0),
               SUM(p.disbursed_eur),
               MIN(p.announced_on) FILTER (WHERE p.status = 'announced')
        FROM contributions_pledge p JOIN coalition_member m ON m.id = p.member_id
        WHERE p.coalition_id = %(c)s AND p.published_at IS NOT NULL
          AND p.status IN ('announced', 'confirmed', 'disbursing', 'fulfilled')
        GROUP BY p.member_id, m.code, m.name
    """,
    "members_as_of": """
        SELECT h.member_id, m.code, m.name, SUM(h.amount_eur),
               COALESCE(SUM(h.amount_eur) FILTER (WHERE h.status IN ('confirmed', 'disbursing', 'fulfilled')), 0),
               SUM(h.disbursed_eur)
        FROM contributions_historicalpledge h JOIN coalition_member m ON m.id = h.member_id
        WHERE h.coalition_id = %(c)s AND h.history_date <= %(cutoff)s AND h.published_at IS NOT NULL
          AND h.status IN ('announced', 'confirmed', 'disbursing', 'fulfilled') AND h.history_type <> '-'
          AND NOT EXISTS (
              SELECT 1 FROM contributions_historicalpledge l
              WHERE l.id = h.id AND l.history_date <= %(cutoff)s
                AND (l.history_date > h.history_date
                     OR (l.history_date = h.history_date AND l.history_id > h.history_id)))
        GROUP BY h.member_id, m.code, m.name
    """,
    "seats": """
        SELECT s.id, s.member_id, s.role, m.code, m.name
        FROM coalition_membership s JOIN coalition_member m ON m.id = s.member_id
        WHERE s.coalition_id = %(c)s
    """,
    "kind_channel": """
        SELECT kind, channel, COUNT(*), SUM(amount_eur),
               COALESCE(SUM(amount_eur) FILTER (WHERE status IN ('confirmed', 'disbursing', 'fulfilled')), 0),
               COALESCE(SUM(amount_eur) FILTER (WHERE status = 'announced'), 0),
               SUM(disbursed_eur)
        FROM contributions_pledge
        WHERE coalition_id = %(c)s AND published_at IS NOT NULL
          AND status IN ('announced', 'confirmed', 'disbursing', 'fulfilled')
        GROUP BY kind, channel
    """,
    "coverage_split": """
        SELECT pp.id, pp.rank, pp.title, pp.status, pp.estimated_cost_eur,
               COALESCE(SUM(a.amount_eur) FILTER (
                   WHERE pl.status IN ('announced', 'confirmed', 'disbursing', 'fulfilled')), 0),
               COALESCE(SUM(a.amount_eur) FILTER (WHERE pl.status IN ('confirmed', 'disbursing', 'fulfilled')), 0)
        FROM contributions_prioritypurchase pp
        LEFT JOIN contributions_allocation a ON a.priority_id = pp.id
        LEFT JOIN contributions_pledge pl ON pl.id = a.pledge_id
        WHERE pp.coalition_id = %(c)s AND pp.status <> 'dropped'
        GROUP BY pp.id
        ORDER BY pp.rank, pp.id
    """,
    "data_as_of": """
        SELECT
          (SELECT MAX(updated_at) FROM contributions_pledge WHERE coalition_id = %(c)s AND published_at IS NOT NULL),
          (SELECT MAX(d.updated_at) FROM contributions_disbursement d JOIN contributions_pledge p ON p.id = d.pledge_id
           WHERE p.coalition_id = %(c)s AND p.published_at IS NOT NULL),
          (SELECT MAX(a.updated_at) FROM contributions_allocation a JOIN contributions_pledge p ON p.id = a.pledge_id
           WHERE p.coalition_id = %(c)s AND p.published_at IS NOT NULL),
          (SELECT MAX(updated_at) FROM contributions_prioritypurchase WHERE coalition_id = %(c)s)
    """,
    "held_meetings": """
        SELECT id, title, starts_at FROM meetings_meeting
        WHERE coalition_id = %(c)s AND status = 'held' ORDER BY starts_at, id
    """,
}
#: When the benchmark's last held meeting (31 May 2024, no end recorded) ends for the "since" figures:
#: the end of its day in Kyiv (reports.selectors.meeting_cutoff).
CUTOFF = datetime(2024, 5, 31, 21, tzinfo=UTC)
MONTH = {
    "postgresql": ("date_trunc('month', announced_on)", "date_trunc('month', confirmed_on)"),
    "sqlite": ("strftime('%%Y-%%m', announced_on)", "strftime('%%Y-%%m', confirmed_on)"),
}


def configure():
    """Point Django at a scratch database before it starts; returns the SQLite scratch directory."""
    scratch = None
    if not os.environ.get("DATABASE_URL"):
        scratch = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-production-use-0123456789")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    return scratch


def build(pledge_count, seed=7):
    """One coalition with ``pledge_count`` pledges and realistic neighbours (bulk inserted)."""
    import random

    from django.contrib.auth import get_user_model

    from coalition.models import Coalition, Member, Membership, Seat
    from contributions.models import Allocation, Disbursement, Pledge, PriorityPurchase
    from meetings.models import ActionItem, Decision, Meeting

    rng = random.Random(seed)
    coalition = Coalition.objects.create(name="Benchmark Coalition", slug="bench", target_eur=Decimal("5000000000"))
    codes = ["EE", "LU", "BE", "GB", "DK", "IS", "IT", "LV", "LT", "NL", "DE", "PL", "US", "JP", "FR", "ES", "PT",
             "SE", "FI", "NO", "CZ", "SK", "SI", "HR", "RO", "BG", "GR", "IE", "AT", "CA"]  # fmt: skip
    members = Member.objects.bulk_create(Member(code=code, name=f"Country {code}", kind="country") for code in codes)
    Membership.objects.bulk_create(Membership(member=m, coalition=coalition) for m in members)
    statuses = ["announced"] * 3 + ["confirmed"] * 4 + ["disbursing"] * 2 + ["fulfilled", "withdrawn", "draft"]
    start = date(2023, 6, 1)
    pledges = []
    for i in range(pledge_count):
        status = rng.choice(statuses)
        amount = Decimal(rng.randrange(10_000, 5_000_000))
        announced = start + timedelta(days=rng.randrange(0, 900))
        disbursed = {"disbursing": amount / 2, "fulfilled": amount}.get(status, Decimal(0)).quantize(Decimal("0.01"))
        confirmed = status in ("confirmed", "disbursing", "fulfilled")
        pledges.append(
            Pledge(
                coalition=coalition,
                member=members[i % len(members)],
                title=f"Pledge {i}",
                amount=amount,
                currency="EUR",
                amount_eur=amount,
                exchange_rate=Decimal(1),
                exchange_rate_date=announced,
                exchange_rate_source="EUR",
                status=status,
                announced_on=announced,
                confirmed_on=announced + timedelta(days=rng.randrange(0, 60)) if confirmed else None,
                disbursed_amount=disbursed,
                disbursed_eur=disbursed,
                published_at=None if status == "draft" else datetime.now(UTC),
            )
        )
    Pledge.objects.bulk_create(pledges, batch_size=5000)
    Pledge.history.bulk_history_create(pledges, batch_size=5000, default_date=datetime(2024, 1, 1, tzinfo=UTC))
    Disbursement.objects.bulk_create(
        (
            Disbursement(pledge=p, amount=p.disbursed_amount, date=p.confirmed_on + timedelta(days=30))
            for p in pledges
            if p.disbursed_amount
        ),
        batch_size=5000,
    )
    priorities = PriorityPurchase.objects.bulk_create(
        PriorityPurchase(coalition=coalition, title=f"Priority {r}", rank=r, estimated_cost_eur=Decimal(50_000_000))
        for r in range(1, 21)
    )
    allocatable = [p for p in pledges if p.status in Pledge.COUNTED][:2000]
    Allocation.objects.bulk_create(
        Allocation(
            pledge=p, priority=priorities[i % len(priorities)], amount_eur=(p.amount_eur / 4).quantize(Decimal("0.01"))
        )
        for i, p in enumerate(allocatable)
    )
    for n, day in enumerate((date(2024, 2, 2), date(2024, 4, 18), date(2024, 5, 31))):
        meeting = Meeting.objects.create(
            coalition=coalition,
            title=f"Steering group {n + 1}",
            starts_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
            status="held",
        )
        Decision.objects.create(meeting=meeting, text=f"Decision of meeting {n + 1}")
        ActionItem.objects.create(meeting=meeting, text=f"Action of meeting {n + 1}", owner=members[n])
    Meeting.objects.create(coalition=coalition, title="Next", starts_at=datetime(2099, 1, 1, tzinfo=UTC))
    user = get_user_model().objects.create_user("bench-steering", password="bench-password")  # noqa: S106
    Seat.objects.create(user=user, coalition=coalition, role="steering")
    return coalition, user


def analyse():
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


def median_times(functions, repeat):
    """Median wall time of each function, run in turns (a, b, a, b, ...) so that a busy machine slows
    them alike instead of skewing whichever ran during the busy spell."""
    for function in functions:
        function()  # warm caches and connections
    times = [[] for _ in functions]
    for _ in range(repeat):
        for index, function in enumerate(functions):
            started = time.perf_counter()
            function()
            times[index].append(time.perf_counter() - started)
    return [statistics.median(series) for series in times]


def raw_sql(coalition_id):
    from django.db import connection

    month_announced, month_confirmed = MONTH[connection.vendor]
    statements = [
        sql.format(month_announced=month_announced, month_confirmed=month_confirmed) for sql in RAW_SQL.values()
    ]

    cutoff = connection.ops.adapt_datetimefield_value(CUTOFF)

    def run():
        results = []
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql, {"c": coalition_id, "cutoff": cutoff})
                results.append(cursor.fetchall())
        return results

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pledges", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    scratch = configure()

    from django.db import connection
    from django.test import Client
    from django.test.utils import (
        CaptureQueriesContext,
        override_settings,
        setup_databases,
        teardown_databases,
    )

    # No setup_test_environment(): its template instrumentation would be timed too.
    # DEBUG is off (as served), so no collectstatic manifest is needed for {% static %} here.
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        old_config = None
    else:
        old_config = setup_databases(verbosity=0, interactive=False)
    try:
        started = time.perf_counter()
        coalition, user = build(args.pledges)
        analyse()
        print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
        built = time.perf_counter() - started
        print(f"data: {args.pledges:,} pledges with history rows and 20 priorities (built in {built:.1f} s)")

        client = Client()
        client.force_login(user)
        url = f"/coalitions/{coalition.slug}/"

        def view():
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        view()
        with CaptureQueriesContext(connection) as queries:
            view()
        query_count = len(queries)  # read now: the next request clears the connection's query log
        view_time, sql_time = median_times([view, raw_sql(coalition.pk)], args.repeat)
        ratio = view_time / sql_time
        print(f"dashboard view (GET {url}, median of {args.repeat}): {view_time * 1000:.1f} ms, {query_count} queries")
        print(f"raw SQL aggregates ({len(RAW_SQL)} statements, same runs, in turns): {sql_time * 1000:.1f} ms")
        print(f"ratio: {ratio:.2f}x (target <= 1.5x) -> {'OK' if ratio <= 1.5 else 'OVER TARGET'}")
        return 0 if ratio <= 1.5 else 1
    finally:
        if old_config is not None:
            teardown_databases(old_config, verbosity=0)
        if scratch is not None:
            connection.close()
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
