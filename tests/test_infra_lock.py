"""The locks: requirements.txt and requirements-dev.txt pin the whole tree with hashes, follow the
requirements*.in files they are compiled from, and are what the virtualenv holds. A fresh install from
the runtime lock gives the same packages every time (slow: it builds two virtualenvs)."""

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent
#: What a virtualenv holds besides the lock: the installer itself.
INSTALLER = {"pip", "setuptools", "wheel"}


def requirements(path):
    """The requirements of a requirements file, ``-r``/``-c`` lines, comments and hashes left out."""
    text = path.read_text().replace("\\\n", " ")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [Requirement(line.split(" --hash")[0]) for line in lines if line and not line.startswith("-")]


def pins(path, *, here_only=False):
    """``{canonical name: version}`` of a lock (only the packages whose markers hold here, if asked)."""
    found = {}
    for requirement in requirements(path):
        if here_only and requirement.marker is not None and not requirement.marker.evaluate():
            continue
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{requirement} in {path.name} is not pinned"
        found[canonicalize_name(requirement.name)] = specifier.version
    return found


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-dev.txt"])
def test_every_line_of_a_lock_is_pinned_and_hashed(lock):
    text = (ROOT / lock).read_text()
    entries = [entry for entry in text.replace("\\\n", " ").splitlines() if entry and not entry.startswith(("#", " "))]

    assert len(entries) == len(pins(ROOT / lock)) > 20
    assert all(" --hash=sha256:" in entry for entry in entries)


@pytest.mark.parametrize(
    ("source", "lock"), [("requirements.in", "requirements.txt"), ("requirements-dev.in", "requirements-dev.txt")]
)
def test_each_lock_holds_what_its_in_file_asks_for(source, lock):
    locked = pins(ROOT / lock)
    asked = requirements(ROOT / source)
    if source == "requirements-dev.in":
        asked += requirements(ROOT / "requirements.in")

    stale = [str(r) for r in asked if not r.specifier.contains(locked.get(canonicalize_name(r.name), "0"))]
    assert not stale, f"{lock} does not hold {stale}: run make lock"


def test_the_development_lock_holds_the_runtime_packages_at_the_runtime_versions():
    runtime, development = pins(ROOT / "requirements.txt"), pins(ROOT / "requirements-dev.txt")

    assert {name: development.get(name) for name in runtime} == runtime


def test_this_virtualenv_holds_the_development_lock():
    """make install-dev installed the lock: every package at its locked version (and, under CI, whose
    virtualenv is new, nothing else)."""
    locked = pins(ROOT / "requirements-dev.txt", here_only=True)
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}

    assert {name: installed.get(name) for name in locked} == locked, "run make install-dev"
    if IN_CI:
        assert set(installed) - set(locked) - INSTALLER == set()


def _fresh_install(venv):
    """A new virtualenv at ``venv`` with the runtime lock installed; returns its sorted ``pip freeze``."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "install", "--require-hashes", "-r", str(ROOT / "requirements.txt")], check=True, timeout=600)
    freeze = subprocess.run([*pip, "freeze"], check=True, capture_output=True, text=True, timeout=120).stdout
    return sorted(line for line in freeze.splitlines() if line)


@pytest.mark.slow
def test_a_fresh_install_from_the_runtime_lock_gives_the_same_freeze_twice(tmp_path):
    first, second = _fresh_install(tmp_path / "one"), _fresh_install(tmp_path / "two")

    assert first == second
    frozen = {canonicalize_name(line.split("==")[0]): line.split("==")[1] for line in first}
    assert {name: version for name, version in frozen.items() if name not in INSTALLER} == pins(
        ROOT / "requirements.txt", here_only=True
    )
