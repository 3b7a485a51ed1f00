"""What the public page's cache buys: ``GET /public/<slug>/`` served from the cache against the same page
rendered from the database (cache emptied before each request), both against the hand-written SQL
that computes its figures, for one coalition with 10,000 published pledges.

    python benchmarks/public_page.py            # a temporary SQLite database, the local-memory cache
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coalition_bench REDIS_URL=redis://127.0.0.1:6379/9 \
        python benchmarks/public_page.py

With DATABASE_URL set, the script works in a scratch database next to the named one (``test_<name>``,
created and dropped here). With REDIS_URL the cache is Redis (the benchmark empties that database).
The three take turns (cached, uncached, raw, cached, ...) and each figure is the median of the runs.
"""

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

PLEDGES = 10_000
RUNS = 15

RAW_SQL = [
    """SELECT status, COUNT(*), SUM(amount_eur), SUM(disbursed_eur) FROM contributions_pledge
       WHERE coalition_id = %s AND published_at IS NOT NULL GROUP BY status""",
    """SELECT m.code, m.name, SUM(p.amount_eur) FROM contributions_pledge p
       JOIN coalition_member m ON m.id = p.member_id
       WHERE p.coalition_id = %s AND p.published_at IS NOT NULL AND p.status <> 'withdrawn'
       GROUP BY m.code, m.name ORDER BY 3 DESC""",
    """SELECT pp.id, pp.title, pp.estimated_cost_eur, COALESCE(SUM(a.amount_eur), 0)
       FROM contributions_prioritypurchase pp LEFT JOIN contributions_allocation a ON a.priority_id = pp.id
       WHERE pp.coalition_id = %s GROUP BY pp.id, pp.title, pp.estimated_cost_eur ORDER BY pp.rank""",
    """SELECT mt.id, mt.title, mt.starts_at, d.text FROM meetings_meeting mt
       LEFT JOIN meetings_decision d ON d.meeting_id = mt.id
       WHERE mt.coalition_id = %s AND mt.status = 'held' ORDER BY mt.starts_at DESC""",
]


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
    """A public coalition, ten members, PLEDGES published pledges, 20 priorities, four held meetings."""
    from simple_history.utils import bulk_create_with_history

    from coalition.models import Coalition, Member, Membership
    from contributions.models import Pledge, PriorityPurchase
    from meetings.models import Decision, Meeting

    coalition = Coalition.objects.create(
        name="Bench Coalition", slug="bench", target_eur=Decimal("1000000000"), public=True
    )
    members = [
        Member.objects.create(code=f"B{i:02d}", name=f"Bench member {i}", kind="organisation") for i in range(10)
    ]
    Membership.objects.bulk_create(Membership(member=m, coalition=coalition) for m in members)
    day, now = date(2024, 2, 2), datetime.now(UTC)
    # With their history rows, as the services write them: the page's fingerprint reads the newest one.
    bulk_create_with_history(
        [
            Pledge(
                coalition=coalition,
                member=members[i % 10],
                title=f"Pledge {i}",
                amount=Decimal(10_000 + i),
                currency="EUR",
                status=("announced", "confirmed")[i % 2],
                announced_on=day + timedelta(days=i % 700),
                confirmed_on=(day + timedelta(days=i % 700 + 5)) if i % 2 else None,
                amount_eur=Decimal(10_000 + i),
                exchange_rate=Decimal(1),
                exchange_rate_date=day,
                published_at=now,
            )
            for i in range(PLEDGES)
        ],
        Pledge,
    )
    PriorityPurchase.objects.bulk_create(
        PriorityPurchase(coalition=coalition, title=f"Priority {i}", rank=i + 1, estimated_cost_eur=Decimal(5_000_000))
        for i in range(20)
    )
    meetings = Meeting.objects.bulk_create(
        Meeting(
            coalition=coalition,
            title=f"Steering group {i}",
            starts_at=now - timedelta(days=30 * (i + 1)),
            status="held",
            minutes_status="approved",
        )
        for i in range(4)
    )
    Decision.objects.bulk_create(
        Decision(meeting=m, text=f"Decision {j} of {m.title}") for m in meetings for j in range(3)
    )
    return coalition


def timed(*functions, runs=RUNS):
    """The median time of each function, run in turns so that all see the same machine."""
    for function in functions:
        function()
    times = [[] for _ in functions]
    for _ in range(runs):
        for function, samples in zip(functions, times, strict=True):
            started = time.perf_counter()
            function()
            samples.append(time.perf_counter() - started)
    return [statistics.median(samples) for samples in times]


def main():
    configure()
    from django.core.cache import cache, caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings, setup_databases, teardown_databases

    # DEBUG is off (as served): {% static %} without a collectstatic manifest.
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        coalition = seed()
        cache.clear()
        client = Client()

        def cached():
            response = client.get("/public/bench/")
            assert response.status_code == 200
            return response

        def uncached():
            cache.clear()
            return cached()

        def raw():
            with connection.cursor() as cursor:
                for statement in RAW_SQL:
                    cursor.execute(statement, [coalition.pk])
                    cursor.fetchall()

        assert b"Bench member 9" in uncached().content
        cached_time, uncached_time, raw_time = timed(cached, uncached, raw)
        counts = {}
        for name, function in (("uncached", uncached), ("cached", cached), ("raw", raw)):
            with CaptureQueriesContext(connection) as queries:
                function()
            counts[name] = len(queries)
        vendor = connection.vendor
        backend = type(caches["default"]).__name__
    finally:
        teardown_databases(databases, verbosity=0)

    print(f"database: {vendor}, cache: {backend}, {PLEDGES:,} published pledges, median of {RUNS} runs (in turns)")
    print(f"cached   GET /public/bench/: {cached_time * 1000:8.1f} ms, {counts['cached']} queries")
    print(f"uncached GET /public/bench/: {uncached_time * 1000:8.1f} ms, {counts['uncached']} queries")
    print(f"raw SQL of its figures:      {raw_time * 1000:8.1f} ms, {counts['raw']} statements")
    print(f"uncached / cached: {uncached_time / cached_time:.1f}x")
    print(f"cached / raw: {cached_time / raw_time:.2f}x; uncached / raw: {uncached_time / raw_time:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
