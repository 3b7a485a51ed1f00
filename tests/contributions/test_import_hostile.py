"""Hostile uploads: bombs are refused before anything is built, and every malformed file gets a message
on the upload page, never a 500, with nothing written."""

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contributions.models import Pledge, PledgeImport
from contributions.spreadsheets import MAX_COLUMNS, MAX_ROWS

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
HEADER = ["member", "title", "amount", "currency", "announced_on"]


def _workbook_bytes(rows=(("EE", "Servers", "100", "EUR", "2024-02-02"),)):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _replace_sheet(data, writer):
    """The workbook ``data`` with its first sheet's XML written by ``writer(stream)`` instead."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                info = zipfile.ZipInfo(item.filename)
                info.compress_type = zipfile.ZIP_DEFLATED
                with target.open(info, "w", force_zip64=True) as stream:
                    writer(stream)
            else:
                target.writestr(item, source.read(item.filename))
    return out.getvalue()


SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def dimension_bomb():
    """The issue's 1.6 KB sheet: ``<dimension ref="A1:XFD1048576">`` and one cell at the last row."""

    def write(stream):
        stream.write(
            SHEET_HEAD + b'<dimension ref="A1:XFD1048576"/><sheetData>'
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>member</t></is></c></row>'
            b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
            b"</sheetData></worksheet>"
        )

    return _replace_sheet(_workbook_bytes(), write)


def undeclared_bomb():
    """The same cell at the last row, but a ``<dimension>`` that lies (A1:E2)."""

    def write(stream):
        stream.write(
            SHEET_HEAD + b'<dimension ref="A1:E2"/><sheetData>'
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>member</t></is></c></row>'
            b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
            b"</sheetData></worksheet>"
        )

    return _replace_sheet(_workbook_bytes(), write)


def deflate_bomb(size=1_150 * 1024 * 1024):
    """A few MB of zip holding ``size`` bytes of sheet XML (one cell of spaces)."""
    chunk = b" " * (4 * 1024 * 1024)

    def write(stream):
        stream.write(SHEET_HEAD + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>')
        for _ in range(size // len(chunk)):
            stream.write(chunk)
        stream.write(b"</t></is></c></row></sheetData></worksheet>")

    return _replace_sheet(_workbook_bytes(), write)


def wide_row():
    """One row of 100,000 cells in a sheet that declares none."""

    def write(stream):
        stream.write(SHEET_HEAD + b'<sheetData><row r="1">' + b"<c><v>1</v></c>" * 100_000 + b"</row>")
        stream.write(b"</sheetData></worksheet>")

    return _replace_sheet(_workbook_bytes(), write)


def broken_xml():
    return _replace_sheet(_workbook_bytes(), lambda stream: stream.write(SHEET_HEAD + b"<sheetData><row><c>"))


def entity_xml():
    def write(stream):
        stream.write(
            b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row></sheetData></worksheet>'
        )

    return _replace_sheet(_workbook_bytes(), write)


def zip_not_a_workbook():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("pledges.csv", "member,title\n")
    return out.getvalue()


HEADER_LINE = ",".join(HEADER)
#: (name, file name, content, words the message must contain)
MALFORMED = [
    ("dimension bomb", "p.xlsx", dimension_bomb, "rows"),
    ("undeclared rows", "p.xlsx", undeclared_bomb, "rows"),
    ("wide row", "p.xlsx", wide_row, "columns"),
    ("broken sheet XML", "p.xlsx", broken_xml, "not well-formed XML"),
    ("entities", "p.xlsx", entity_xml, "DOCTYPE"),
    ("zip, not a workbook", "p.xlsx", zip_not_a_workbook, "not a readable XLSX"),
    ("truncated zip", "p.xlsx", lambda: _workbook_bytes()[:300], "not a readable XLSX"),
    ("NUL byte", "p.csv", lambda: f"{HEADER_LINE}\nEE,Serv\x00ers,100,EUR,2024-02-02\n".encode(), "NUL"),
    (
        "field over 128 KB",
        "p.csv",
        lambda: f'{HEADER_LINE}\nEE,"{"x" * 140_000}",1,EUR,2024-02-02\n'.encode(),
        "Line 2",
    ),
    ("Windows-1251", "p.csv", lambda: f"{HEADER_LINE}\nUA,Сервери,100,EUR,2024-02-02\n".encode("cp1251"), "UTF-8"),
    ("UTF-16", "p.csv", lambda: f"{HEADER_LINE}\n".encode("utf-16"), "UTF-8"),
    ("too many rows", "p.csv", lambda: (HEADER_LINE + "\nEE,a,1,EUR,2024-02-02" * (MAX_ROWS + 1)).encode(), "rows"),
    ("too many columns", "p.csv", lambda: (HEADER_LINE + "," * (MAX_COLUMNS + 5) + "x\n").encode(), "columns"),
    ("a line of separators", "p.csv", lambda: (HEADER_LINE + "\n" + "," * 1_000_000 + "\n").encode(), "columns"),
]


@pytest.mark.parametrize(("case", "filename", "content", "words"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_every_malformed_file_gets_a_message_on_the_upload_page_and_writes_nothing(
    client, secretariat, coalition, member_a, rates, case, filename, content, words
):
    client.force_login(secretariat)
    upload = SimpleUploadedFile(filename, content())
    response = client.post(reverse("pledges:import"), {"coalition": coalition.pk, "file": upload})
    assert response.status_code == 200, case
    errors = " ".join(response.context["form"].errors.get("file", []))
    assert words in errors, (case, errors)
    assert PledgeImport.objects.count() == 0
    assert Pledge.objects.count() == 0


def test_a_bigger_upload_than_the_limit_is_refused_before_it_is_read(secretariat, coalition, monkeypatch):
    from django.core.exceptions import ValidationError

    from contributions import spreadsheets

    class Huge(io.BytesIO):
        size = spreadsheets.MAX_BYTES + 1
        name = "p.csv"

        def read(self, *args):
            raise AssertionError("read before the size was checked")

    with pytest.raises(ValidationError, match="larger than 20 MB"):
        spreadsheets.read_table(Huge())


def test_a_good_workbook_still_reads(secretariat, coalition, member_a, rates):
    from contributions.spreadsheets import read_table

    header, rows = read_table(SimpleUploadedFile("p.xlsx", _workbook_bytes()))
    assert header == HEADER
    assert rows == [
        {
            "row": 2,
            "cells": {
                "member": "EE",
                "title": "Servers",
                "amount": "100",
                "currency": "EUR",
                "announced_on": "2024-02-02",
            },
        }
    ]


MEASURE = """
import json, resource, sys, time
import django
django.setup()
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from contributions.spreadsheets import read_table
data = open(sys.argv[1], "rb").read()
upload = SimpleUploadedFile("bomb.xlsx", data)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    read_table(upload)
    outcome = "read"
except ValidationError as exc:
    outcome = " ".join(exc.messages)
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "grew_mb": (after - before) / 1024, "outcome": outcome}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("bomb", [dimension_bomb, undeclared_bomb, deflate_bomb, wide_row], ids=lambda b: b.__name__)
def test_bombs_are_refused_in_under_two_seconds_and_100_mb_by_a_separate_process(tmp_path, bomb):
    """Measured from outside: a fresh Python process reads the bomb as the upload view does, and
    reports its own peak memory growth (ru_maxrss) and the time of the read."""
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bomb())
    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"{bomb.__name__}: {path.stat().st_size / 1024:,.1f} KB file, {figures}")
    assert figures["outcome"] != "read"
    assert figures["seconds"] < 2, figures
    assert figures["grew_mb"] < 100, figures
