"""Does the web scale out? The partner list (``GET /api/v1/pledges/?coalition=bench``, 50 rows a page,
as a partner's key) loaded through HAProxy with wrk, against one gunicorn replica and against three,
in turns (one, three, one, three, ...) so both see the same machine; and, in the same turns, the
list's own SQL run by as many connections as wrk opens, as the ceiling the database alone allows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coalition_bench REDIS_URL=redis://127.0.0.1:6379/7 \\
        python benchmarks/replicas.py [--seconds 10] [--connections 8] [--rounds 3]

Each replica is one gunicorn worker process with 4 threads (one Python process: about one core at
most, as a pod with one CPU), so three replicas can use up to three cores. The script works in a
scratch database next to the named one (``test_<name>``, created and dropped here), starts the
replicas and HAProxy on loopback ports of TEST_PORTS (16500-16599), and prints requests/s, the ratio,
the non-2xx answers and socket errors (there must be none: it exits 1 otherwise), and the CPU seconds
the replicas, HAProxy and wrk used, which show what limits the ratio.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLEDGES = 500
PATH = "/api/v1/pledges/?coalition=bench"
RAW_SQL = """
SELECT p.id, c.slug, m.code, p.title, p.description, p.kind, p.channel, p.amount, p.currency, p.status,
       p.announced_on, p.confirmed_on, p.confirmed_at_meeting_id, p.source, p.external_ref, p.exchange_rate,
       p.exchange_rate_source, p.amount_eur, p.exchange_rate_date, p.disbursed_amount, p.created_at,
       p.updated_at, p.version
FROM contributions_pledge p
JOIN coalition_coalition c ON c.id = p.coalition_id
JOIN coalition_member m ON m.id = p.member_id
WHERE p.coalition_id = %s AND p.published_at IS NOT NULL
ORDER BY p.announced_on DESC, p.id DESC
LIMIT 50
"""


def configure():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("benchmarks/replicas.py needs DATABASE_URL=postgres://... and REDIS_URL=redis://... (shared state)")
    if not shutil.which("wrk") or not (shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists()):
        sys.exit("benchmarks/replicas.py needs wrk and haproxy (apt-get install wrk haproxy)")
    import django

    django.setup()


def seed():
    """A coalition with PLEDGES published pledges and a partner with a key."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import api_list

    from coalition.services import api_key_create, role_grant

    api_list.PLEDGES = PLEDGES
    coalition, _secretariat_key = api_list.seed()
    partner, _created, _changes = role_grant(username="bench-partner", role="partner", coalitions=[coalition])
    return coalition, api_key_create(owner=partner, name="bench")[1]


HAPROXY = """\
global
    maxconn 1024
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
frontend one
    bind 127.0.0.1:{one}
    default_backend one
frontend three
    bind 127.0.0.1:{three}
    default_backend three
backend one
    balance roundrobin
    server web1 127.0.0.1:{web1}
backend three
    balance roundrobin
{servers}
"""


def cpu_seconds(*groups):
    """User + system CPU seconds so far of every process in the given process groups."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in groups:  # the process group (fields start after the command's name)
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def raw(coalition_id, seconds, connections):
    """The list's SQL from ``connections`` threads for ``seconds``: queries/s the database allows."""
    import psycopg
    from django.db import connection

    db = connection.settings_dict
    conninfo = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432, "user": db["USER"]}
    conninfo["dbname"] = db["NAME"]
    if db["PASSWORD"]:
        conninfo["password"] = db["PASSWORD"]
    counts = [0] * connections
    stop = time.monotonic() + seconds

    def run(i):
        with psycopg.connect(**conninfo) as conn:
            while time.monotonic() < stop:
                conn.execute(RAW_SQL, [coalition_id]).fetchall()
                counts[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    configure()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from tests.servers import Server, free_port, gunicorn, portal_env, server_database_url, wait_serving, wrk

    databases = setup_databases(verbosity=0, interactive=False)
    logs = Path(tempfile.mkdtemp(prefix="coalition-replicas-bench-"))
    servers = []
    try:
        coalition, key = seed()
        one, three = free_port(), free_port()
        env = portal_env(
            server_database_url(), f"http://127.0.0.1:{three}", API_THROTTLE_KEY="100000000/hour", LOG_LEVEL="ERROR"
        )
        ports = {f"web{n}": free_port() for n in (1, 2, 3)}
        replicas = {name: gunicorn(name, port, env, logs, workers=1, threads=4) for name, port in ports.items()}
        servers += replicas.values()
        for name, server in replicas.items():
            wait_serving(server, ports[name])
        config = logs / "bench.cfg"
        config.write_text(HAPROXY.format(
            one=one, three=three, web1=ports["web1"],
            servers="\n".join(f"    server {name} 127.0.0.1:{port}" for name, port in ports.items()),
        ))  # fmt: skip
        proxy = Server("haproxy", [shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f", str(config)], logs)
        servers.append(proxy.start())
        time.sleep(0.5)
        proxy.ensure_running()
        groups = {name: server.process.pid for name, server in replicas.items()}
        for port in (one, three):  # warm-up: imports, connections, the key's last-use write
            wrk(port, key, 2, args.connections, PATH)

        figures = {"one": [], "three": [], "raw": []}
        cpu = {"one": [], "three": []}
        bad = 0
        for _ in range(args.rounds):
            for label, port in (("one", one), ("three", three)):
                before = {name: cpu_seconds(pid) for name, pid in groups.items()}
                proxy_before = cpu_seconds(proxy.process.pid)
                rate, non_2xx, errors, requests, wrk_cpu = wrk(port, key, args.seconds, args.connections, PATH)
                used = {name: cpu_seconds(pid) - before[name] for name, pid in groups.items()}
                cpu[label].append((used, cpu_seconds(proxy.process.pid) - proxy_before, wrk_cpu))
                figures[label].append(rate)
                bad += non_2xx + errors
                print(f"  {label:5} replica(s): {rate:8.1f} requests/s ({requests} requests, "
                      f"{non_2xx} non-2xx, {errors} socket errors)", flush=True)  # fmt: skip
            figures["raw"].append(raw(coalition.pk, args.seconds, args.connections))
            print(f"  raw SQL, {args.connections} connections: {figures['raw'][-1]:8.1f} queries/s", flush=True)
        vendor = connection.vendor
    finally:
        for server in servers:
            server.stop()
        teardown_databases(databases, verbosity=0)
        shutil.rmtree(logs, ignore_errors=True)

    one_rate, three_rate, raw_rate = (statistics.median(figures[k]) for k in ("one", "three", "raw"))
    print(f"\n{vendor}, {PLEDGES} pledges, partner list of 50 rows, wrk -c{args.connections} -d{args.seconds}s, "
          f"median of {args.rounds} rounds, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"1 replica : {one_rate:8.1f} requests/s")
    print(f"3 replicas: {three_rate:8.1f} requests/s")
    rounds = ", ".join(f"{t / o:.2f}x" for o, t in zip(figures["one"], figures["three"], strict=True))
    print(f"ratio 3 / 1: {three_rate / one_rate:.2f}x (round by round: {rounds})")
    print(f"raw SQL   : {raw_rate:8.1f} queries/s (the database's ceiling for this list: {raw_rate / three_rate:.1f}x "
          "the three replicas)")  # fmt: skip
    for label in ("one", "three"):
        used, proxy_cpu, wrk_cpu = cpu[label][-1]
        replicas_cpu = ", ".join(f"{name} {seconds:.1f}" for name, seconds in used.items() if seconds > 0.05)
        per_request = sum(used.values()) / (figures[label][-1] * args.seconds) * 1000
        print(f"CPU seconds in the last {label}-replica run of {args.seconds} s: {replicas_cpu} "
              f"({sum(used.values()) / args.seconds:.2f} cores, {per_request:.1f} ms a request); "
              f"haproxy {proxy_cpu:.1f}, wrk {wrk_cpu:.1f}")  # fmt: skip
    print(f"errors (non-2xx and socket errors): {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
