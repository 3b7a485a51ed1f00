"""Backups of the portal's database and the totals that prove a restore brought everything back.

PostgreSQL: ``pg_dump --format=custom`` taken in a snapshot the totals are read in too (the backup
command's transaction exports it, pg_dump uses it), so the ``.totals.json`` written next to the dump
is exactly what the dump holds, even while the portal writes. Restored with ``pg_restore --clean
--if-exists --single-transaction --exit-on-error``: all or nothing. SQLite (``make run``): the sqlite3
backup API, from inside the transaction the totals are read in.
"""

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connections, transaction

from reports.totals import coalition_totals

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore could not be made; the message says why, for the operator."""


def totals_path(backup_path):
    """Where the totals of ``backup_path`` are written: ``<file>.totals.json``."""
    return Path(f"{backup_path}.totals.json")


def _pg_environment(settings_dict):
    """libpq's variables for the configured database (no password on a command line)."""
    env = {**os.environ, "PGDATABASE": settings_dict["NAME"], "PGUSER": settings_dict.get("USER") or ""}
    if settings_dict.get("HOST"):
        env["PGHOST"] = settings_dict["HOST"]
    if settings_dict.get("PORT"):
        env["PGPORT"] = str(settings_dict["PORT"])
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    return env


def _program(name):
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return path


def _run(command, env):
    # The program is found on PATH and every argument comes from the settings or the operator's command.
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed (exit {result.returncode}): {result.stderr.strip()}")


def backup(output, using="default"):
    """Write the database to ``output`` and its totals to ``<output>.totals.json``; the totals."""
    connection = connections[using]
    output = Path(output)
    if connection.vendor == "sqlite" and connection.in_atomic_block:
        # SQLite refuses to copy a database its own connection is writing to, and Python's backup()
        # would retry that for ever.
        raise BackupError("An SQLite backup is made outside any transaction.")
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                (snapshot,) = cursor.fetchone()
            totals = coalition_totals(using)
            command = [_program("pg_dump"), "--format=custom", "--no-owner", f"--snapshot={snapshot}"]
            command += ["-f", str(output)]
            _run(command, _pg_environment(connection.settings_dict))
        elif connection.vendor == "sqlite":
            totals = coalition_totals(using)  # its reads hold the snapshot the copy is made from
            target = sqlite3.connect(output)
            try:
                connection.connection.backup(target)
            finally:
                target.close()
        else:
            raise BackupError(f"No backup for a {connection.vendor} database.")
    totals_path(output).write_text(json.dumps(totals, indent=2, sort_keys=True) + "\n")
    return totals


def backup_kind(path):
    """``"postgresql"`` (a pg_dump custom-format file) or ``"sqlite"``, read from the file's first bytes."""
    with open(path, "rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head.startswith(PG_MAGIC):
        return "postgresql"
    if head == SQLITE_MAGIC:
        return "sqlite"
    raise BackupError(f"{path} is neither a pg_dump custom-format file nor an SQLite database.")


def restore(path, using="default"):
    """Replace the configured database's contents with the backup ``path``, all or nothing."""
    connection = connections[using]
    kind = backup_kind(path)
    if kind != connection.vendor:
        raise BackupError(f"{path} is a {kind} backup; the configured database is {connection.vendor}.")
    connection.close()
    if kind == "postgresql":
        command = [
            _program("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
            "--exit-on-error", "-d", connection.settings_dict["NAME"], str(path),
        ]  # fmt: skip
        _run(command, _pg_environment(connection.settings_dict))
    else:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(connection.settings_dict["NAME"])
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
