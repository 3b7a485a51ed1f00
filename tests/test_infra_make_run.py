"""`make run` as a newcomer sees it, for real: on a fresh database with nothing set, its output after the
install is short and ends with the demo logins and the address the server answers on (slow: it
migrates, imports 27 years of ECB rates and loads the demo, then starts runserver and stops it)."""

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from config.env import CONTRACT

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed"),
    pytest.mark.skipif(not (VENV / ".installed").exists(), reason="the tests do not run in a make-installed .venv"),
]


def free_port():
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bare_environment(tmp_path):
    """This machine's environment with nothing of the portal's set, and a database of its own."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in CONTRACT and not key.startswith(("EMAIL", "REPORTS_", "CELERY_", "MAKE", "DJANGO"))
    }
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    return environment


def make(*args):
    """The make command line for this virtualenv."""
    return ["make", "--no-print-directory", f"VENV={VENV}", *args]


@pytest.fixture
def demo_emails():
    """``new()``: the files make run's demo writes to demo-emails/ (which may hold a developer's own),
    removed afterwards."""
    directory = ROOT / "demo-emails"
    before = set(directory.glob("*")) if directory.exists() else set()

    def new():
        return set(directory.glob("*")) - before if directory.exists() else set()

    new.directory = directory
    yield new
    for path in new():
        path.unlink()


def test_make_run_prints_under_80_lines_ending_with_the_logins_and_the_address(tmp_path, demo_emails):
    environment = bare_environment(tmp_path)
    port = free_port()
    address = f"http://127.0.0.1:{port}/"
    # make run installs first; that is done already here, and counted apart if it is not.
    subprocess.run(make("install"), cwd=ROOT, env=environment, check=True, capture_output=True, timeout=600)

    process = subprocess.Popen(
        make("run", f"PORT={port}"),
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines, pending = [], queue.Queue()
    threading.Thread(target=lambda: [pending.put(line) for line in process.stdout], daemon=True).start()
    try:
        deadline = time.monotonic() + 300
        while not any(line.startswith("Quit the server with") for line in lines):
            assert process.poll() is None, "make run stopped:\n" + "".join(lines)
            assert time.monotonic() < deadline, "make run did not start the server within 300 s:\n" + "".join(lines)
            try:
                lines.append(pending.get(timeout=1))
            except queue.Empty:
                continue
        with urllib.request.urlopen(f"{address}accounts/login/", timeout=30) as response:  # noqa: S310 - our server
            assert response.status == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    # What a newcomer reads before the first request (runserver then logs each request).
    output = [line.rstrip("\n") for line in lines]
    text = "\n".join(output)

    assert len(output) < 80, text
    assert "No hostname was supplied" not in text
    assert "Content-Type:" not in text, "a report email reached the console"
    logins = output.index(f"Demo logins ({address}accounts/login/):")
    table = output[logins + 1 : logins + 11]
    assert [row.split("|")[1].strip() for row in table if row.startswith("| ")][1:] == [
        "admin",
        "secretariat",
        "editor-ee",
        "editor-lu",
        "steering",
        "partner",
    ]
    after = [line for line in output[logins + 11 :] if line.strip()]
    assert len(after) <= 10, f"more than runserver's banner after the logins:\n{text}"
    assert f"Starting development server at {address}" in after[-2]
    assert after[-1] == "Quit the server with CONTROL-C."
    (summary,) = [line for line in output if f"written to {demo_emails.directory}/ instead of the console" in line]
    written = sum(path.read_text().count("\nSubject: ") for path in demo_emails())
    assert summary.startswith(f"{written} report emails")
