"""Real servers for the tests that run the portal beyond one process: gunicorn replicas of this
checkout, HAProxy in front of them, PgBouncer in front of PostgreSQL, a PostgreSQL cluster of our own,
and a small HTTP client that signs in as a browser does (cookies, the CSRF token, no redirects
followed, so every answer is seen).

Ports come from PORTS (16500-16599 unless TEST_PORTS="first-last" says otherwise), the first free one.
Run as root (CI's containers), PostgreSQL and PgBouncer refuse to start: they run as the ``postgres``
user then, from a directory that user owns.
"""

import http.client
import json as jsonlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_first, _last = (int(n) for n in os.environ.get("TEST_PORTS", "16500-16599").split("-"))
PORTS = range(_first, _last + 1)
_taken = set()


def free_port():
    """A port of PORTS nobody listens on (nor was given out by this process before)."""
    for port in PORTS:
        if port in _taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port
    pytest.fail(f"No free port in {PORTS.start}-{PORTS.stop - 1}", pytrace=False)


def server_dir(prefix):
    """A fresh directory the servers may write in; owned by ``postgres`` when we are root."""
    path = Path(tempfile.mkdtemp(prefix=f"coalition-{prefix}-"))
    path.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return path


def as_server_user(command):
    """``command`` run as the postgres user when we are root (PostgreSQL and PgBouncer refuse root)."""
    if os.geteuid() != 0:
        return command
    pwd.getpwnam("postgres")
    return ["runuser", "-u", "postgres", "--", *command]


def wait_until(condition, timeout, message, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout} s waiting for {message() if callable(message) else message}", pytrace=False)


def answers(port, path="/health/live", host="127.0.0.1"):
    """The status of GET ``path`` on ``port``, or None when nothing answers there."""
    try:
        connection = http.client.HTTPConnection(host, port, timeout=3)
        connection.request("GET", path)
        status = connection.getresponse().status
        connection.close()
        return status
    except OSError:
        return None


def port_open(port, host="127.0.0.1"):
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


class Server:
    """A process in its own session with its output in a log file; killed as a group."""

    def __init__(self, name, command, log_dir, env=None, cwd=ROOT):
        self.name, self.command, self.env, self.cwd = name, command, env, cwd
        self.log_path = Path(log_dir) / f"{name}.log"
        self.process = None

    def start(self):
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def ensure_running(self):
        if not self.alive():
            pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.log_text()[-3000:]}", pytrace=False)

    def kill(self, sig=signal.SIGKILL):
        """Send ``sig`` to the whole process group (gunicorn's arbiter and its workers)."""
        os.killpg(self.process.pid, sig)
        self.process.wait(timeout=20)

    def stop(self):
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.process is not None:
            self.log.close()


# --- The portal ----------------------------------------------------------------------------------------


_collected = []


def collect_static():
    """The static files a DEBUG=0 portal serves (WhiteNoise's manifest), as the image builds them;
    once per test session."""
    if _collected:
        return
    _collected.append(True)
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "collectstatic-" + "x" * 40}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )


def portal_env(database_url, site_url, **extra):
    """The environment of a production-like portal process (DEBUG off) on ``database_url``."""
    from django.conf import settings

    env = {
        **{key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG", "TZ"}},
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ["REDIS_URL"],
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY if len(settings.SECRET_KEY) >= 50 else "replicas-test-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": site_url,
        "MFA_REQUIRED_FOR_PRIVILEGED": "0",
        "EMAIL_URL": "dummy:",
        "LOG_LEVEL": "WARNING",
    }
    env.update({key: str(value) for key, value in extra.items()})
    return env


def gunicorn(name, port, env, log_dir, workers=1, threads=4):
    """One web replica: ``gunicorn config.wsgi`` on 127.0.0.1:``port``, as the image runs it."""
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--threads", str(threads), "--worker-class", "gthread", "--timeout", "60", "--graceful-timeout", "5",
        "--name", name,
    ]  # fmt: skip
    return Server(name, command, log_dir, env=env).start()


def wait_serving(server, port, timeout=60):
    def up():
        server.ensure_running()
        return answers(port) == 200

    wait_until(up, timeout, lambda: f"{server.name} to answer /health/live:\n{server.log_text()[-3000:]}", 0.2)


# --- HAProxy -------------------------------------------------------------------------------------------

HAPROXY_CONFIG = """\
global
    maxconn 1024
    stats socket {socket} mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A request to a replica that refuses the connection goes to another one.
    retries 2
    option redispatch

frontend portal
    bind 127.0.0.1:{port}
    default_backend web

backend web
    balance roundrobin
    option httpchk GET {check}
    http-check expect status 200
    default-server inter 300ms fastinter 200ms fall 2 rise 2
    http-response set-header X-Served-By %[srv_name]
{servers}
"""


class HAProxy(Server):
    """HAProxy on 127.0.0.1:``port``, round-robin over ``backends`` ({name: port}), each checked on
    ``check``; every answer says which server gave it in ``X-Served-By``."""

    def __init__(self, port, backends, log_dir, check="/health/live"):
        self.port = port
        self.socket_path = Path(log_dir) / "haproxy.sock"
        servers = "\n".join(f"    server {name} 127.0.0.1:{p} check" for name, p in backends.items())
        config = Path(log_dir) / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(socket=self.socket_path, port=port, check=check, servers=servers))
        super().__init__("haproxy", [shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f", str(config)], log_dir)

    def start(self):
        super().start()
        wait_until(lambda: self.ensure_running() or port_open(self.port), 20, "HAProxy to listen")
        return self

    def states(self):
        """{server: status} from HAProxy's stats socket ("UP", "DOWN", ...)."""
        if not self.socket_path.exists():
            return {}  # HAProxy has not opened its stats socket yet
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.socket_path))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        lines = data.decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {row["svname"]: row["status"] for row in rows if row["pxname"] == "web" and row["svname"] != "BACKEND"}


# --- PgBouncer -----------------------------------------------------------------------------------------

PGBOUNCER_CONFIG = """\
[databases]
* = host={host} port={upstream_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {dir}/users.txt
admin_users = {user}
pool_mode = {pool_mode}
default_pool_size = {pool_size}
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
server_reset_query =
pidfile = {dir}/pgbouncer.pid
"""


class PgBouncer(Server):
    """PgBouncer on 127.0.0.1:``port`` in front of ``upstream_host``:``upstream_port`` for every
    database, ``pool_size`` server connections per database and user, trusting the client (as the
    local PostgreSQL does)."""

    def __init__(self, port, upstream_host, upstream_port, user, pool_mode="transaction", pool_size=2):
        self.port, self.user = port, user
        self.dir = server_dir("pgbouncer")
        (self.dir / "users.txt").write_text(f'"{user}" ""\n')
        config = self.dir / "pgbouncer.ini"
        config.write_text(
            PGBOUNCER_CONFIG.format(
                host=upstream_host,
                upstream_port=upstream_port,
                port=port,
                dir=self.dir,
                user=user,
                pool_mode=pool_mode,
                pool_size=pool_size,
            )
        )
        for path in self.dir.iterdir():
            path.chmod(0o644)
        command = as_server_user([shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(config)])
        super().__init__("pgbouncer", command, self.dir)

    def start(self):
        super().start()
        wait_until(lambda: self.ensure_running() or port_open(self.port), 20, "PgBouncer to listen")
        return self

    def show(self, what):
        """Rows of PgBouncer's admin console ``SHOW <what>`` (it speaks the simple protocol only: psql)."""
        result = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", "pgbouncer", "-AF\t", "-c",
             f"SHOW {what}"],
            capture_output=True, text=True, check=True, timeout=20,
        )  # fmt: skip
        lines = [line for line in result.stdout.splitlines() if line and not line.startswith("(")]
        header = lines[0].split("\t")
        return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]

    def stop(self):
        super().stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- A browser's HTTP, without a browser -----------------------------------------------------------------


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        self.served_by = headers.get("X-Served-By")

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return jsonlib.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} from {self.served_by}: {self.text[:200]!r}>"


class Browser:
    """Cookies kept as a browser keeps them, the CSRF token sent with every unsafe request, a new
    connection per request (so a balancer chooses a replica each time), redirects not followed."""

    def __init__(self, port, host="127.0.0.1", headers=None):
        self.port, self.host = port, host
        self.cookies = {}
        self.headers = dict(headers or {})

    def request(self, method, path, form=None, json=None, headers=None, body=None, timeout=30):
        headers = {**self.headers, **(headers or {})}
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json is not None:
            body = jsonlib.dumps(json).encode()
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if method not in {"GET", "HEAD", "OPTIONS"} and "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        headers["Connection"] = "close"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            data = raw.read()
            for value in raw.headers.get_all("Set-Cookie") or ():
                for name, morsel in SimpleCookie(value).items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return Response(raw.status, raw.headers, data)
        finally:
            connection.close()

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def submit(self, path, fields=None):
        """GET the page with a form, then POST ``fields`` with the form's CSRF token, as a browser does."""
        page = self.get(path)
        assert page.status == 200, page
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, f"no CSRF token in the form of {path}"
        return page, self.post(path, form={"csrfmiddlewaretoken": match.group(1), **(fields or {})})

    def sign_in(self, username, password):
        """allauth's sign-in form, CSRF token and all; returns the POST's answer (302 when signed in)."""
        _page, response = self.submit("/accounts/login/", {"login": username, "password": password})
        assert response.status == 302, response
        assert "sessionid" in self.cookies
        return response


def server_database_url(port=None, name=None):
    """The pytest test database's URL (what the subprocesses read), optionally through another port."""
    from django.db import connection

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{port or db['PORT'] or 5432}/{name or db['NAME']}"


def set_real_password(user, password):
    """A password a production process can check: the suite hashes with MD5 for speed, which a
    portal process with the default hashers does not read."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(password, hasher.salt())
    user.save(update_fields=["password"])


# --- Load -----------------------------------------------------------------------------------------------


def wrk(port, key, seconds, connections, path="/api/v1/pledges/?coalition=bench"):
    """One wrk run of GET ``path`` with an API key on 127.0.0.1:``port``; returns (requests/s, non-2xx
    answers, socket errors, requests, CPU seconds of wrk)."""
    started = os.times()
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-H", f"Authorization: Token {key}",
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    )  # fmt: skip
    ended = os.times()
    out = result.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors = sum(int(n) for n in m.groups()) if (m := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)) else 0  # fmt: skip
    wrk_cpu = (ended.children_user - started.children_user) + (ended.children_system - started.children_system)
    return rate, non_2xx, errors, requests, wrk_cpu


# --- A PostgreSQL cluster of our own, and its streaming replica ----------------------------------------


def pg_bin(name):
    """A PostgreSQL program: on PATH, or Debian's /usr/lib/postgresql/<newest>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if not candidates:
        pytest.fail(f"PostgreSQL's {name} is not installed", pytrace=False)
    return str(candidates[-1])


def run_as_server_user(command, **kwargs):
    return subprocess.run(as_server_user(command), capture_output=True, text=True, check=True, timeout=120, **kwargs)


class Cluster:
    """A PostgreSQL cluster in ``directory`` on 127.0.0.1:``port``, started with pg_ctl."""

    def __init__(self, directory, port):
        self.directory, self.port = Path(directory), port

    def start(self):
        run_as_server_user(
            [pg_bin("pg_ctl"), "-D", str(self.directory), "-l", str(self.directory.parent / f"{self.port}.log"),
             "-o", f"-p {self.port} -k {self.directory.parent} -c listen_addresses=127.0.0.1", "-w", "-t", "60",
             "start"]
        )  # fmt: skip
        return self

    def stop(self):
        subprocess.run(
            as_server_user([pg_bin("pg_ctl"), "-D", str(self.directory), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            timeout=60,
        )

    def sql(self, query, database="postgres"):
        """``query`` through psql (one value per line)."""
        result = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-XAtq",
             "-v", "ON_ERROR_STOP=1", "-c", query],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        if result.returncode:
            raise RuntimeError(result.stderr.strip())
        return result.stdout.strip()

    def url(self, database):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"


def primary_and_replica(directory, primary_port, replica_port):
    """A primary (wal_level=replica, a replication role and its hba line) and a hot standby made from
    it by ``pg_basebackup -R``, streaming from it."""
    directory = Path(directory)
    data = directory / "primary"
    run_as_server_user([pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\nmax_connections = 50\n")
    (data / "pg_hba.conf").write_text(
        "local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication replicator 127.0.0.1/32 trust\n"
    )
    primary = Cluster(data, primary_port).start()
    primary.sql("CREATE ROLE replicator WITH REPLICATION LOGIN")
    standby = directory / "replica"
    run_as_server_user(
        [pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary_port), "-U", "replicator", "-D",
         str(standby), "-R", "-X", "stream", "--checkpoint=fast"]
    )  # fmt: skip
    replica = Cluster(standby, replica_port).start()
    wait_until(lambda: replica.sql("SELECT pg_is_in_recovery()") == "t", 30, "the replica to be in recovery")
    return primary, replica
